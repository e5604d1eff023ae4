"""End to end: the MCP tools against the embedded sandbox, through the same HTTP path as Square."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from server.app import build_server
from server.backend import open_backend
from server.config import Settings
from server.dispatcher import Dispatcher
from server.sandbox.seed import VIP_GROUP_ID

pytestmark = pytest.mark.anyio


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

            created = await call(
                "create_customer",
                {"given_name": "Grace", "family_name": "Hopper", "email_address": "grace@navy.example",
                 "phone_number": "+1 202 555 0143", "birthday": "12-09",
                 "address": {"address_line_1": "1 Navy Way", "locality": "Arlington", "country": "US"}},
            )  # fmt: skip
            grace = created["customer"]
            assert grace["version"] == 0 and grace["birthday"] == "12-09"
            assert grace["address"] == "1 Navy Way, Arlington, US"

            # Retrying with the key that came back never makes a second Grace.
            again = await call("create_customer", {"given_name": "Grace", "family_name": "Hopper",
                                                   "email_address": "grace@navy.example",
                                                   "phone_number": "+1 202 555 0143", "birthday": "12-09",
                                                   "address": {"address_line_1": "1 Navy Way",
                                                               "locality": "Arlington", "country": "US"},
                                                   "idempotency_key": created["idempotency_key"]})  # fmt: skip
            assert again["customer"]["id"] == grace["id"]

            found = await call("search_customers", {"query": {"filter": {"email_address": {"fuzzy": "navy"}}}})
            assert [c["id"] for c in found["customers"]] == [grace["id"]]

            updated = await call(
                "update_customer", {"customer_id": grace["id"], "note": "Admiral", "phone_number": None, "version": 0}
            )
            assert updated["customer"]["version"] == 1
            assert updated["customer"]["note"] == "Admiral" and "phone_number" not in updated["customer"]

            stale = await fails("update_customer", {"customer_id": grace["id"], "note": "x", "version": 0})
            assert stale.startswith("CONFLICT (version)") and "retrieve the customer" in stale

            await call("add_group_to_customer", {"customer_id": grace["id"], "group_id": VIP_GROUP_ID})
            vips = await call("search_customers", {"query": {"filter": {"group_ids": {"all": [VIP_GROUP_ID]}}}})
            assert grace["id"] in [c["id"] for c in vips["customers"]]
            missing_group = await fails("add_group_to_customer", {"customer_id": grace["id"], "group_id": "NOPE"})
            assert missing_group.startswith("NOT_FOUND")

            card = (await call("create_customer_card", {"customer_id": grace["id"], "card_nonce": "cnon:card-nonce-ok",
                                                        "cardholder_name": "Grace Hopper"}))["card"]  # fmt: skip
            assert card["id"].startswith("ccof:") and card["last_4"] == "1111"
            declined = await fails(
                "create_customer_card", {"customer_id": grace["id"], "card_nonce": "cnon:card-nonce-declined"}
            )
            assert declined.startswith("CARD_DECLINED")
            await call("delete_customer_card", {"customer_id": grace["id"], "card_id": card["id"]})

            await call("remove_group_from_customer", {"customer_id": grace["id"], "group_id": VIP_GROUP_ID})
            current = (await call("retrieve_customer", {"customer_id": grace["id"]}))["customer"]
            assert "group_ids" not in current

            deleted = await call("delete_customer", {"customer_id": grace["id"], "version": current["version"]})
            assert deleted == {"deleted": True, "customer_id": grace["id"]}
            gone = await fails("retrieve_customer", {"customer_id": grace["id"]})
            assert gone.startswith("NOT_FOUND")


async def test_bulk_tools_against_the_sandbox() -> None:
    async with open_backend(Settings.from_env({"SQUARE_SANDBOX_DB": ":memory:"})) as backend:
        dispatcher = Dispatcher(backend.client)
        made = await dispatcher.call(
            "bulk_create_customers",
            {
                "customers": {
                    f"k{i}": {"given_name": f"Bulk{i}", "email_address": f"b{i}@example.com"} for i in range(5)
                }
            },
        )
        assert made.structured_content is not None and made.structured_content["succeeded"] == 5
        ids = [c["id"] for c in made.structured_content["customers"].values()]
        got = await dispatcher.call("bulk_retrieve_customers", {"customer_ids": [*ids, "MISSINGMISSINGMISSING00000"]})
        assert got.structured_content is not None
        assert got.structured_content["succeeded"] == 5 and got.structured_content["failed"] == 1
        assert got.structured_content["errors"]["MISSINGMISSINGMISSING00000"].startswith("NOT_FOUND")
        changed = await dispatcher.call("bulk_update_customers", {"customers": {i: {"note": "imported"} for i in ids}})
        assert changed.structured_content is not None
        assert {c["note"] for c in changed.structured_content["customers"]} == {"imported"}
        removed = await dispatcher.call("bulk_delete_customers", {"customer_ids": ids})
        assert removed.structured_content is not None and sorted(removed.structured_content["deleted"]) == sorted(ids)
        listed = await dispatcher.call("list_customers", {"count": True})
        assert listed.structured_content == {"customers": [], "count": 0}
