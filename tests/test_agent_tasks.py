"""Tasks an agent is given in words, done over MCP (in-memory client, both protocol eras) against the
in-process sandbox using only what tools/list and the results say: no group, segment or customer id
comes from the test, and every outcome is checked against the sandbox itself."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult
from starlette.types import Receive, Scope, Send

from square_customers_mcp.app import build_server
from square_customers_mcp.backend import SandboxTransport
from square_customers_mcp.config import Settings
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.retry import RetryPolicy
from square_customers_mcp.sandbox import create_app
from square_customers_mcp.sandbox.faults import FaultInjector, FaultSpec
from square_customers_mcp.sandbox.seed import REGULARS_SEGMENT_ID, generate, segment_ids_of
from square_customers_mcp.square_client import SquareClient

pytestmark = pytest.mark.anyio
ERAS = pytest.mark.parametrize("mode", ["auto", "legacy"])
SEEDED = 200
Call = Callable[[str, dict[str, Any]], Coroutine[Any, Any, CallToolResult]]


@asynccontextmanager
async def agent_session(mode: str, *, seed: int = 0, lose_answers: list[bool] | None = None) -> AsyncIterator[Call]:
    """An MCP client on a fresh sandbox. While `lose_answers[0]` is true, Square applies each write and
    the answer is lost on the way back (a dropped connection), as after a network failure."""
    app = create_app(":memory:", seed=seed)
    lossy = FaultInjector(app, FaultSpec.parse("drop_after=1"))

    async def sandbox(scope: Scope, receive: Receive, send: Send) -> None:
        await (lossy if lose_answers and lose_answers[0] else app)(scope, receive, send)

    policy = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0)
    square = SquareClient(Settings(), transport=SandboxTransport(app=sandbox), retry=policy)
    try:
        async with Client(build_server(Dispatcher(square)), mode=mode, raise_exceptions=True) as client:

            async def call(name: str, args: dict[str, Any]) -> CallToolResult:
                return await client.call_tool(name, args)

            yield call
    finally:
        await square.aclose()
        app.state.store.close()


async def ok(call: Call, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await call(name, args)
    assert not result.is_error, (name, result.content)
    assert result.structured_content is not None
    return result.structured_content


def text(result: CallToolResult) -> str:
    assert result.content and result.content[0].type == "text"
    return result.content[0].text


@ERAS
async def test_add_ada_to_the_vip_group_then_update_her_at_the_version_it_returned(mode: str) -> None:
    async with agent_session(mode) as call:
        await ok(call, "create_customer", {"given_name": "Ada", "family_name": "Lovelace", "email_address": "ada@x.io"})
        await ok(call, "create_customer", {"given_name": "Alan", "family_name": "Turing", "email_address": "al@x.io"})

        # "Add Ada to the VIP group": who is Ada, and which id does the group called VIP have?
        ada = (await ok(call, "search_customers", {"filter": {"email_address": {"exact": "ada@x.io"}}}))["customers"]
        assert [c["given_name"] for c in ada] == ["Ada"]
        groups = (await ok(call, "list_customer_groups", {}))["groups"]
        vip = [group["id"] for group in groups if group["name"] == "VIP"]
        assert len(vip) == 1, groups
        added = await ok(call, "add_group_to_customer", {"customer_id": ada[0]["id"], "group_id": vip[0]})
        assert added == {"member": True, "version": ada[0]["version"] + 1}

        # The version the agent read before the change is stale now ...
        stale = await call("update_customer", {"customer_id": ada[0]["id"], "note": "VIP since today", "version": 0})
        assert stale.is_error and text(stale).startswith("CONFLICT (version)")
        # ... and the one the membership change returned is current: no conflict, no extra retrieve.
        updated = await ok(
            call,
            "update_customer",
            {"customer_id": ada[0]["id"], "note": "VIP since today", "version": added["version"]},
        )
        assert updated["customer"]["version"] == added["version"] + 1
        assert updated["customer"]["note"] == "VIP since today" and updated["customer"]["group_ids"] == vip

        in_vip = await ok(call, "search_customers", {"filter": {"group_ids": {"any": vip}}})
        assert [c["given_name"] for c in in_vip["customers"]] == ["Ada"]


async def all_pages(call: Call, args: dict[str, Any]) -> list[dict[str, Any]]:
    customers: list[dict[str, Any]] = []
    page = await ok(call, "search_customers", args)
    customers += page["customers"]
    pages = 1
    while "next_cursor" in page:
        page = await ok(call, "search_customers", {**args, "cursor": page["next_cursor"]})
        customers += page["customers"]
        pages += 1
    assert pages > 1, "more Regulars than one default page of 25: the paging is part of the task"
    return customers


@ERAS
async def test_find_the_customers_in_the_regulars_segment(mode: str) -> None:
    expected = {customer["id"] for customer, _ in generate(SEEDED) if REGULARS_SEGMENT_ID in segment_ids_of(customer)}
    assert 25 < len(expected) < SEEDED
    async with agent_session(mode, seed=SEEDED) as call:
        segments = (await ok(call, "list_customer_segments", {}))["segments"]
        regulars = [segment["id"] for segment in segments if segment["name"] == "Regulars"]
        assert len(regulars) == 1 and {"Reachable", "Lapsed"} <= {s["name"] for s in segments}
        # Segment ids are not in a list's default view: `fields` asks for them, to check each match.
        found = await all_pages(call, {"filter": {"segment_ids": {"any": regulars}}, "fields": ["segment_ids"]})
        unknown = await call("search_customers", {"filter": {"segment_ids": {"any": ["SANDBOXMERCH1.NO_SUCH"]}}})
    assert [c["id"] for c in found if regulars[0] not in c["segment_ids"]] == []
    assert len(found) == len({c["id"] for c in found}) and {c["id"] for c in found} == expected
    assert unknown.is_error and "SANDBOXMERCH1.NO_SUCH" in text(unknown)


@ERAS
async def test_create_retried_with_the_same_idempotency_key_never_duplicates(mode: str) -> None:
    ada = {"given_name": "Ada", "family_name": "Lovelace", "email_address": "ada@x.io"}
    lose_answers = [True]
    async with agent_session(mode, lose_answers=lose_answers) as call:
        # Every answer is lost: the server's own retries resend its key, then it tells the model the key.
        lost = await call("create_customer", ada)
        assert lost.is_error and "The outcome is unknown" in text(lost)
        key = re.search(r"idempotency_key '([^']+)'", text(lost))
        assert key, text(lost)

        lose_answers[0] = False
        # The model does as told, twice over; a third call with another key is a genuinely new customer.
        first = await ok(call, "create_customer", {**ada, "idempotency_key": key.group(1)})
        second = await ok(call, "create_customer", {**ada, "idempotency_key": key.group(1)})
        assert first == second and set(first) == {"customer"}
        matches = await ok(call, "search_customers", {"filter": {"email_address": {"exact": "ada@x.io"}}})
        assert [c["id"] for c in matches["customers"]] == [first["customer"]["id"]]

        other = await ok(call, "create_customer", {**ada, "idempotency_key": "another-key"})
        listed = await ok(call, "list_customers", {"count": True})
    assert other["customer"]["id"] != first["customer"]["id"]
    assert listed["count"] == 2
