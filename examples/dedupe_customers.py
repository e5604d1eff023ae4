"""Agent story over stdio: find customers that share an email, merge them into one, delete the rest.

Launches `square-customers-mcp` the way an MCP host does, against a throwaway local sandbox
(SQUARE_SANDBOX_DB in a temp dir, no Square token, nothing leaves the machine), then:

1. seeds customers with bulk_create_customers, some of them duplicates by email, and puts the
   duplicates in different customer groups (add_group_to_customer);
2. lists every customer (list_customers, following next_cursor) and groups them by email;
3. for each duplicated email, fetches the full set with search_customers (exact email), keeps the
   oldest profile, merges the others' notes, missing fields and group memberships into it
   (update_customer with version, add_group_to_customer);
4. deletes the others with delete_customer and their version, so a profile that changed since
   it was read is never lost: the example changes one behind its back, gets CONFLICT, re-reads,
   merges the new note and retries.

Run: python examples/dedupe_customers.py   (exit 0 when the directory has no duplicates left)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

VIP = "SANDBOXGROUPVIP00000000001"  # groups every local sandbox starts with
NEWSLETTER = "SANDBOXGROUPNEWSLETTER0002"
WHOLESALE = "SANDBOXGROUPWHOLESALE00003"
GROUP_NAMES = {VIP: "VIP", NEWSLETTER: "Newsletter", WHOLESALE: "Wholesale"}
MERGE_FIELDS = ("given_name", "family_name", "company_name", "phone_number", "reference_id")

# The profiles people made by hand, one at a time ...
ORIGINALS: list[dict[str, Any]] = [
    {"given_name": "Amelia", "family_name": "Earhart", "email_address": "amelia@example.com"},
    {"given_name": "Ben", "family_name": "Okafor", "email_address": "ben@example.com"},
    {"given_name": "Chloe", "family_name": "Martin", "email_address": "chloe@example.com", "note": "Loyalty member."},
]
# ... and a later bulk import (idempotency key -> profile) that duplicated two of them.
IMPORTED: dict[str, dict[str, Any]] = {
    "import-row-1": {
        "given_name": "Amelia",
        "email_address": "Amelia@Example.com",  # exact email search ignores case, as on Square
        "phone_number": "+1 415 555 0101",
        "note": "Prefers the window seat.",
    },
    "import-row-2": {"given_name": "A.", "family_name": "Earhart", "email_address": "amelia@example.com"},
    "import-row-3": {
        "company_name": "Okafor Bikes",
        "email_address": "ben@example.com",
        "note": "Orders every spring.",
    },
}
# Import row -> groups: memberships that must survive the merge.
IMPORTED_GROUPS = {"import-row-1": [VIP], "import-row-2": [NEWSLETTER], "import-row-3": [WHOLESALE]}


def server_command() -> str:
    """The console script next to this Python (a venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("square-customers-mcp")
    found = str(beside) if beside.exists() else shutil.which("square-customers-mcp")
    if not found:
        sys.exit("square-customers-mcp not found: pip install -e . first")
    return found


class ToolError(RuntimeError):
    pass


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Call a tool and return its structured result; a tool error (what the model would read) raises."""
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        text = result.content[0].text if result.content and result.content[0].type == "text" else "?"
        raise ToolError(f"{tool}: {text}")
    return result.structured_content or {}


async def all_customers(client: Client) -> list[dict[str, Any]]:
    customers: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"limit": 2, "sort_field": "CREATED_AT"}  # small pages to show paging
    while True:
        page = await call(client, "list_customers", arguments)
        customers += page.get("customers", [])
        if "next_cursor" not in page:
            return customers
        arguments["cursor"] = page["next_cursor"]


def label(customer: dict[str, Any]) -> str:
    name = " ".join(customer.get(k, "") for k in ("given_name", "family_name")).strip()
    return f"{customer['id']} ({name or customer.get('company_name', '?')})"


async def seed(client: Client) -> None:
    for profile in ORIGINALS:
        await call(client, "create_customer", profile)
    created = await call(client, "bulk_create_customers", {"customers": IMPORTED})
    ids = {key: customer["id"] for key, customer in created["customers"].items()}
    for key, groups in IMPORTED_GROUPS.items():
        for group_id in groups:
            await call(client, "add_group_to_customer", {"customer_id": ids[key], "group_id": group_id})
    print(f"seeded {len(ORIGINALS)} customers, then imported {len(ids)} duplicates of two of them")


async def merge(client: Client, email: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Fold every duplicate's data into the oldest profile; return it and the duplicates to delete."""
    query = {"filter": {"email_address": {"exact": email}}, "sort": {"field": "CREATED_AT", "order": "ASC"}}
    matches = (await call(client, "search_customers", {"query": query}))["customers"]
    survivor, others = matches[0], matches[1:]
    print(f"  keeping {label(survivor)}, the oldest")
    changes: dict[str, Any] = {}
    for field in MERGE_FIELDS:  # fill only what the survivor lacks: never overwrite its data
        value = next((c[field] for c in others if c.get(field)), None)
        if value and not survivor.get(field):
            changes[field] = value
    notes = [c["note"] for c in matches if c.get("note")]
    if notes and len(notes) > (1 if survivor.get("note") else 0):
        changes["note"] = "\n".join(dict.fromkeys(notes))
    if changes:
        updated = await call(
            client, "update_customer", {"customer_id": survivor["id"], "version": survivor["version"], **changes}
        )
        survivor = updated["customer"]
        print(f"  merged {sorted(changes)} into {label(survivor)}")
    for group_id in sorted({g for c in others for g in c.get("group_ids", [])} - set(survivor.get("group_ids", []))):
        await call(client, "add_group_to_customer", {"customer_id": survivor["id"], "group_id": group_id})
        print(f"  added {label(survivor)} to group {GROUP_NAMES.get(group_id, group_id)}")
    return survivor, others


async def delete_checked(client: Client, survivor: dict[str, Any], duplicate: dict[str, Any]) -> None:
    """Delete at the version we merged from; on CONFLICT re-read, merge its new note, retry once."""
    try:
        await call(client, "delete_customer", {"customer_id": duplicate["id"], "version": duplicate["version"]})
    except ToolError as error:
        if "CONFLICT" not in str(error):
            raise
        print(f"  refused: {str(error).split(': ', 1)[1]}")
        fresh = (await call(client, "retrieve_customer", {"customer_id": duplicate["id"]}))["customer"]
        current = (await call(client, "retrieve_customer", {"customer_id": survivor["id"]}))["customer"]
        if fresh.get("note") and fresh["note"] not in current.get("note", ""):
            note = "\n".join(n for n in (current.get("note"), fresh["note"]) if n)
            await call(
                client, "update_customer", {"customer_id": current["id"], "version": current["version"], "note": note}
            )
            print(f"  merged the new note into {label(current)}")
        await call(client, "delete_customer", {"customer_id": fresh["id"], "version": fresh["version"]})
        duplicate = fresh
    print(f"  deleted {label(duplicate)} at version {duplicate['version']}")


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        params = StdioServerParameters(
            command=server_command(),
            args=["--log-level", "WARNING"],  # keep the server's stderr quiet; stdout is the protocol
            env={"SQUARE_SANDBOX_DB": str(Path(tmp) / "customers.db")},
        )
        async with Client(params) as client:
            await seed(client)
            customers = await all_customers(client)
            by_email: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for customer in customers:
                by_email[customer.get("email_address", "").lower()].append(customer)
            duplicated = {email: group for email, group in by_email.items() if email and len(group) > 1}
            print(f"listed {len(customers)} customers: {len(duplicated)} emails used more than once")

            raced = False
            for email in sorted(duplicated):
                print(f"{email}: {len(duplicated[email])} profiles")
                survivor, others = await merge(client, email)
                for duplicate in others:
                    if not raced:  # another user edits this duplicate after we read it
                        await call(
                            client,
                            "update_customer",
                            {"customer_id": duplicate["id"], "note": "Called on Tuesday about a refund."},
                        )
                        raced = True
                    await delete_checked(client, survivor, duplicate)

            remaining = await all_customers(client)
            emails = [c.get("email_address", "").lower() for c in remaining]
            left = len(emails) - len(set(emails))
            print(f"done: {len(customers)} -> {len(remaining)} customers, {left or 'no'} duplicate emails left")
            for customer in remaining:
                groups = ", ".join(GROUP_NAMES.get(g, g) for g in customer.get("group_ids", [])) or "no groups"
                note = customer.get("note", "").replace("\n", " / ")
                print(f"  {label(customer)} <{customer['email_address']}> [{groups}] {note}".rstrip())
            return 0 if not left and len(remaining) == len(ORIGINALS) else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main))
