"""Oversized search filters and deeply nested bodies get a Square 400 naming the field, never a 500 (retried)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sandbox_support import error_of, make_customer

from square_customers_mcp.sandbox.search import MAX_FILTER_IDS, MAX_FUZZY_TOKENS
from square_customers_mcp.sandbox.seed import NEWSLETTER_GROUP_ID, REACHABLE_SEGMENT_ID, VIP_GROUP_ID

pytestmark = pytest.mark.anyio


async def search(client: httpx.AsyncClient, filters: dict[str, Any]) -> httpx.Response:
    return await client.post("/v2/customers/search", json={"query": {"filter": filters}})


@pytest.mark.parametrize("name", ["email_address", "phone_number", "reference_id"])
async def test_a_fuzzy_filter_of_too_many_words_is_a_400(client: httpx.AsyncClient, name: str) -> None:
    words = " ".join(f"{i}1" for i in range(MAX_FUZZY_TOKENS + 901))  # 1,001 words: SQLite's limit, once a 500
    response = await search(client, {name: {"fuzzy": words}})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "VALUE_TOO_LONG"
    assert error["field"] == f"query.filter.{name}.fuzzy"
    assert f"at most {MAX_FUZZY_TOKENS} words" in error["detail"]


async def test_a_fuzzy_filter_at_the_limit_still_searches(client: httpx.AsyncClient) -> None:
    ada = await make_customer(client, email_address="ada@example.com")
    words = " ".join(["ada"] * (MAX_FUZZY_TOKENS - 1) + ["example"])
    response = await search(client, {"email_address": {"fuzzy": words}})
    assert response.status_code == 200, response.text
    assert [c["id"] for c in response.json()["customers"]] == [ada["id"]]


@pytest.mark.parametrize("name", ["group_ids", "segment_ids"])
@pytest.mark.parametrize("kind", ["all", "any", "none"])
async def test_a_membership_filter_of_too_many_ids_is_a_400(client: httpx.AsyncClient, name: str, kind: str) -> None:
    known = VIP_GROUP_ID if name == "group_ids" else REACHABLE_SEGMENT_ID
    response = await search(client, {name: {kind: [known] * (MAX_FILTER_IDS + 1)}})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "ARRAY_LENGTH_TOO_LONG"
    assert error["field"] == f"query.filter.{name}.{kind}"
    assert str(MAX_FILTER_IDS) in error["detail"]


async def test_every_filter_at_its_limit_at_once_is_answered(client: httpx.AsyncClient) -> None:
    """One `all` term per id used to exceed SQLite's expression depth at 1,000 ids (a 500): now one term."""
    member = await make_customer(
        client, email_address="ada@example.com", phone_number="+14155550100", reference_id="R1"
    )
    for group in (VIP_GROUP_ID, NEWSLETTER_GROUP_ID):
        assert (await client.put(f"/v2/customers/{member['id']}/groups/{group}")).status_code == 200
    other = await make_customer(client, given_name="Only VIP")
    assert (await client.put(f"/v2/customers/{other['id']}/groups/{VIP_GROUP_ID}")).status_code == 200
    half = MAX_FILTER_IDS // 2
    filters = {
        "email_address": {"fuzzy": " ".join(["ada"] * MAX_FUZZY_TOKENS)},
        "phone_number": {"fuzzy": " ".join(["415"] * MAX_FUZZY_TOKENS)},
        "reference_id": {"fuzzy": " ".join(["r1"] * MAX_FUZZY_TOKENS)},
        "group_ids": {
            "all": [VIP_GROUP_ID] * half + [NEWSLETTER_GROUP_ID] * half,
            "any": [VIP_GROUP_ID] * MAX_FILTER_IDS,
        },
        "segment_ids": {"none": [REACHABLE_SEGMENT_ID] * MAX_FILTER_IDS},
        "creation_source": {"values": ["THIRD_PARTY"] * 10_000},
        "created_at": {"start_at": "2000-01-01T00:00:00Z", "end_at": "2100-01-01T00:00:00Z"},
    }
    response = await client.post("/v2/customers/search", json={"query": {"filter": filters}, "count": True})
    assert response.status_code == 200, response.text
    # The local API's REST create records THIRD_PARTY; `all` still means every distinct id, repeats or not.
    assert [c["id"] for c in response.json()["customers"]] == [member["id"]]
    assert response.json()["count"] == 1


@pytest.mark.parametrize("opening", [b"[", b'{"a":'])
async def test_deeply_nested_json_is_a_400(client: httpx.AsyncClient, opening: bytes) -> None:
    closing = b"]" if opening == b"[" else b"}"
    body = opening * 100_000 + b"1" + closing * 100_000
    response = await client.post("/v2/customers/search", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "BAD_REQUEST"
    assert "nests" in error["detail"]


# A lone surrogate escape is valid JSON but not Unicode: SQLite refused it with a 500 (which clients retry).
SURROGATE = "\\ud800"  # the JSON escape, as a client would send it


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/v2/customers", '{"given_name": "A%s"}', "given_name"),
        ("PUT", "/v2/customers/{id}", '{"note": "%s"}', "note"),
        ("POST", "/v2/customers/bulk-create", '{"customers": {"k1": {"given_name": "%s"}}}', "customers.k1.given_name"),
        (
            "POST",
            "/v2/customers/bulk-update",
            '{"customers": {"{id}": {"family_name": "%s"}}}',
            "customers.{id}.family_name",
        ),
        (
            "POST",
            "/v2/customers/search",
            '{"query": {"filter": {"email_address": {"fuzzy": "%s"}}}}',
            "query.filter.email_address.fuzzy",
        ),
        ("POST", "/v2/customers/groups", '{"group": {"name": "VIP %s"}}', "group.name"),
        ("PUT", "/v2/customers/groups/{group}", '{"group": {"name": "%s"}}', "group.name"),
        ("POST", "/v2/customers", '{"given_name": "A", "%s": 1}', None),
    ],
)
async def test_a_lone_surrogate_in_a_body_is_a_400_never_a_500(
    client: httpx.AsyncClient, method: str, path: str, body: str, field: str | None
) -> None:
    customer = await make_customer(client)
    path = path.replace("{id}", customer["id"]).replace("{group}", VIP_GROUP_ID)
    content = (body.replace("{id}", customer["id"]) % SURROGATE).encode()
    response = await client.request(method, path, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["code"] == "INVALID_VALUE" and "lone surrogate" in error["detail"]
    assert error.get("field") == (field and field.replace("{id}", customer["id"]))
    # A surrogate pair is one character, and fine.
    pair = await client.post("/v2/customers", content=b'{"given_name": "\\ud83d\\ude00"}')
    assert pair.status_code == 200 and pair.json()["customer"]["given_name"] == "\U0001f600"
