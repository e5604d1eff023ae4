"""The tasks of bench_workload.py: what the user asks, how the scripted agent does it, how the sandbox shows it done.

Each task's `run` may use only the tool list, the results and the facts a user would type (an email, a name,
a new phone number, ids pasted from elsewhere); its `check` reads the sandbox over raw HTTP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from _workload_agent import (
    JSON,
    Conversation,
    Sandbox,
    all_pages,
    bulk_entries,
    clearing,
    compact,
    customers_in,
    digits,
    find_by_email,
    id_by_name,
    search_args,
    versioned,
)

# --- The facts a user would type, picked once from the seeded data ------------------------------------------


@dataclass
class Facts:
    by_task: dict[str, JSON]
    """Original customer (raw Square JSON) each single-customer task works on."""
    retrieve_ids: list[str]
    update_ids: list[str]

    @classmethod
    async def pick(cls, sandbox: Sandbox) -> Facts:
        """Distinct customers per task, chosen deterministically so every series and surface gets the same."""
        pool = sorted(await sandbox.everyone(), key=lambda c: c["id"])
        vip = await sandbox.id_named("groups", "VIP")
        wants: dict[str, Callable[[JSON], bool]] = {
            "find_by_email": lambda c: "phone_number" in c,
            "update_phone": lambda c: c["version"] > 0 and "phone_number" in c,  # a guessed 0 would fail
            "add_to_vip": lambda c: vip not in c.get("group_ids", []),
            "vip_then_note": lambda c: vip not in c.get("group_ids", []) and "note" not in c,
            "delete": lambda c: c["version"] > 0,
            "clear_note": lambda c: "note" in c and "phone_number" in c and "birthday" in c,
            "retrieve": lambda c: "address" in c and "birthday" in c,
        }
        taken: set[str] = set()
        by_task: dict[str, JSON] = {}
        for task, wanted in wants.items():
            chosen = next(c for c in pool if c["id"] not in taken and "email_address" in c and wanted(c))
            by_task[task] = chosen
            taken.add(chosen["id"])
        rest = [c["id"] for c in pool if c["id"] not in taken]
        return cls(by_task, retrieve_ids=rest[:3], update_ids=rest[3:6])

    def email(self, task: str) -> str:
        return str(self.by_task[task]["email_address"])

    def summary(self) -> JSON:
        return {
            "customers": {task: c["id"] for task, c in self.by_task.items()},
            "bulk_retrieve": self.retrieve_ids,
            "bulk_update": self.update_ids,
        }


# --- The tasks ----------------------------------------------------------------------------------------------

NEW_PHONE = "+14155550199"
GRACE = {"given_name": "Grace", "family_name": "Hopper", "email_address": "grace.hopper@workload.example"}
GRACE_PHONE = "+12025550142"
IMPORTS = [
    {"given_name": "Edith", "family_name": "Clarke", "email_address": "edith.clarke@workload.example"},
    {"given_name": "Mary", "family_name": "Jackson", "email_address": "mary.jackson@workload.example"},
    {"given_name": "Annie", "family_name": "Easley", "email_address": "annie.easley@workload.example"},
]
Q1_2024 = ("2024-01-01T00:00:00Z", "2024-04-01T00:00:00Z")
PROMO_NOTE = "Spring promo sent"
VIP_NOTE = "VIP since the spring event"

Run = Callable[[Conversation, Facts], Awaitable[Any]]
Check = Callable[[Sandbox, Facts, Any], Awaitable[str | None]]
"""None when the sandbox shows the task done (and the answer right), else what is wrong."""


@dataclass(frozen=True)
class Task:
    name: str
    prompt: str
    run: Run
    check: Check


async def run_find(conv: Conversation, f: Facts) -> Any:
    return await find_by_email(conv, f.email("find_by_email"))


async def check_find(sb: Sandbox, f: Facts, answer: Any) -> str | None:
    [stored] = await sb.by_email(f.email("find_by_email"))
    ok = answer["id"] == stored["id"] and digits(answer.get("phone_number")) == digits(stored["phone_number"])
    return None if ok else f"answered {answer}, stored {stored['id']} {stored['phone_number']}"


async def run_create(conv: Conversation, f: Facts) -> Any:
    return await conv.call("create_customer", {**GRACE, "phone_number": GRACE_PHONE})


async def check_create(sb: Sandbox, f: Facts, answer: Any) -> str | None:
    stored = await sb.by_email(GRACE["email_address"])
    if len(stored) != 1:
        return f"{len(stored)} customers with the new email"
    ok = stored[0].get("family_name") == "Hopper" and digits(stored[0].get("phone_number")) == digits(GRACE_PHONE)
    return None if ok else f"stored {stored[0]}"


async def run_update_phone(conv: Conversation, f: Facts) -> Any:
    found = await find_by_email(conv, f.email("update_phone"))
    args = {"customer_id": found["id"], "phone_number": NEW_PHONE, **versioned(conv, "update_customer", found)}
    return await conv.call("update_customer", args)


async def check_update_phone(sb: Sandbox, f: Facts, answer: Any) -> str | None:
    before = f.by_task["update_phone"]
    now = await sb.customer(before["id"])
    if now is None or digits(now.get("phone_number")) != digits(NEW_PHONE):
        return f"phone not changed: {now and now.get('phone_number')}"
    return None if now["version"] > before["version"] else "version did not move"


async def run_add_to_vip(conv: Conversation, f: Facts) -> Any:
    found = await find_by_email(conv, f.email("add_to_vip"))
    group_id = await id_by_name(conv, "list_customer_groups", "groups", "VIP")
    return await conv.call("add_group_to_customer", {"customer_id": found["id"], "group_id": group_id})


async def check_in_vip(sb: Sandbox, f: Facts, task: str) -> str | None:
    now = await sb.customer(f.by_task[task]["id"])
    vip = await sb.id_named("groups", "VIP")
    return None if now and vip in now.get("group_ids", []) else "not in VIP"


async def check_add_to_vip(sb: Sandbox, f: Facts, answer: Any) -> str | None:
    return await check_in_vip(sb, f, "add_to_vip")


async def run_vip_then_note(conv: Conversation, f: Facts) -> Any:
    found = await find_by_email(conv, f.email("vip_then_note"))
    group_id = await id_by_name(conv, "list_customer_groups", "groups", "VIP")
    added = await conv.call("add_group_to_customer", {"customer_id": found["id"], "group_id": group_id})
    # Joining a group moves the version: use the one the result gives, or fetch it; never reuse the old one.
    current = added if "version" in added else (await conv.call("retrieve_customer", {"customer_id": found["id"]}))
    current = current.get("customer", current)
    args = {"customer_id": found["id"], "note": VIP_NOTE, **versioned(conv, "update_customer", current)}
    return await conv.call("update_customer", args)


async def check_vip_then_note(sb: Sandbox, f: Facts, answer: Any) -> str | None:
    now = await sb.customer(f.by_task["vip_then_note"]["id"])
    if now is None or now.get("note") != VIP_NOTE:
        return "note not set"
    return await check_in_vip(sb, f, "vip_then_note")


async def run_bulk_create(conv: Conversation, f: Facts) -> Any:
    # The map-shaped surface needs a key per entry; the array one generates them, so the agent sends none.
    entries = [{"idempotency_key": f"import-{i}", **person} for i, person in enumerate(IMPORTS)]
    args = bulk_entries(conv, "bulk_create_customers", entries, "idempotency_key", key_optional=True)
    return await conv.call("bulk_create_customers", args)


async def check_bulk_create(sb: Sandbox, f: Facts, answer: Any) -> str | None:
    everyone = await sb.everyone()
    counts = [sum(c.get("email_address") == p["email_address"] for c in everyone) for p in IMPORTS]
    return None if counts == [1, 1, 1] else f"stored counts {counts}"


async def run_first_page(conv: Conversation, f: Facts) -> Any:
    page = await conv.call("list_customers", {"sort_field": "CREATED_AT", "sort_order": "DESC"})
    return {"ids": [c["id"] for c in customers_in(page)], "more": bool(page.get("next_cursor"))}


async def check_first_page(sb: Sandbox, f: Facts, answer: Any) -> str | None:
    newest = [c["id"] for c in await sb.everyone(sort_field="CREATED_AT", sort_order="DESC")]
    ids = answer["ids"]
    ok = ids and ids == newest[: len(ids)] and answer["more"] == (len(newest) > len(ids))
    return None if ok else "not the newest customers in order"


async def run_date_range(conv: Conversation, f: Facts) -> Any:
    filt = {"created_at": {"start_at": Q1_2024[0], "end_at": Q1_2024[1]}}
    pages = await all_pages(conv, "search_customers", search_args(conv, filt))
    return sorted(c["id"] for page in pages for c in customers_in(page))


async def check_date_range(sb: Sandbox, f: Facts, answer: Any) -> str | None:
    # RFC 3339 UTC strings with the same layout compare in time order.
    start, end = Q1_2024[0][:19], Q1_2024[1][:19]
    expected = sorted(c["id"] for c in await sb.everyone() if start <= c["created_at"][:19] < end)
    return None if answer == expected else f"{len(answer)} ids, expected {len(expected)}"


async def run_retrieve(conv: Conversation, f: Facts) -> Any:
    return (await conv.call("retrieve_customer", {"customer_id": f.by_task["retrieve"]["id"]}))["customer"]


async def check_retrieve(sb: Sandbox, f: Facts, answer: Any) -> str | None:
    stored = await sb.customer(f.by_task["retrieve"]["id"])
    assert stored is not None
    wanted = ("id", "email_address", "birthday", "version")
    missing = [k for k in wanted if answer.get(k) != stored.get(k)]
    if str(stored["address"].get("locality")) not in compact(answer.get("address")):
        missing.append("address")
    return f"differs on {missing}" if missing else None


async def run_bulk_retrieve(conv: Conversation, f: Facts) -> Any:
    result = await conv.call("bulk_retrieve_customers", {"customer_ids": f.retrieve_ids})
    return sorted(c["id"] for c in customers_in(result))


async def check_bulk_retrieve(sb: Sandbox, f: Facts, answer: Any) -> str | None:
    return None if answer == sorted(f.retrieve_ids) else f"got {answer}"


async def run_delete(conv: Conversation, f: Facts) -> Any:
    found = await find_by_email(conv, f.email("delete"))
    return await conv.call("delete_customer", {"customer_id": found["id"], **versioned(conv, "delete_customer", found)})


async def check_delete(sb: Sandbox, f: Facts, answer: Any) -> str | None:
    return None if await sb.customer(f.by_task["delete"]["id"]) is None else "still there"


async def run_segment(conv: Conversation, f: Facts) -> Any:
    segment_id = await id_by_name(conv, "list_customer_segments", "segments", "Regulars")
    pages = await all_pages(conv, "search_customers", search_args(conv, {"segment_ids": {"any": [segment_id]}}))
    return sorted(c["id"] for page in pages for c in customers_in(page))


async def check_segment(sb: Sandbox, f: Facts, answer: Any) -> str | None:
    segment_id = await sb.id_named("segments", "Regulars")
    if segment_id is None:
        return "the sandbox has no Regulars segment"
    expected = sorted(c["id"] for c in await sb.everyone() if segment_id in c.get("segment_ids", []))
    return None if answer == expected else f"{len(answer)} ids, expected {len(expected)}"


async def run_clear_note(conv: Conversation, f: Facts) -> Any:
    found = await find_by_email(conv, f.email("clear_note"))
    args = {"customer_id": found["id"], **clearing(conv, "update_customer", "note")}
    return await conv.call("update_customer", args | versioned(conv, "update_customer", found))


async def check_clear_note(sb: Sandbox, f: Facts, answer: Any) -> str | None:
    before = f.by_task["clear_note"]
    now = await sb.customer(before["id"])
    if now is None or "note" in now:
        return "note still there"
    kept = ("given_name", "family_name", "email_address", "phone_number", "address", "birthday", "group_ids")
    lost = [k for k in kept if now.get(k) != before.get(k)]
    return f"also changed {lost}" if lost else None


async def run_bulk_update(conv: Conversation, f: Facts) -> Any:
    entries = [{"customer_id": customer_id, "note": PROMO_NOTE} for customer_id in f.update_ids]
    return await conv.call("bulk_update_customers", bulk_entries(conv, "bulk_update_customers", entries, "customer_id"))


async def check_bulk_update(sb: Sandbox, f: Facts, answer: Any) -> str | None:
    notes = [(await sb.customer(i) or {}).get("note") for i in f.update_ids]
    return None if notes == [PROMO_NOTE] * 3 else f"notes {notes}"


TASKS = (
    Task("find by email", "What's the phone number of <email>?", run_find, check_find),
    Task("create", "Add Grace Hopper, grace.hopper@…, +1 202 555 0142.", run_create, check_create),
    Task(
        "update phone (with version)", "<email> has a new phone: +1 415 555 0199.", run_update_phone, check_update_phone
    ),
    Task("add to group VIP (by name)", "Add <email> to the VIP group.", run_add_to_vip, check_add_to_vip),
    Task(
        "VIP, then a note (version)",
        "Add <email> to VIP and note 'VIP since…'.",
        run_vip_then_note,
        check_vip_then_note,
    ),
    Task("bulk create 3", "Add these three customers: …", run_bulk_create, check_bulk_create),
    Task("first page, newest first", "Show our newest customers.", run_first_page, check_first_page),
    Task("created in a date range", "Who joined in Q1 2024?", run_date_range, check_date_range),
    Task("retrieve by id", "Show customer <id> in full.", run_retrieve, check_retrieve),
    Task("bulk retrieve 3", "Show customers <id>, <id>, <id>.", run_bulk_retrieve, check_bulk_retrieve),
    Task("delete (with version)", "Delete <email>.", run_delete, check_delete),
    Task("segment Regulars (by name)", "Which customers are Regulars?", run_segment, check_segment),
    Task("clear a note", "Erase the note on <email>.", run_clear_note, check_clear_note),
    Task("bulk update 3 notes", "Note 'Spring promo sent' on <id>, <id>, <id>.", run_bulk_update, check_bulk_update),
)
