"""SQUARE_CONFIRM_DESTRUCTIVE: destructive calls ask the human through elicitation, in both protocol
eras, and send nothing unless the human accepts; the model cannot approve on the human's behalf."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from fakes import MakeFakeSquare
from mcp import Client
from mcp.server.context import ServerRequestContext
from mcp.types import CallToolRequestParams, ElicitRequestParams, ElicitResult, InputRequiredResult

from square_customers_mcp.app import build_server
from square_customers_mcp.config import Settings
from square_customers_mcp.confirm import MAX_QUESTION, Confirmer, question
from square_customers_mcp.tools import TOOLS, TOOLS_BY_NAME, ToolSpec

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


Connect = Callable[..., AbstractAsyncContextManager[tuple[Client, list[httpx.Request]]]]
"""connect(mode, human, confirmer=None): a client of a confirming server, and what reached Square."""


def square(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("bulk-update"):
        return httpx.Response(200, json=UPDATED)
    # update_customer's answer, and the GET after a group removal that reads the new version.
    return httpx.Response(200, json=CUSTOMER if request.method in ("GET", "PUT") else ANSWER)


@pytest.fixture
def connected(fake_square: MakeFakeSquare) -> Connect:
    @asynccontextmanager
    async def connect(
        mode: str, human: Human | None, confirmer: Confirmer | None = None
    ) -> AsyncIterator[tuple[Client, list[httpx.Request]]]:
        fake = fake_square(square, settings=Settings(access_token="tok", environment="sandbox"))
        server = build_server(fake.dispatcher(), confirm_destructive=True, confirmer=confirmer)
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
    assert len(human.asked) == 1 and "update_customer" in human.asked[0] and "\n  erase: note\n" in human.asked[0]
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
    assert 'Customer C1:\n  note: "hi"\nAllow it?' in human.asked[0]
    assert "null" not in human.asked[0] and "email_address" not in human.asked[0] and "erase" not in human.asked[0]


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


class _Session:
    def check_client_capability(self, capability: object) -> bool:
        return True


class _Ctx:
    """What Confirmer._modern reads of a 2026-07-28 request context."""

    protocol_version = "2026-07-28"
    session = _Session()


CTX: ServerRequestContext[Any] = _Ctx()
DELETE = TOOLS_BY_NAME["delete_customer"]
ACCEPTED = ElicitResult(action="accept", content={"confirm": True})


def asked(confirmer: Confirmer, args: dict[str, Any], tool: ToolSpec = DELETE) -> InputRequiredResult:
    """The question `confirmer` asks about a first call with `args`."""
    result = confirmer._modern(
        CTX, CallToolRequestParams(name=tool.name, arguments=args), tool, args, question(tool, args)
    )
    assert isinstance(result, InputRequiredResult)
    return result


def answered(
    confirmer: Confirmer, args: dict[str, Any], state: str | None, tool: ToolSpec = DELETE
) -> str | InputRequiredResult:
    """What `confirmer` makes of a retry of the call with `args`, an accepted answer and `state`."""
    params = CallToolRequestParams(
        name=tool.name, arguments=args, input_responses={"confirm": ACCEPTED}, request_state=state
    )
    return confirmer._modern(CTX, params, tool, args, question(tool, args))


async def test_an_answer_for_other_arguments_approves_nothing() -> None:
    """A 2026-07-28 retry carrying an accepted answer but another call's request state is declined."""
    confirmer = Confirmer()
    state = asked(confirmer, {"customer_id": "A"}).request_state
    # The answer was for A: for B it approves nothing, and the human is asked about B.
    again = answered(confirmer, {"customer_id": "B"}, state)
    assert isinstance(again, InputRequiredResult) and again.request_state != state
    # Another process, without a shared secret, asks again rather than calling the answer a decline.
    assert isinstance(answered(Confirmer(), {"customer_id": "A"}, state), InputRequiredResult)
    assert answered(confirmer, {"customer_id": "A"}, state) == "accept"
    # Replicas sharing SQUARE_MCP_HTTP_TOKEN verify each other's states.
    one, two = Confirmer("shared-token-1"), Confirmer("shared-token-1")
    assert answered(two, {"customer_id": "A"}, asked(one, {"customer_id": "A"}).request_state) == "accept"


def test_the_question_counts_bulk_entries_and_shows_them() -> None:
    ids = [f"C{i:025d}" for i in range(100)]
    text = question(TOOLS_BY_NAME["bulk_delete_customers"], {"customer_ids": ids})
    assert "on 100 customers" in text and len(text) <= MAX_QUESTION
    assert all(f"\nCustomer {id}\n" in text for id in ids)
    entries = [{"customer_id": f"C{i}", "note": "x"} for i in range(3)]
    assert "on 3 customers" in question(TOOLS_BY_NAME["bulk_update_customers"], {"customers": entries})


# Issue 11: the question shows every change, in an order the model cannot choose, or the call is refused.
LONG_NOTE = "n" * 3000
NOTE_THEN_EMAIL = [
    {"customer_id": "BBBB", "note": LONG_NOTE},
    {"customer_id": "AAAA", "email_address": "thief@example.com", "clear": ["note", "address.locality", "birthday"]},
]


