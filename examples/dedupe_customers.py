"""Agent story over stdio: find customers that share an email, merge them into one, delete the rest.

Launches `square-customers-mcp` the way an MCP host does, against a throwaway local API
(SQUARE_SANDBOX_DB in a temp dir, no Square token, nothing leaves the machine), then:

1. finds the customer groups by name (list_customer_groups), seeds customers with
   bulk_create_customers, some of them duplicates by email, and puts the duplicates in different
   customer groups (add_group_to_customer);
2. lists every customer (list_customers, following next_cursor) and groups them by email;
3. for each duplicated email, fetches the full set with search_customers (exact email), keeps the
   oldest profile, merges the others' notes, missing fields and group memberships into it
   (update_customer with version, add_group_to_customer, which returns the new version);
4. deletes the others with delete_customer and their version, so a profile that changed since
   it was read is never lost: the example changes one behind its back, gets CONFLICT, re-reads,
   merges the new note (a versioned update at the version the group change returned) and retries.

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

MERGE_FIELDS = ("given_name", "family_name", "company_name", "phone_number", "reference_id")

# The profiles people made by hand, one at a time ...
ORIGINALS: list[dict[str, Any]] = [
    {"given_name": "Amelia", "family_name": "Earhart", "email_address": "amelia@example.com"},
    {"given_name": "Ben", "family_name": "Okafor", "email_address": "ben@example.com"},
    {"given_name": "Chloe", "family_name": "Martin", "email_address": "chloe@example.com", "note": "Loyalty member."},
]
# ... and a later bulk import (one entry per row, keyed so a retried import never duplicates) that
# duplicated two of them.
IMPORTED: list[dict[str, Any]] = [
    {
        "idempotency_key": "import-row-1",
        "given_name": "Amelia",
        "email_address": "Amelia@Example.com",  # exact email search ignores case, as on Square
        "phone_number": "+1 415 555 0101",
        "note": "Prefers the window seat.",
    },
    {
        "idempotency_key": "import-row-2",
        "given_name": "A.",
        "family_name": "Earhart",
        "email_address": "amelia@example.com",
    },
    {
        "idempotency_key": "import-row-3",
        "company_name": "Okafor Bikes",
        "email_address": "ben@example.com",
        "note": "Orders every spring.",
    },
]
# Import row -> group names: memberships that must survive the merge.
IMPORTED_GROUPS = {"import-row-1": ["VIP"], "import-row-2": ["Newsletter"], "import-row-3": ["Wholesale"]}
GROUP_NAMES: dict[str, str] = {}  # group id -> name, from list_customer_groups


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


async def find_groups(client: Client) -> dict[str, str]:
    """Group name -> id: an agent never guesses ids, it looks them up (following next_cursor)."""
    by_name: dict[str, str] = {}
    arguments: dict[str, Any] = {}
    while True:
        page = await call(client, "list_customer_groups", arguments)
        by_name |= {group["name"]: group["id"] for group in page.get("groups", [])}
        if "next_cursor" not in page:
            GROUP_NAMES.update({group_id: name for name, group_id in by_name.items()})
            print(f"found {len(by_name)} customer groups: {', '.join(sorted(by_name))}")
            return by_name
        arguments["cursor"] = page["next_cursor"]


async def seed(client: Client, groups: dict[str, str]) -> None:
    for profile in ORIGINALS:
        await call(client, "create_customer", profile)
    created = await call(client, "bulk_create_customers", {"customers": IMPORTED})
    if created["failed"]:
        raise ToolError(f"bulk_create_customers: {created['errors']}")
    # The created customers come back in entry order.
    ids = {
        entry["idempotency_key"]: customer["id"] for entry, customer in zip(IMPORTED, created["customers"], strict=True)
    }
    for key, names in IMPORTED_GROUPS.items():
        for name in names:
            await call(client, "add_group_to_customer", {"customer_id": ids[key], "group_id": groups[name]})
    print(f"seeded {len(ORIGINALS)} customers, then imported {len(ids)} duplicates of two of them")


async def merge(client: Client, email: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Fold every duplicate's data into the oldest profile; return it and the duplicates to delete."""
    search = {"filter": {"email_address": {"exact": email}}, "sort_field": "CREATED_AT", "sort_order": "ASC"}
    matches = (await call(client, "search_customers", search))["customers"]
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
        added = await call(client, "add_group_to_customer", {"customer_id": survivor["id"], "group_id": group_id})
        # A membership change bumps the version; the result says the new one, so no re-read is needed.
        survivor = {**survivor, "version": added["version"], "group_ids": [*survivor.get("group_ids", []), group_id]}
        print(
            f"  added {label(survivor)} to group {GROUP_NAMES.get(group_id, group_id)} (now version {added['version']})"
        )
    return survivor, others


async def delete_checked(client: Client, survivor: dict[str, Any], duplicate: dict[str, Any]) -> dict[str, Any]:
    """Delete at the version we merged from; on CONFLICT re-read, merge its new note, retry once.
    Returns the survivor as it is now."""
    try:
        await call(client, "delete_customer", {"customer_id": duplicate["id"], "version": duplicate["version"]})
    except ToolError as error:
        if "CONFLICT" not in str(error):
            raise
        print(f"  refused: {str(error).split(': ', 1)[1]}")
        fresh = (await call(client, "retrieve_customer", {"customer_id": duplicate["id"]}))["customer"]
        if fresh.get("note") and fresh["note"] not in survivor.get("note", ""):
            note = "\n".join(n for n in (survivor.get("note"), fresh["note"]) if n)
            # The survivor's version is the one the last write returned: this update is not refused.
            updated = await call(
                client, "update_customer", {"customer_id": survivor["id"], "version": survivor["version"], "note": note}
            )
            survivor = updated["customer"]
            print(f"  merged the new note into {label(survivor)}")
        await call(client, "delete_customer", {"customer_id": fresh["id"], "version": fresh["version"]})
        duplicate = fresh
    print(f"  deleted {label(duplicate)} at version {duplicate['version']}")
    return survivor


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        params = StdioServerParameters(
            command=server_command(),
            args=["--log-level", "WARNING"],  # keep the server's stderr quiet; stdout is the protocol
            env={"SQUARE_SANDBOX_DB": str(Path(tmp) / "customers.db")},
        )
        async with Client(params) as client:
            await seed(client, await find_groups(client))
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
                    survivor = await delete_checked(client, survivor, duplicate)

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
