"""End to end: the MCP tools against the embedded sandbox, through the same HTTP path as Square."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from square_customers_mcp.app import build_server
from square_customers_mcp.backend import open_backend
from square_customers_mcp.config import Settings
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.sandbox.seed import VIP_GROUP_ID

pytestmark = pytest.mark.anyio
GRACE: dict[str, Any] = {
    "given_name": "Grace",
    "family_name": "Hopper",
    "email_address": "grace@navy.example",
    "phone_number": "+1 202 555 0143",
    "birthday": "12-09",
    "address": {"address_line_1": "1 Navy Way", "locality": "Arlington", "country": "US"},
}


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_create_search_update_group_card_delete_story(mode: str) -> None:
    async with open_backend(Settings.from_env({"SQUARE_SANDBOX_DB": ":memory:"})) as backend:
        server = build_server(Dispatcher(backend.client))
        async with Client(server, mode=mode, raise_exceptions=True) as client:

            async def call(name: str, args: dict[str, Any]) -> dict[str, Any]:
                result = await client.call_tool(name, args)
                assert not result.is_error, (name, result.content)
                assert result.structured_content is not None
                return result.structured_content

            async def fails(name: str, args: dict[str, Any]) -> str:
                result = await client.call_tool(name, args)
                assert result.is_error, (name, result.structured_content)
                return result.content[0].text

            created = await call("create_customer", {**GRACE, "idempotency_key": "grace-1"})
            assert set(created) == {"customer"}  # no idempotency key spent on a success
            grace = created["customer"]
            assert grace["version"] == 0 and grace["birthday"] == "12-09"
            assert grace["address"] == "1 Navy Way, Arlington, US"

            # Retrying with the same key never makes a second Grace.
            again = await call("create_customer", {**GRACE, "idempotency_key": "grace-1"})
            assert again["customer"]["id"] == grace["id"]

            found = await call("search_customers", {"filter": {"email_address": {"fuzzy": "navy"}}})
            assert [c["id"] for c in found["customers"]] == [grace["id"]]

            updated = await call(
                "update_customer",
                {"customer_id": grace["id"], "note": "Admiral", "clear": ["phone_number"], "version": 0},
            )
            assert updated["customer"]["version"] == 1
            assert updated["customer"]["note"] == "Admiral" and "phone_number" not in updated["customer"]
            assert updated["customer"]["family_name"] == "Hopper" and updated["customer"]["birthday"] == "12-09"

            # A strict adapter's call: every property present, null or empty where the model said nothing.
            strict = {"customer_id": grace["id"], "given_name": None, "family_name": None, "company_name": "",
                      "nickname": None, "email_address": None, "phone_number": None, "address": None,
                      "birthday": None, "reference_id": None, "note": "Rear Admiral", "eu_vat": None, "clear": [],
                      "version": 1}  # fmt: skip
            kept = (await call("update_customer", strict))["customer"]
            assert kept["note"] == "Rear Admiral" and kept["version"] == 2
            assert {k: kept[k] for k in ("given_name", "family_name", "email_address", "birthday", "address")} == {
                "given_name": "Grace", "family_name": "Hopper", "email_address": "grace@navy.example",
                "birthday": "12-09", "address": "1 Navy Way, Arlington, US",
            }  # fmt: skip

            stale = await fails("update_customer", {"customer_id": grace["id"], "note": "x", "version": 0})
            assert stale.startswith("CONFLICT (version)") and "retrieve the customer" in stale
            nothing = await fails("update_customer", {"customer_id": grace["id"], "version": 2})
            assert "name at least one field to change" in nothing
            both = await fails("update_customer", {"customer_id": grace["id"], "note": "x", "clear": ["note"]})
            assert "$.clear: note is both set and cleared" in both

            added = await call("add_group_to_customer", {"customer_id": grace["id"], "group_id": VIP_GROUP_ID})
            assert added == {"member": True, "version": 3}
            vips = await call("search_customers", {"filter": {"group_ids": {"all": [VIP_GROUP_ID]}}})
            assert grace["id"] in [c["id"] for c in vips["customers"]]
            missing_group = await fails(
                "add_group_to_customer", {"customer_id": grace["id"], "group_id": "NOPE0000000000000000000000"}
            )
            assert missing_group.startswith("NOT_FOUND") and "list_customer_groups" in missing_group
            missing_segment = await fails("search_customers", {"filter": {"segment_ids": {"any": ["NOPE.SEGMENT"]}}})
            assert missing_segment.startswith("BAD_REQUEST") and "list_customer_segments" in missing_segment

            card = (await call("create_customer_card", {"customer_id": grace["id"], "card_nonce": "cnon:card-nonce-ok",
                                                        "cardholder_name": "Grace Hopper"}))["card"]  # fmt: skip
            assert card["id"].startswith("ccof:") and card["last_4"] == "1111"
            declined = await fails(
                "create_customer_card", {"customer_id": grace["id"], "card_nonce": "cnon:card-nonce-declined"}
            )
            assert declined.startswith("CARD_DECLINED")
            unlinked = await call("delete_customer_card", {"customer_id": grace["id"], "card_id": card["id"]})
            assert unlinked == {"deleted": True}

            removed = await call("remove_group_from_customer", {"customer_id": grace["id"], "group_id": VIP_GROUP_ID})
            current = (await call("retrieve_customer", {"customer_id": grace["id"]}))["customer"]
            assert "group_ids" not in current
            assert removed == {"member": False, "version": current["version"]}

            # The version the removal returned is current: a versioned delete goes through.
            deleted = await call("delete_customer", {"customer_id": grace["id"], "version": removed["version"]})
            assert deleted == {"deleted": True}
            gone = await fails("retrieve_customer", {"customer_id": grace["id"]})
            assert gone.startswith("NOT_FOUND")


async def test_bulk_tools_against_the_sandbox() -> None:
    async with open_backend(Settings.from_env({"SQUARE_SANDBOX_DB": ":memory:"})) as backend:
        dispatcher = Dispatcher(backend.client)

        async def call(name: str, args: dict[str, Any]) -> dict[str, Any]:
            result = await dispatcher.call(name, args)
            assert not result.is_error, (name, result.content)
            assert result.structured_content is not None
            return result.structured_content

        entries = [{"given_name": f"Bulk{i}", "email_address": f"b{i}@example.com"} for i in range(30)]
        made = await call("bulk_create_customers", {"customers": entries})
        assert (made["succeeded"], made["failed"], "errors" in made) == (30, 0, False)
        assert [c["given_name"] for c in made["customers"]] == [f"Bulk{i}" for i in range(30)]  # entry order
        ids = [c["id"] for c in made["customers"]]

        first = await call("list_customers", {"count": True})
        assert len(first["customers"]) == 25 and first["count"] == 30 and first["next_cursor"]
        rest = await call("list_customers", {"cursor": first["next_cursor"]})
        assert len(rest["customers"]) == 5 and "next_cursor" not in rest
        assert {c["id"] for c in first["customers"] + rest["customers"]} == set(ids)

        missing = "MISSINGMISSINGMISSING00000"
        got = await call("bulk_retrieve_customers", {"customer_ids": [*ids[:5], missing]})
        assert got["succeeded"] == 5 and got["failed"] == 1
        assert sorted(c["id"] for c in got["customers"]) == sorted(ids[:5])
        assert got["errors"][missing].startswith("NOT_FOUND")

        changes = [{"customer_id": i, "note": "imported"} for i in ids[:4]]
        changes.append({"customer_id": ids[4], "note": "no email", "clear": ["email_address"]})
        changed = await call("bulk_update_customers", {"customers": changes})
        by_id = {c["id"]: c for c in changed["customers"]}
        assert changed["succeeded"] == 5 and {c["note"] for c in changed["customers"]} == {"imported", "no email"}
        assert "email_address" not in by_id[ids[4]] and by_id[ids[0]]["email_address"] == "b0@example.com"
        assert all(c["version"] == 1 for c in changed["customers"])

        removed = await call("bulk_delete_customers", {"customer_ids": [*ids, missing]})
        assert (
            removed["succeeded"] == 30 and removed["failed"] == 1 and set(removed) == {"succeeded", "failed", "errors"}
        )
        assert list(removed["errors"]) == [missing]
        listed = await call("list_customers", {"count": True})
        assert listed == {"customers": [], "count": 0}