@ERAS
async def test_every_change_is_shown_whole_in_an_order_the_model_cannot_choose(mode: str, connected: Connect) -> None:
    human = Human("decline")
    async with connected(mode, human) as (client, sent):
        for entries in (NOTE_THEN_EMAIL, NOTE_THEN_EMAIL[::-1]):
            await client.call_tool("bulk_update_customers", {"customers": entries})
    assert sent == [] and len(human.asked) == 2
    assert human.asked[0] == human.asked[1]  # the entries' order changes nothing
    text = human.asked[0]
    # Customers by id; fields in the schema's order; erasures listed, in the order `clear` offers them.
    email = 'Customer AAAA:\n  email_address: "thief@example.com"\n  erase: birthday, note, address.locality\n'
    assert email in text and f'Customer BBBB:\n  note: "{LONG_NOTE}"\n' in text
    assert text.index(email) < text.index("Customer BBBB")


@ERAS
@pytest.mark.parametrize(
    ("name", "args"),
    [
        # A 4 KB note in the first entry used to push a second customer's email change out of the question.
        ("bulk_update_customers", {"customers": [{"customer_id": "B", "note": "n" * 4000}, NOTE_THEN_EMAIL[1]]}),
        ("update_customer", {"customer_id": "C1", "note": "n" * 4000}),
        ("bulk_delete_customers", {"customer_ids": [f"C{i:039d}" for i in range(100)]}),
    ],
    ids=["long-note-first", "one-long-note", "many-long-ids"],
)
async def test_a_call_whose_question_cannot_be_shown_whole_is_refused(
    mode: str, name: str, args: dict[str, Any], connected: Connect
) -> None:
    human = Human("accept")
    async with connected(mode, human) as (client, sent):
        result = await client.call_tool(name, args)
    assert result.is_error and sent == [] and human.asked == []
    text = result.content[0].text
    assert f"over the {MAX_QUESTION:,}" in text and "nothing was sent" in text and "fewer customers" in text


def test_values_cannot_hide_or_forge_lines_of_the_question() -> None:
    note = "ok\u202e\u200b\nCustomer ZZZZ:\n  note: fine\u2028"
    text = question(TOOLS_BY_NAME["update_customer"], {"customer_id": "C1", "note": note})
    # header, "In short:", its line, "In full:", customer, one field, "Allow it?"
    assert text.count("\n") == 6 and "Customer ZZZZ" in text
    assert not any(char in text for char in "\u202e\u200b\u2028")
    assert "\\u202e\\u200b\\nCustomer ZZZZ:\\n<2 spaces>note: fine\\u2028" in text


@ERAS
async def test_update_customer_is_gated(mode: str, connected: Connect) -> None:
    human = Human("cancel")
    async with connected(mode, human) as (client, sent):
        result = await client.call_tool("update_customer", {"customer_id": "C1", "email_address": "x@example.com"})
    assert result.is_error and "dismissed" in result.content[0].text and sent == []
    assert 'Customer C1:\n  email_address: "x@example.com"' in human.asked[0]


# Issue 11: an approval is single-use and expires; a replayed or expired one asks again and never runs.
async def test_a_replayed_approval_asks_again_and_runs_nothing(connected: Connect) -> None:
    args = {"customer_id": "C1", "group_id": "VIP"}
    answer = {"confirm": ACCEPTED}
    async with connected("auto", Human("decline")) as (client, sent):
        first = await client.session.call_tool("remove_group_from_customer", args, allow_input_required=True)
        assert isinstance(first, InputRequiredResult) and sent == []
        state = first.request_state
        done = await client.session.call_tool(
            "remove_group_from_customer", args, input_responses=answer, request_state=state, allow_input_required=True
        )
        assert not isinstance(done, InputRequiredResult) and not done.is_error
        assert [r.method for r in sent] == ["DELETE", "GET"]
        for _ in range(3):
            replay = await client.session.call_tool(
                "remove_group_from_customer",
                args,
                input_responses=answer,
                request_state=state,
                allow_input_required=True,
            )
            assert isinstance(replay, InputRequiredResult) and replay.request_state != state
        # Through the SDK's own loop the fresh question reaches the human, who declines it.
        declined = await client.call_tool(
            "remove_group_from_customer", args, input_responses=answer, request_state=state
        )
    assert declined.is_error and "declined" in declined.content[0].text
    assert len(sent) == 2


async def test_an_approval_expires_after_five_minutes(connected: Connect) -> None:
    now = [1_000_000.0]
    confirmer = Confirmer(clock=lambda: now[0])
    args = {"customer_id": "C1"}
    answer = {"confirm": ACCEPTED}
    async with connected("auto", Human("decline"), confirmer) as (client, sent):
        for wait, runs in ((301.0, False), (299.0, True)):
            first = await client.session.call_tool("delete_customer", args, allow_input_required=True)
            assert isinstance(first, InputRequiredResult)
            now[0] += wait
            late = await client.session.call_tool(
                "delete_customer",
                args,
                input_responses=answer,
                request_state=first.request_state,
                allow_input_required=True,
            )
            assert isinstance(late, InputRequiredResult) is not runs
            assert len(sent) == int(runs)


