"""SQUARE_CONFIRM_DESTRUCTIVE: destructive calls ask the human through elicitation, in both protocol
eras, and send nothing unless the human accepts; the model cannot approve on the human's behalf."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.types import ElicitRequestParams, ElicitResult

from server.app import build_server
from server.config import Settings
from server.dispatcher import Dispatcher
from server.square_client import SquareClient

pytestmark = pytest.mark.anyio
ERAS = pytest.mark.parametrize("mode", ["auto", "legacy"])
CONFIRMED_TOOLS = {
    "delete_customer": {"customer_id": "C1", "version": 3},
    "bulk_delete_customers": {"customer_ids": ["C1", "C2"]},
    "bulk_update_customers": {"customers": {"C1": {"note": "x"}}},
    "delete_customer_card": {"customer_id": "C1", "card_id": "ccof:1"},
    "remove_group_from_customer": {"customer_id": "C1", "group_id": "G1"},
}
ANSWER = {"responses": {"C1": {}, "C2": {}}}
UPDATED = {"responses": {"C1": {"customer": {"id": "C1", "version": 1, "note": "x"}}}}


class Human:
    """Answers every elicitation the same way, and remembers what it was asked."""

    def __init__(self, action: str, confirm: bool | None = True) -> None:
        self.action, self.confirm = action, confirm
        self.asked: list[str] = []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.asked.append(params.message)
        content = {"confirm": self.confirm} if self.action == "accept" else None
        return ElicitResult(action=self.action, content=content)


@asynccontextmanager
async def connected(mode: str, human: Human | None) -> AsyncIterator[tuple[Client, list[httpx.Request]]]:
    sent: list[httpx.Request] = []

    def square(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=UPDATED if request.url.path.endswith("bulk-update") else ANSWER)

    client = SquareClient(Settings(access_token="tok", environment="sandbox"), transport=httpx.MockTransport(square))
    server = build_server(Dispatcher(client), confirm_destructive=True)
    async with Client(server, mode=mode, raise_exceptions=True, elicitation_callback=human) as mcp_client:
        yield mcp_client, sent


@ERAS
@pytest.mark.parametrize("name", CONFIRMED_TOOLS)
async def test_accepted_calls_go_through(mode: str, name: str) -> None:
    human = Human("accept")
    async with connected(mode, human) as (client, sent):
        result = await client.call_tool(name, CONFIRMED_TOOLS[name])
    assert not result.is_error, result.content
    assert len(human.asked) == 1 and name in human.asked[0]
    assert len(sent) == 1


@ERAS
@pytest.mark.parametrize(
    ("human", "reason"),
    [(Human("decline"), "the user declined it"), (Human("cancel"), "dismissed"), (Human("accept", False), "declined")],
    ids=["decline", "cancel", "accept-unticked"],
)
async def test_declined_or_cancelled_calls_send_nothing(mode: str, human: Human, reason: str) -> None:
    async with connected(mode, human) as (client, sent):
        result = await client.call_tool("delete_customer", {"customer_id": "C1"})
    assert result.is_error
    assert reason in result.content[0].text and "nothing was sent" in result.content[0].text
    assert sent == []


@ERAS
async def test_a_client_that_cannot_ask_gets_a_clear_error(mode: str) -> None:
    async with connected(mode, None) as (client, sent):
        result = await client.call_tool("bulk_delete_customers", {"customer_ids": ["C1"]})
    assert result.is_error
    assert "cannot ask the user" in result.content[0].text
    assert sent == []


@ERAS
async def test_non_destructive_and_invalid_calls_ask_nobody(mode: str) -> None:
    human = Human("accept")
    async with connected(mode, human) as (client, sent):
        await client.call_tool("retrieve_customer", {"customer_id": "C1"})
        invalid = await client.call_tool("delete_customer", {"customer_id": "C1", "version": -1})
    assert human.asked == []
    assert invalid.is_error and "$.version" in invalid.content[0].text
    assert len(sent) == 1


@ERAS
async def test_the_model_cannot_approve_through_arguments(mode: str) -> None:
    async with connected(mode, Human("decline")) as (client, sent):
        result = await client.call_tool("delete_customer", {"customer_id": "C1", "confirm": True})
    assert result.is_error and "confirm" in result.content[0].text
    assert sent == []


async def test_an_answer_for_other_arguments_approves_nothing() -> None:
    """A 2026-07-28 retry carrying an accepted answer but another call's request state is declined."""
    from mcp.server.context import ServerRequestContext
    from mcp.types import CallToolRequestParams

    from server.confirm import Confirmer
    from tools import TOOLS_BY_NAME

    class Session:
        def check_client_capability(self, capability: object) -> bool:
            return True

    class Ctx:
        protocol_version = "2026-07-28"
        session = Session()

    confirmer = Confirmer()
    tool = TOOLS_BY_NAME["delete_customer"]
    asked = confirmer._modern(Ctx(), CallToolRequestParams(name=tool.name, arguments={"customer_id": "A"}),
                              tool, {"customer_id": "A"})  # fmt: skip
    assert not isinstance(asked, str)
    accepted = ElicitResult(action="accept", content={"confirm": True})
    forged = CallToolRequestParams(
        name=tool.name,
        arguments={"customer_id": "B"},
        input_responses={"confirm": accepted},
        request_state=asked.request_state,
    )
    ctx: ServerRequestContext[Any] = Ctx()
    # The answer was for A: for B it approves nothing, and the human is asked about B.
    again = confirmer._modern(ctx, forged, tool, {"customer_id": "B"})
    assert not isinstance(again, str) and again.request_state != asked.request_state
    genuine = forged.model_copy(update={"arguments": {"customer_id": "A"}})
    assert confirmer._modern(ctx, genuine, tool, {"customer_id": "A"}) == "accept"
    # Another process, without a shared secret, asks again rather than calling the answer a decline.
    assert not isinstance(Confirmer()._modern(ctx, genuine, tool, {"customer_id": "A"}), str)
    # Replicas sharing SQUARE_MCP_HTTP_TOKEN verify each other's states.
    one, two = Confirmer("shared-token-1"), Confirmer("shared-token-1")
    state = one._modern(ctx, CallToolRequestParams(name=tool.name, arguments={"customer_id": "A"}), tool,
                        {"customer_id": "A"})  # fmt: skip
    assert not isinstance(state, str)
    answered = genuine.model_copy(update={"request_state": state.request_state})
    assert two._modern(ctx, answered, tool, {"customer_id": "A"}) == "accept"


def test_the_question_counts_bulk_entries_and_shows_them() -> None:
    from server.confirm import question
    from tools import TOOLS_BY_NAME

    ids = [f"C{i:025d}" for i in range(100)]
    text = question(TOOLS_BY_NAME["bulk_delete_customers"], {"customer_ids": ids})
    assert "on 100 customers" in text
    assert ids[0] in text and ids[-1] in text
