"""Property tests: thousands of argument sets, valid ones drawn from each tool's validation schema and
invalid ones from mutations, never raise out of the dispatcher; valid ones are sent unless one of the
tool's own rules refuses them, and an invalid set never sends a request."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
from fakes import CUSTOMER_ID, VALID_ARGS, MakeFakeSquare, json_response, requests_per_call
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult
from schema_strategies import from_schema

from square_customers_mcp.app import build_server
from square_customers_mcp.config import Settings
from square_customers_mcp.retry import RetryPolicy
from square_customers_mcp.tools import TOOLS, ToolSpec
from square_customers_mcp.tools.formats import FORMAT_CHECKER
from square_customers_mcp.validation import StrictValidator
from square_customers_mcp.validation import given as not_empty

CUSTOMER = {"id": "C1", "version": 0, "given_name": "Ada"}
ANY_ANSWER = {
    "customer": CUSTOMER,
    "customers": [CUSTOMER],
    "responses": {"C1": {"customer": CUSTOMER}},
    "card": {"id": "ccof:1", "card_brand": "VISA", "last_4": "1111"},
    "groups": [{"id": "G1", "name": "VIP"}],
    "segments": [{"id": "S.LOYAL", "name": "Regulars"}],
}
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
# `fake_square` is a factory: each example makes its own FakeSquare, so sharing it across examples is safe.
SHARED_FIXTURE = HealthCheck.function_scoped_fixture
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
    def __init__(self, fake_square: MakeFakeSquare) -> None:
        square = fake_square(
            json_response(ANY_ANSWER),
            settings=Settings(access_token="t", environment="sandbox"),
            retry=RetryPolicy(max_attempts=1),
        )
        self.sent: list[httpx.Request] = square.requests
        self.dispatcher = square.dispatcher()

    def call(self, name: str, args: Any) -> CallToolResult:
        self.sent.clear()
        return anyio.run(self.dispatcher.call, name, args)


def text_of(result: CallToolResult) -> str:
    assert isinstance(result, CallToolResult)
    text = result.content[0].text  # type: ignore[union-attr]
    assert "Traceback" not in text
    return text


def check(recorder: Recorder, result: CallToolResult, tool: ToolSpec) -> None:
    text = text_of(result)
    if result.is_error and text.startswith(("Invalid arguments", "Unknown tool")):
        assert recorder.sent == [], "an invalid call must not reach Square"
    if not result.is_error:
        assert len(recorder.sent) == requests_per_call(tool)


@pytest.mark.slow  # exhaustive: .ci/run runs `pytest -m slow`
@by_tool
def test_arguments_from_the_validation_schema_are_sent_unless_a_rule_refuses_them(
    tool: ToolSpec, fake_square: MakeFakeSquare
) -> None:
    recorder = Recorder(fake_square)
    validator = StrictValidator(tool.schema, format_checker=FORMAT_CHECKER)

    @PROFILE
    @given(from_schema(tool.schema))
    def run(args: dict[str, Any]) -> None:
        assert not_empty(args, tool.schema) == args, "the strategy drew a value that reads as not given"
        assert [f"{e.json_path}: {e.message}" for e in validator.iter_errors(args)] == []
        refused = [problem for rule in tool.checks for problem in rule({**tool.defaults, **args})]
        result = recorder.call(tool.name, args)
        text = text_of(result)
        if refused:
            assert result.is_error and text.startswith(f"Invalid arguments for {tool.name}; nothing was sent"), text
            assert recorder.sent == []
            # Every problem is named, up to the message's cap; the rest are counted ("... and N more").
            unique = list(dict.fromkeys(refused))
            shown = [problem for problem in unique if problem in text]
            assert len(shown) == len(unique) or f"and {len(unique) - len(shown)} more" in text, (refused, text)
            assert len(shown) >= min(len(unique), 10), (refused, text)
        else:
            assert not result.is_error, text
            assert len(recorder.sent) == requests_per_call(tool)
            tool.output_model.model_validate(result.structured_content)

    run()


def mutations(tool: ToolSpec) -> st.SearchStrategy[Any]:
    valid = from_schema(tool.schema)
    keys = list(tool.schema["properties"])

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


@pytest.mark.slow  # exhaustive: .ci/run runs `pytest -m slow`
@by_tool
def test_mutated_arguments_never_raise_and_invalid_ones_send_nothing(
    tool: ToolSpec, fake_square: MakeFakeSquare
) -> None:
    recorder = Recorder(fake_square)

    @PROFILE
    @given(mutations(tool))
    def run(args: Any) -> None:
        check(recorder, recorder.call(tool.name, args), tool)

    run()


# Mutations of the hand-written valid arguments (tests/fakes.py), down into bulk entries.

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from([CUSTOMER_ID, "a/b", "{customer_id}", "USA", "12345", "+1-212-555-4240", "1897-07-24", "x" * 301])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def _keys(tool: ToolSpec) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(tool.schema["properties"])) | st.text(max_size=10)


def _entries(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict)


def _entry_keys(tool: ToolSpec) -> st.SearchStrategy[str]:
    """Names of a bulk entry's fields, so mutations hit real ones (clear, eu_vat, customer_id, ...)."""
    items = tool.schema["properties"].get(tool.entries or "", {}).get("items", {})
    return st.sampled_from(sorted(items.get("properties") or ["customer_id"]))


