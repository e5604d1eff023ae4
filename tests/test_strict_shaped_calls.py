"""Strict-mode adapters (OpenAI, Anthropic, Gemini) make every property required and fill the ones the
model had nothing to say about with null (some with "" or []). Such a call must behave exactly like the
sparse call: same request to Square, same result, and no stored field changed that the call did not name.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fakes import call_tool, json_response, response_example
from request_cases import CASES, Case

from square_customers_mcp.backend import SandboxTransport
from square_customers_mcp.config import Settings
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.sandbox import create_app
from square_customers_mcp.square_client import SquareClient
from square_customers_mcp.tools import TOOLS_BY_NAME, requests

JSON = dict[str, Any]
Filler = Callable[[JSON], Any]


def null_for(schema: JSON) -> Any:
    return None


def empty_for(schema: JSON) -> Any:
    """What some adapters put where the model said nothing: the type's empty value."""
    return {"string": "", "array": [], "object": {}}.get(schema.get("type", ""))


def strict_shaped(schema: JSON, args: Any, filler: Filler = null_for) -> Any:
    """`args` as a strict adapter sends them: every property of every object present, unset ones filled."""
    if schema.get("type") == "object" and isinstance(args, dict):
        return {
            name: strict_shaped(sub, args[name], filler) if name in args else filler(sub)
            for name, sub in schema.get("properties", {}).items()
        }
    if schema.get("type") == "array" and isinstance(args, list):
        return [strict_shaped(schema["items"], item, filler) for item in args]
    return args


@pytest.fixture
def fixed_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """Generated idempotency keys, the same sequence for each call after a reset."""
    counter = itertools.count()

    def reset() -> None:
        nonlocal counter
        counter = itertools.count()

    monkeypatch.setattr(requests, "new_key", lambda: f"key-{next(counter)}")
    yield reset


def _sent(request: httpx.Request) -> tuple[str, str, Any]:
    return request.method, str(request.url), json.loads(request.content) if request.content else None


@pytest.mark.anyio
@pytest.mark.parametrize("filler", [null_for, empty_for], ids=["null", "empty"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.tool)
async def test_strict_shaped_call_sends_and_returns_what_the_sparse_call_does(
    case: Case, filler: Filler, fixed_keys: Callable[[], None]
) -> None:
    respond = json_response(response_example(case.example) | (case.extra_response or {}))
    shaped_args = strict_shaped(TOOLS_BY_NAME[case.tool].input_schema, case.args, filler)
    assert set(shaped_args) == set(TOOLS_BY_NAME[case.tool].input_schema["properties"])
    fixed_keys()
    sparse, sparse_requests = await call_tool(case.tool, case.args, respond)
    fixed_keys()
    shaped, shaped_requests = await call_tool(case.tool, shaped_args, respond)

    assert not sparse.is_error, sparse.content
    assert not shaped.is_error, shaped.content
    assert [_sent(r) for r in shaped_requests] == [_sent(r) for r in sparse_requests]
    assert shaped.structured_content == sparse.structured_content


# A customer with every field set, to see that a strict-shaped update touches only what it names.
FULL = {
    "given_name": "Ada",
    "family_name": "Lovelace",
    "company_name": "Analytical Engines",
    "nickname": "Countess",
    "email_address": "ada@example.com",
    "phone_number": "+442079460000",
    "address": {"address_line_1": "12 St James's Sq", "locality": "London", "postal_code": "SW1Y", "country": "GB"},
    "birthday": "1815-12-10",
    "reference_id": "ADA-1",
    "note": "first programmer",
    "eu_vat": "GB123456789",
}


async def _sandbox_call(dispatcher: Dispatcher, name: str, args: JSON) -> JSON:
    shaped = strict_shaped(TOOLS_BY_NAME[name].input_schema, args)
    result = await dispatcher.call(name, shaped)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


@pytest.fixture
async def sandbox() -> Any:
    app = create_app(":memory:", seed=30)
    client = SquareClient(Settings(), transport=SandboxTransport(app=app))
    yield Dispatcher(client)
    await client.aclose()
    app.state.store.close()


def _unchanged(before: JSON, after: JSON, changed: set[str]) -> None:
    skip = changed | {"version", "updated_at"}
    assert {k: v for k, v in after.items() if k not in skip} == {k: v for k, v in before.items() if k not in skip}


@pytest.mark.anyio
async def test_strict_shaped_update_changes_only_what_it_names(sandbox: Dispatcher) -> None:
    created = (await _sandbox_call(sandbox, "create_customer", FULL))["customer"]
    customer_id = created["id"]
    before = (await _sandbox_call(sandbox, "retrieve_customer", {"customer_id": customer_id}))["customer"]

    await _sandbox_call(sandbox, "update_customer", {"customer_id": customer_id, "note": "new", "version": 0})
    after = (await _sandbox_call(sandbox, "retrieve_customer", {"customer_id": customer_id}))["customer"]
    assert after["note"] == "new"
    _unchanged(before, after, {"note"})

    await _sandbox_call(sandbox, "update_customer", {"customer_id": customer_id, "clear": ["birthday", "eu_vat"]})
    cleared = (await _sandbox_call(sandbox, "retrieve_customer", {"customer_id": customer_id}))["customer"]
    assert "birthday" not in cleared and "eu_vat" not in cleared
    _unchanged(after, cleared, {"birthday", "eu_vat"})


@pytest.mark.anyio
async def test_strict_shaped_bulk_update_changes_only_what_it_names(sandbox: Dispatcher) -> None:
    created = await _sandbox_call(sandbox, "bulk_create_customers", {"customers": [FULL, {**FULL, "given_name": "B"}]})
    ids = [customer["id"] for customer in created["customers"]]
    fields = ["address", "birthday", "eu_vat", "nickname", "company_name"]
    before = await _sandbox_call(sandbox, "bulk_retrieve_customers", {"customer_ids": ids, "fields": fields})
    entries = [{"customer_id": ids[0], "note": "n"}, {"customer_id": ids[1], "clear": ["note"]}]
    await _sandbox_call(sandbox, "bulk_update_customers", {"customers": entries})
    after = await _sandbox_call(sandbox, "bulk_retrieve_customers", {"customer_ids": ids, "fields": fields})
    for old, new in zip(before["customers"], after["customers"], strict=True):
        _unchanged(old, new, set())
    notes = await _sandbox_call(sandbox, "bulk_retrieve_customers", {"customer_ids": ids, "fields": ["note"]})
    assert [c.get("note") for c in notes["customers"]] == ["n", None]


@pytest.mark.anyio
async def test_strict_shaped_list_fetches_the_first_page_then_the_next(sandbox: Dispatcher) -> None:
    first = await _sandbox_call(sandbox, "list_customers", {})
    assert len(first["customers"]) == 25 and "next_cursor" in first
    second = await _sandbox_call(sandbox, "list_customers", {"cursor": first["next_cursor"]})
    assert {c["id"] for c in second["customers"]}.isdisjoint(c["id"] for c in first["customers"])
