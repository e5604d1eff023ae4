"""Property tests: thousands of argument sets, from each tool's input schema and from mutations of
it, never raise out of the dispatcher, and an invalid set never sends a request."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult
from schema_strategies import from_schema

from server.app import build_server
from server.config import Settings
from server.dispatcher import Dispatcher
from server.retry import RetryPolicy
from server.square_client import SquareClient
from tools import TOOLS, ToolSpec

CUSTOMER = {"id": "C1", "version": 0, "given_name": "Ada"}
ANY_ANSWER = {
    "customer": CUSTOMER,
    "customers": [CUSTOMER],
    "responses": {"C1": {"customer": CUSTOMER}},
    "card": {"id": "ccof:1", "card_brand": "VISA", "last_4": "1111"},
}
PROFILE = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)
by_tool = pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
nasty_values = st.sampled_from(
    ["", "\x00", "a\x00b", "x" * 100_000, "{customer_id}", "../../v2/customers", "😀" * 50, -1, 2**70, 1e308, None]
)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []
        square = SquareClient(
            Settings(access_token="t", environment="sandbox"),
            transport=httpx.MockTransport(self.answer),
            retry=RetryPolicy(max_attempts=1),
        )
        self.dispatcher = Dispatcher(square)

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return httpx.Response(200, json=ANY_ANSWER)

    def call(self, name: str, args: Any) -> CallToolResult:
        self.sent.clear()
        return anyio.run(self.dispatcher.call, name, args)


def check(recorder: Recorder, result: CallToolResult) -> None:
    assert isinstance(result, CallToolResult)
    text = result.content[0].text  # type: ignore[union-attr]
    assert "Traceback" not in text
    if result.is_error and text.startswith(("Invalid arguments", "Unknown tool")):
        assert recorder.sent == [], "an invalid call must not reach Square"
    if not result.is_error:
        assert len(recorder.sent) == 1


def mutations(tool: ToolSpec) -> st.SearchStrategy[Any]:
    valid = from_schema(tool.input_schema)
    keys = list(tool.input_schema["properties"])

    def drop(args: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
        if args:
            args.pop(data.draw(st.sampled_from(sorted(args))))
        return args

    return st.one_of(
        st.builds(lambda a, k, v: {**a, k: v}, valid, st.sampled_from(keys), json_values | nasty_values),
        st.builds(lambda a, k, v: {**a, k: v}, valid, st.text(min_size=1, max_size=12), json_values),
        st.builds(lambda a, d: drop(dict(a), d), valid, st.data()),
        json_values,
        st.dictionaries(st.sampled_from(keys), nasty_values | json_values, max_size=len(keys)),
    )


@by_tool
def test_schema_generated_arguments_never_raise(tool: ToolSpec) -> None:
    recorder = Recorder()

    @PROFILE
    @given(from_schema(tool.input_schema))
    def run(args: dict[str, Any]) -> None:
        check(recorder, recorder.call(tool.name, args))

    run()


@by_tool
def test_mutated_arguments_never_raise_and_invalid_ones_send_nothing(tool: ToolSpec) -> None:
    recorder = Recorder()

    @PROFILE
    @given(mutations(tool))
    def run(args: Any) -> None:
        check(recorder, recorder.call(tool.name, args))

    run()


@settings(max_examples=100, deadline=None, database=None)
@given(st.text(max_size=40), json_values)
def test_unknown_tools_and_odd_payloads_are_tool_errors(name: str, args: Any) -> None:
    recorder = Recorder()
    result = recorder.call(name, args)
    if name not in {t.name for t in TOOLS}:
        assert result.is_error and recorder.sent == []


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_pathological_calls_through_mcp_are_tool_errors(mode: str) -> None:
    recorder = Recorder()
    deep: Any = "x"
    for _ in range(200):
        deep = {"a": deep}
    calls: list[tuple[str, Any]] = [
        ("retrieve_customer", None),
        ("retrieve_customer", {}),
        ("no_such_tool", {"x": 1}),
        ("create_customer", {"given_name": "a\x00b" * 10_000}),
        ("search_customers", {"query": deep}),
        ("update_customer", {"customer_id": "C1", "note": {"nested": [1, 2, 3]}}),
        ("list_customers", {"limit": "100"}),
    ]
    async with Client(build_server(recorder.dispatcher), mode=mode, raise_exceptions=True) as client:
        for name, args in calls:
            recorder.sent.clear()
            result = await client.call_tool(name, args)
            assert result.is_error, (name, args)
            assert recorder.sent == []