def arguments_for(tool: ToolSpec) -> st.SearchStrategy[dict[str, Any]]:
    valid = VALID_ARGS[tool.name]
    keys = sorted(valid)
    random_args = st.dictionaries(_keys(tool), JSON_VALUES, max_size=6)
    dropped = st.sampled_from(keys).map(lambda k: {n: v for n, v in valid.items() if n != k})
    retyped = st.tuples(st.sampled_from(keys), JSON_VALUES).map(lambda kv: {**valid, kv[0]: kv[1]})
    added = st.tuples(_keys(tool), JSON_VALUES).map(lambda kv: {**valid, kv[0]: kv[1]})
    nested = st.tuples(st.sampled_from(keys), st.text(max_size=8), JSON_VALUES).map(
        lambda t: {**valid, t[0]: {**valid[t[0]], t[1]: t[2]}} if isinstance(valid[t[0]], dict) else valid
    )
    in_entry = st.tuples(st.sampled_from(keys), st.text(max_size=8) | _entry_keys(tool), JSON_VALUES).map(
        lambda t: (
            {**valid, t[0]: [{**valid[t[0]][0], t[1]: t[2]}, *valid[t[0]][1:]]} if _entries(valid[t[0]]) else valid
        )
    )
    return st.one_of(random_args, dropped, retyped, added, nested, in_entry, st.just(valid))


@pytest.mark.slow
@by_tool
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, SHARED_FIXTURE], database=None)
@given(data=st.data())
def test_mutated_valid_args_never_raise_and_invalid_means_nothing_sent(
    tool: ToolSpec, data: st.DataObject, fake_square: MakeFakeSquare
) -> None:
    recorder = Recorder(fake_square)
    result = recorder.call(tool.name, data.draw(arguments_for(tool), label="arguments"))
    text = text_of(result)
    if result.is_error:
        assert text.startswith(f"Invalid arguments for {tool.name}; nothing was sent"), text
        assert recorder.sent == []
        assert "\n- $" in text  # each problem starts with its JSON path
    else:
        assert len(recorder.sent) == requests_per_call(tool)
        assert result.structured_content is not None


@settings(max_examples=100, deadline=None, suppress_health_check=[SHARED_FIXTURE], database=None)
@given(st.text(max_size=40), json_values)
def test_unknown_tools_and_odd_payloads_are_tool_errors(fake_square: MakeFakeSquare, name: str, args: Any) -> None:
    recorder = Recorder(fake_square)
    result = recorder.call(name, args)
    if name not in {t.name for t in TOOLS}:
        assert result.is_error and recorder.sent == []


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_pathological_calls_through_mcp_are_tool_errors(mode: str, fake_square: MakeFakeSquare) -> None:
    recorder = Recorder(fake_square)
    deep: Any = "x"
    for _ in range(200):
        deep = {"a": deep}
    calls: list[tuple[str, Any]] = [
        ("retrieve_customer", None),
        ("retrieve_customer", {}),
        ("no_such_tool", {"x": 1}),
        ("create_customer", {"given_name": "a\x00b" * 10_000}),
        ("search_customers", {"filter": deep}),
        ("search_customers", {"query": {"filter": {"email_address": {"fuzzy": "x"}}}}),
        ("update_customer", {"customer_id": "C1", "note": {"nested": [1, 2, 3]}}),
        ("update_customer", {"customer_id": "C1", "note": "x", "clear": ["note"]}),
        ("bulk_create_customers", {"customers": {"key-1": {"given_name": "Ada"}}}),
        ("bulk_update_customers", {"customers": [{"customer_id": "C1", "clear": [deep]}]}),
        ("list_customers", {"limit": "100"}),
        ("list_customer_groups", {"cursor": deep}),
    ]
    async with Client(build_server(recorder.dispatcher), mode=mode, raise_exceptions=True) as client:
        for name, args in calls:
            recorder.sent.clear()
            result = await client.call_tool(name, args)
            assert result.is_error, (name, args)
            assert recorder.sent == []
