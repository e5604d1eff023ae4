"""SQUARE_CONFIRM_DESTRUCTIVE: destructive calls ask the human through elicitation, in both protocol
eras, and send nothing unless the human accepts; the model cannot approve on the human's behalf."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from fakes import MakeFakeSquare
from mcp import Client
from mcp.types import ElicitRequestParams, ElicitResult

from square_customers_mcp.app import build_server
from square_customers_mcp.config import Settings
from square_customers_mcp.tools import TOOLS, TOOLS_BY_NAME

pytestmark = pytest.mark.anyio
ERAS = pytest.mark.parametrize("mode", ["auto", "legacy"])
CONFIRMED_TOOLS = {
    "delete_customer": {"customer_id": "C1", "version": 3},
    "bulk_delete_customers": {"customer_ids": ["C1", "C2"]},
    "bulk_update_customers": {"customers": [{"customer_id": "C1", "note": "x"}]},
    "update_customer": {"customer_id": "C1", "clear": ["note"], "version": 3},
    "delete_customer_card": {"customer_id": "C1", "card_id": "ccof:1"},
    "remove_group_from_customer": {"customer_id": "C1", "group_id": "G1"},
}
ANSWER = {"responses": {"C1": {}, "C2": {}}}
UPDATED = {"responses": {"C1": {"customer": {"id": "C1", "version": 1, "note": "x"}}}}
CUSTOMER = {"customer": {"id": "C1", "version": 4}}


class Human:
    """Answers every elicitation the same way, and remembers what it was asked."""

    def __init__(self, action: str, confirm: bool | None = True) -> None:
        self.action, self.confirm = action, confirm
        self.asked: list[str] = []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.asked.append(params.message)
        content = {"confirm": self.confirm} if self.action == "accept" else None
        return ElicitResult(action=self.action, content=content)


Connect = Callable[[str, Human | None], AbstractAsyncContextManager[tuple[Client, list[httpx.Request]]]]


def square(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("bulk-update"):
        return httpx.Response(200, json=UPDATED)
    # update_customer's answer, and the GET after a group removal that reads the new version.
    return httpx.Response(200, json=CUSTOMER if request.method in ("GET", "PUT") else ANSWER)


@pytest.fixture
def connected(fake_square: MakeFakeSquare) -> Connect:
    @asynccontextmanager
    async def connect(mode: str, human: Human | None) -> AsyncIterator[tuple[Client, list[httpx.Request]]]:
        fake = fake_square(square, settings=Settings(access_token="tok", environment="sandbox"))
        server = build_server(fake.dispatcher(), confirm_destructive=True)
        async with Client(server, mode=mode, raise_exceptions=True, elicitation_callback=human) as mcp_client:
            yield mcp_client, fake.requests

    return connect


def test_every_destructive_tool_and_only_those_ask_for_confirmation() -> None:
    assert {t.name for t in TOOLS if t.needs_confirmation} == set(CONFIRMED_TOOLS)
    assert {t.name for t in TOOLS if t.destructive} == set(CONFIRMED_TOOLS)
    assert TOOLS_BY_NAME["update_customer"].needs_confirmation


@ERAS
@pytest.mark.parametrize("name", CONFIRMED_TOOLS)
async def test_accepted_calls_go_through(mode: str, name: str, connected: Connect) -> None:
    human = Human("accept")
    async with connected(mode, human) as (client, sent):
        result = await client.call_tool(name, CONFIRMED_TOOLS[name])
    assert not result.is_error, result.content
    assert len(human.asked) == 1 and name in human.asked[0]
    # The call itself, then (group removal) the GET that reads the customer's new version.
    tool = TOOLS_BY_NAME[name]
    assert [r.method for r in sent] == [tool.method, *(["GET"] if tool.follow_up else [])]


@ERAS
async def test_an_update_that_clears_a_field_is_asked_about_and_declined_sends_nothing(
    mode: str, connected: Connect
) -> None:
    human = Human("decline")
    async with connected(mode, human) as (client, sent):
        result = await client.call_tool("update_customer", CONFIRMED_TOOLS["update_customer"])
    assert result.is_error and "the user declined it" in result.content[0].text
    assert len(human.asked) == 1 and "update_customer" in human.asked[0] and '"clear": ["note"]' in human.asked[0]
    assert sent == []


@ERAS
async def test_a_strict_shaped_update_is_asked_about_as_what_it_will_do(mode: str, connected: Connect) -> None:
    """The nulls and empty strings a strict adapter adds mean "not given": the human must not see them as erasures."""
    shaped = {name: None for name in TOOLS_BY_NAME["update_customer"].input_schema["properties"]}
    shaped |= {"customer_id": "C1", "note": "hi", "email_address": "", "clear": []}
    human = Human("decline")
    async with connected(mode, human) as (client, sent):
        await client.call_tool("update_customer", shaped)
    assert len(human.asked) == 1 and sent == []
    assert '{"customer_id": "C1", "note": "hi"}' in human.asked[0]
    assert "null" not in human.asked[0] and "email_address" not in human.asked[0]


@ERAS
@pytest.mark.parametrize(
    ("human", "reason"),
    [(Human("decline"), "the user declined it"), (Human("cancel"), "dismissed"), (Human("accept", False), "declined")],
    ids=["decline", "cancel", "accept-unticked"],
)
async def test_declined_or_cancelled_calls_send_nothing(
    mode: str, human: Human, reason: str, connected: Connect
) -> None:
    async with connected(mode, human) as (client, sent):
        result = await client.call_tool("delete_customer", {"customer_id": "C1"})
    assert result.is_error
    assert reason in result.content[0].text and "nothing was sent" in result.content[0].text
    assert sent == []


@ERAS
async def test_a_client_that_cannot_ask_gets_a_clear_error(mode: str, connected: Connect) -> None:
    async with connected(mode, None) as (client, sent):
        result = await client.call_tool("bulk_delete_customers", {"customer_ids": ["C1"]})
    assert result.is_error
    assert "cannot ask the user" in result.content[0].text
    assert sent == []


@ERAS
async def test_non_destructive_and_invalid_calls_ask_nobody(mode: str, connected: Connect) -> None:
    human = Human("accept")
    async with connected(mode, human) as (client, sent):
        await client.call_tool("retrieve_customer", {"customer_id": "C1"})
        invalid = await client.call_tool("delete_customer", {"customer_id": "C1", "version": -1})
    assert human.asked == []
    assert invalid.is_error and "$.version" in invalid.content[0].text
    assert len(sent) == 1


@ERAS
async def test_the_model_cannot_approve_through_arguments(mode: str, connected: Connect) -> None:
    async with connected(mode, Human("decline")) as (client, sent):
        result = await client.call_tool("delete_customer", {"customer_id": "C1", "confirm": True})
    assert result.is_error and "confirm" in result.content[0].text
    assert sent == []


async def test_an_answer_for_other_arguments_approves_nothing() -> None:
    """A 2026-07-28 retry carrying an accepted answer but another call's request state is declined."""
    from mcp.server.context import ServerRequestContext
    from mcp.types import CallToolRequestParams

    from square_customers_mcp.confirm import Confirmer

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
    from square_customers_mcp.confirm import question

    ids = [f"C{i:025d}" for i in range(100)]
    text = question(TOOLS_BY_NAME["bulk_delete_customers"], {"customer_ids": ids})
    assert "on 100 customers" in text
    assert ids[0] in text and ids[-1] in text
    entries = [{"customer_id": f"C{i}", "note": "x"} for i in range(3)]
    assert "on 3 customers" in question(TOOLS_BY_NAME["bulk_update_customers"], {"customers": entries})