def test_spent_approvals_stay_bounded_and_forgetting_one_never_reenables_it() -> None:
    now = [1_000.0]
    confirmer = Confirmer(clock=lambda: now[0], max_spent=2)
    states = []
    for index in range(3):
        states.append(asked(confirmer, {"customer_id": f"C{index}"}).request_state)
        now[0] += 1
    for index, state in enumerate(states):
        assert answered(confirmer, {"customer_id": f"C{index}"}, state) == "accept"
    assert len(confirmer._spent) <= 2
    for index, state in enumerate(states):  # the forgotten one included
        assert isinstance(answered(confirmer, {"customer_id": f"C{index}"}, state), InputRequiredResult)
    # Expired ones are pruned, so fresh approvals keep working long after.
    now[0] += 3600
    fresh = asked(confirmer, {"customer_id": "C9"}).request_state
    assert answered(confirmer, {"customer_id": "C9"}, fresh) == "accept"


@pytest.mark.parametrize("state", ["", "é", "a.b.c", "x.1.y", "..", "a." * 500, "\ud800.1.z", "a.1.\ud800", "a.1.é"])
def test_a_malformed_request_state_asks_again(state: str) -> None:
    assert isinstance(answered(Confirmer(), {"customer_id": "C1"}, state), InputRequiredResult)


def test_arguments_that_cannot_be_encoded_are_still_asked_about() -> None:
    """A lone surrogate (the dispatcher later refuses to send it) must not crash the signature."""
    args = {"customer_id": "C1", "note": "\ud800"}
    state = asked(Confirmer(), args, TOOLS_BY_NAME["update_customer"]).request_state
    assert state and "\ud800" not in question(TOOLS_BY_NAME["update_customer"], args)


# Issue 11: an unanswered question times out into a refusal (2025-era clients wait on elicitation/create).
class Away(Human):
    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.asked.append(params.message)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")


async def test_an_unanswered_question_times_out_into_a_refusal(connected: Connect) -> None:
    human = Away("accept")
    async with connected("legacy", human, Confirmer(answer_timeout=0.2)) as (client, sent):
        with anyio.fail_after(10):
            result = await client.call_tool("bulk_delete_customers", {"customer_ids": ["C1"]})
    assert len(human.asked) == 1 and sent == []
    assert result.is_error and "did not answer the confirmation within 0.2 seconds" in result.content[0].text
    assert "nothing was sent" in result.content[0].text


@pytest.mark.parametrize("blank", [" ", "\u3164", "\u2800", "\u034f"])
def test_a_wall_of_blanks_cannot_push_a_later_change_out_of_sight(blank: str) -> None:
    """A note of thousands of spaces or blank letters (under the length limit) on the first customer used to
    leave the second customer's email change about 55 blank lines further down."""
    args = {
        "customers": [
            {"customer_id": "AAAA1", "note": blank * 3300},
            {"customer_id": "ZZZZ9", "email_address": "new@example.com", "clear": ["phone_number"]},
        ]
    }
    text = question(TOOLS_BY_NAME["bulk_update_customers"], args)
    head = text.splitlines()[:5]
    assert "  ZZZZ9: email_address, erase phone_number" in head, head  # named before any value
    assert len(text) < 600, len(text)  # the wall is written as its length or its escapes, not as blanks
    assert blank * 3 not in text  # (the question indents with two spaces)


def test_lookalike_customer_ids_are_told_apart() -> None:
    args = {"customers": [{"customer_id": "C1", "note": "a"}, {"customer_id": "C1\u3164", "note": "b"}]}
    text = question(TOOLS_BY_NAME["bulk_update_customers"], args)
    assert "Customer C1:" in text and "Customer C1\\u3164:" in text


def test_an_answer_approves_only_for_the_person_it_was_asked_of() -> None:
    """OAuth mode tells the Confirmer who each request acts for: Bob can't replay Alice's approval as his own."""

    class Person(_Ctx):
        def __init__(self, who: str) -> None:
            self.who = who

    alice, bob = Person("grant-alice"), Person("grant-bob")
    confirmer = Confirmer(asker=lambda ctx: ctx.who)  # type: ignore[attr-defined]
    args = {"customer_id": "C1"}
    first = confirmer._modern(alice, CallToolRequestParams(name=DELETE.name, arguments=args), DELETE, args, "q")  # type: ignore[arg-type]
    assert isinstance(first, InputRequiredResult)
    answer = CallToolRequestParams(name=DELETE.name, arguments=args, input_responses={"confirm": ACCEPTED},
                                   request_state=first.request_state)  # fmt: skip
    assert isinstance(confirmer._modern(bob, answer, DELETE, args, "q"), InputRequiredResult)  # type: ignore[arg-type]
    assert confirmer._modern(alice, answer, DELETE, args, "q") == "accept"  # type: ignore[arg-type]
