"""The optional `fields` argument: only the named customer fields come back, id and version always."""

from __future__ import annotations

import json

import httpx
import pytest
from fakes import FakeSquare, MakeFakeSquare

from square_customers_mcp.config import Settings

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


def answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=ANSWERS[request.url.path])


@pytest.fixture
def square(fake_square: MakeFakeSquare) -> FakeSquare:
    return fake_square(answer, settings=Settings(access_token="t", environment="sandbox"))


@pytest.mark.parametrize(
    ("name", "args", "pick"),
    [
        ("list_customers", {}, lambda r: r["customers"][0]),
        ("search_customers", {}, lambda r: r["customers"][0]),
        ("retrieve_customer", {"customer_id": "C1"}, lambda r: r["customer"]),
        ("bulk_retrieve_customers", {"customer_ids": ["C1"]}, lambda r: r["customers"][0]),
    ],
)
async def test_fields_keep_only_what_was_asked(
    name: str, args: dict[str, object], pick: object, square: FakeSquare
) -> None:
    sent = square.requests
    result = await square.dispatcher().call(name, {**args, "fields": ["given_name", "email_address"]})
    assert not result.is_error, result.content
    customer = pick(result.structured_content)
    assert customer == {"id": "C1", "version": 4, "given_name": "Ada", "email_address": "ada@example.com"}
    # `fields` is ours: it never reaches Square.
    assert "fields" not in sent[0].url.params
    assert not sent[0].content or "fields" not in json.loads(sent[0].content)


async def test_without_fields_everything_trimmed_comes_back(square: FakeSquare) -> None:
    result = await square.dispatcher().call("retrieve_customer", {"customer_id": "C1"})
    assert result.structured_content is not None
    assert set(result.structured_content["customer"]) == {
        "id", "version", "given_name", "family_name", "email_address", "phone_number", "note", "group_ids",
        "created_at",
    }  # fmt: skip


async def test_lists_default_to_a_summary_and_fields_can_ask_for_more(square: FakeSquare) -> None:
    page = await square.dispatcher().call("list_customers", {})
    assert page.structured_content is not None
    assert "created_at" not in page.structured_content["customers"][0]
    asked = await square.dispatcher().call("list_customers", {"fields": ["created_at"]})
    assert asked.structured_content is not None
    assert asked.structured_content["customers"][0] == {"id": "C1", "version": 4, "created_at": "2026-01-01T00:00:00Z"}


async def test_unknown_field_names_are_refused(square: FakeSquare) -> None:
    sent = square.requests
    result = await square.dispatcher().call("retrieve_customer", {"customer_id": "C1", "fields": ["ssn"]})
    assert result.is_error and "$.fields[0]" in result.content[0].text
    assert sent == []
