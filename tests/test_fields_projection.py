"""The optional `fields` argument: only the named customer fields come back, id and version always."""

from __future__ import annotations

import json

import httpx
import pytest

from square_customers_mcp.config import Settings
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.square_client import SquareClient

pytestmark = pytest.mark.anyio
RAW = {
    "id": "C1",
    "version": 4,
    "given_name": "Ada",
    "family_name": "Lovelace",
    "email_address": "ada@example.com",
    "phone_number": "+44 20 7946 0000",
    "note": "prefers email",
    "group_ids": ["G1"],
    "created_at": "2026-01-01T00:00:00Z",
}
ANSWERS = {
    "/v2/customers": {"customers": [RAW], "cursor": "next"},
    "/v2/customers/search": {"customers": [RAW]},
    "/v2/customers/C1": {"customer": RAW},
    "/v2/customers/bulk-retrieve": {"responses": {"C1": {"customer": RAW}}},
}


def dispatcher(sent: list[httpx.Request]) -> Dispatcher:
    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=ANSWERS[request.url.path])

    return Dispatcher(SquareClient(Settings(access_token="t", environment="sandbox"), httpx.MockTransport(answer)))


@pytest.mark.parametrize(
    ("name", "args", "pick"),
    [
        ("list_customers", {}, lambda r: r["customers"][0]),
        ("search_customers", {}, lambda r: r["customers"][0]),
        ("retrieve_customer", {"customer_id": "C1"}, lambda r: r["customer"]),
        ("bulk_retrieve_customers", {"customer_ids": ["C1"]}, lambda r: r["customers"][0]),
    ],
)
async def test_fields_keep_only_what_was_asked(name: str, args: dict[str, object], pick: object) -> None:
    sent: list[httpx.Request] = []
    result = await dispatcher(sent).call(name, {**args, "fields": ["given_name", "email_address"]})
    assert not result.is_error, result.content
    customer = pick(result.structured_content)
    assert customer == {"id": "C1", "version": 4, "given_name": "Ada", "email_address": "ada@example.com"}
    # `fields` is ours: it never reaches Square.
    assert "fields" not in sent[0].url.params
    assert not sent[0].content or "fields" not in json.loads(sent[0].content)


async def test_without_fields_everything_trimmed_comes_back() -> None:
    result = await dispatcher([]).call("retrieve_customer", {"customer_id": "C1"})
    assert result.structured_content is not None
    assert set(result.structured_content["customer"]) == {
        "id", "version", "given_name", "family_name", "email_address", "phone_number", "note", "group_ids",
        "created_at",
    }  # fmt: skip


async def test_lists_default_to_a_summary_and_fields_can_ask_for_more() -> None:
    page = await dispatcher([]).call("list_customers", {})
    assert page.structured_content is not None
    assert "created_at" not in page.structured_content["customers"][0]
    asked = await dispatcher([]).call("list_customers", {"fields": ["created_at"]})
    assert asked.structured_content is not None
    assert asked.structured_content["customers"][0] == {"id": "C1", "version": 4, "created_at": "2026-01-01T00:00:00Z"}


async def test_unknown_field_names_are_refused() -> None:
    sent: list[httpx.Request] = []
    result = await dispatcher(sent).call("retrieve_customer", {"customer_id": "C1", "fields": ["ssn"]})
    assert result.is_error and "$.fields[0]" in result.content[0].text
    assert sent == []
