"""Customer segments: the read-only list and retrieve endpoints, seeded membership, segment filters in search.

Every response is checked against the spec's response schema by `make_client` (segments are in the spec).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sandbox_support import error_of, make_client, make_customer
from spec_facts import response_schema
from starlette.applications import Starlette

from square_customers_mcp.sandbox import create_app
from square_customers_mcp.sandbox.seed import (
    LAPSED_SEGMENT_ID,
    REACHABLE_SEGMENT_ID,
    REGULARS_SEGMENT_ID,
    SEEDED_SEGMENTS,
    VIP_GROUP_ID,
    generate,
    segment_ids_of,
)
from square_customers_mcp.sandbox.segments import add_members

pytestmark = pytest.mark.anyio

SEEDED = 150
VISIT_SEGMENTS = {seg_id for seg_id, _ in SEEDED_SEGMENTS} - {REACHABLE_SEGMENT_ID}


@pytest.fixture
async def seeded() -> AsyncIterator[httpx.AsyncClient]:
    """A client for a private in-memory sandbox seeded with SEEDED customers."""
    app = create_app(":memory:", seed=SEEDED)
    try:
        async with make_client(app) as http:
            yield http
    finally:
        app.state.store.close()


def store_of(client: httpx.AsyncClient) -> Any:
    transport: Any = client._transport  # the ASGITransport that make_client built
    return transport.app.state.store


async def every_customer(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    body = (await client.get("/v2/customers", params={"limit": 100})).json()
    customers: list[dict[str, Any]] = body["customers"]
    while "cursor" in body:
        body = (await client.get("/v2/customers", params={"limit": 100, "cursor": body["cursor"]})).json()
        customers += body["customers"]
    return customers


async def walk_search(client: httpx.AsyncClient, filters: dict[str, Any], limit: int) -> list[str]:
    """Every page of a filtered search, followed by cursor: the ids in the order they came."""
    request: dict[str, Any] = {"query": {"filter": filters}, "limit": limit}
    seen: list[str] = []
    while True:
        response = await client.post("/v2/customers/search", json=request)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [c["id"] for c in page.get("customers", [])]
        if "cursor" not in page:
            return seen
        assert len(page["customers"]) == limit
        request["cursor"] = page["cursor"]


# The endpoints.


def test_segment_responses_are_checked_against_the_spec() -> None:
    assert response_schema("GET", "/v2/customers/segments") == "ListCustomerSegmentsResponse"
    assert response_schema("GET", f"/v2/customers/segments/{REGULARS_SEGMENT_ID}") == "RetrieveCustomerSegmentResponse"


async def test_seeded_segments_are_listed_with_fixed_ids(client: httpx.AsyncClient) -> None:
    segments = (await client.get("/v2/customers/segments")).json()["segments"]
    assert [(s["id"], s["name"]) for s in segments] == sorted(SEEDED_SEGMENTS)
    assert {"Reachable", "Regulars", "Lapsed"} <= {s["name"] for s in segments}
    assert all(set(s) == {"id", "name", "created_at", "updated_at"} for s in segments)
    assert all(re.fullmatch(r"[0-9A-Z]{13}\.[A-Z_]+", s["id"]) for s in segments)  # Square's `<merchant>.<KIND>`


async def test_list_pages_with_a_cursor(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 1}
    while True:
        page = (await client.get("/v2/customers/segments", params=params)).json()
        assert len(page["segments"]) == 1
        seen += [s["id"] for s in page["segments"]]
        if "cursor" not in page:
            break
        params["cursor"] = page["cursor"]
    assert seen == sorted(seg_id for seg_id, _ in SEEDED_SEGMENTS)
    first = (await client.get("/v2/customers/segments", params={"limit": 2})).json()
    again = (await client.get("/v2/customers/segments", params={"limit": 2, "cursor": first["cursor"]})).json()
    assert [s["id"] for s in first["segments"] + again["segments"]] == seen
    assert "cursor" not in (await client.get("/v2/customers/segments", params={"limit": 50})).json()


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"limit": 0}, "VALUE_TOO_LOW", "limit"),
        ({"limit": 51}, "VALUE_TOO_HIGH", "limit"),
        ({"limit": "ten"}, "EXPECTED_INTEGER", "limit"),
        ({"cursor": "bm9wZQ"}, "INVALID_CURSOR", "cursor"),
    ],
)
async def test_list_errors(client: httpx.AsyncClient, params: dict[str, Any], code: str, field: str) -> None:
    response = await client.get("/v2/customers/segments", params=params)
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["field"]) == (code, field)


async def test_a_group_cursor_is_not_a_segment_cursor(client: httpx.AsyncClient) -> None:
    groups = (await client.get("/v2/customers/groups", params={"limit": 1})).json()
    response = await client.get("/v2/customers/segments", params={"cursor": groups["cursor"]})
    assert response.status_code == 400 and error_of(response)["code"] == "INVALID_CURSOR"


async def test_empty_store_lists_as_empty_object(app: Starlette, client: httpx.AsyncClient) -> None:
    app.state.store.write_sync(lambda conn: conn.execute("DELETE FROM customer_segments_defined"))
    assert (await client.get("/v2/customers/segments")).json() == {}


async def test_retrieve_each_seeded_segment(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/v2/customers/segments")).json()["segments"]
    for segment in listed:
        response = await client.get(f"/v2/customers/segments/{segment['id']}")
        assert response.status_code == 200 and response.json() == {"segment": segment}


async def test_unknown_segment_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/customers/segments/NOPE0000000AA.LOYAL")
    assert response.status_code == 404
    error = error_of(response)
    assert (error["code"], error["category"]) == ("NOT_FOUND", "INVALID_REQUEST_ERROR")
    assert "NOPE0000000AA.LOYAL" in error["detail"]


async def test_segments_are_read_only(client: httpx.AsyncClient) -> None:
    before = (await client.get("/v2/customers/segments")).json()
    made = await client.post("/v2/customers/segments", json={"segment": {"name": "Mine"}})
    assert made.status_code == 405 and error_of(made)["code"] == "METHOD_NOT_ALLOWED"
    for method in ("PUT", "DELETE", "POST", "PATCH"):
        response = await client.request(method, f"/v2/customers/segments/{REGULARS_SEGMENT_ID}", json={})
        assert response.status_code == 405 and error_of(response)["code"] == "METHOD_NOT_ALLOWED"
    # As for groups and search: other methods on the list path reach the customer routes (no customer "segments").
    for method in ("PUT", "DELETE"):
        response = await client.request(method, "/v2/customers/segments", json={"note": "x"})
        assert response.status_code == 404 and error_of(response)["code"] == "NOT_FOUND"
    assert (await client.get("/v2/customers/segments")).json() == before


# Membership.


async def test_seeding_puts_customers_into_segments(seeded: httpx.AsyncClient) -> None:
    customers = await every_customer(seeded)
    assert len(customers) == SEEDED
    expected = {customer["id"]: segment_ids_of(customer) for customer, _ in generate(SEEDED)}
    for customer in customers:
        assert customer.get("segment_ids", []) == expected[customer["id"]]
        reachable = "email_address" in customer or "phone_number" in customer
        assert (REACHABLE_SEGMENT_ID in customer.get("segment_ids", [])) == reachable
        assert len(VISIT_SEGMENTS & set(customer.get("segment_ids", []))) <= 1
    sizes = {seg_id: sum(seg_id in c.get("segment_ids", []) for c in customers) for seg_id, _ in SEEDED_SEGMENTS}
    assert all(size > 0 for size in sizes.values()), sizes


async def test_regulars_search_is_stable_across_seedings(seeded: httpx.AsyncClient) -> None:
    regulars = await walk_search(seeded, {"segment_ids": {"all": [REGULARS_SEGMENT_ID]}}, 100)
    other = create_app(":memory:", seed=SEEDED)
    try:
        async with make_client(other) as again:
            assert await walk_search(again, {"segment_ids": {"all": [REGULARS_SEGMENT_ID]}}, 100) == regulars
    finally:
        other.state.store.close()
    assert 10 <= len(regulars) < SEEDED


async def test_segment_ids_in_every_customer_answer(seeded: httpx.AsyncClient) -> None:
    member = (await walk_search(seeded, {"segment_ids": {"all": [LAPSED_SEGMENT_ID]}}, 100))[0]
    retrieved = (await seeded.get(f"/v2/customers/{member}")).json()["customer"]
    assert LAPSED_SEGMENT_ID in retrieved["segment_ids"]
    bulk = (await seeded.post("/v2/customers/bulk-retrieve", json={"customer_ids": [member]})).json()
    assert bulk["responses"][member]["customer"] == retrieved
    updated = (await seeded.put(f"/v2/customers/{member}", json={"note": "kept"})).json()["customer"]
    assert updated["segment_ids"] == retrieved["segment_ids"]
    assert "segment_ids" not in await make_customer(seeded, given_name="New")  # Square computes them later


async def test_membership_never_changes_the_version(client: httpx.AsyncClient) -> None:
    customer = await make_customer(client, given_name="Ada", email_address="ada@example.com")
    store_of(client).write_sync(lambda conn: add_members(conn, [(customer["id"], REGULARS_SEGMENT_ID)]))
    after = (await client.get(f"/v2/customers/{customer['id']}")).json()["customer"]
    assert after["segment_ids"] == [REGULARS_SEGMENT_ID]
    assert (after["version"], after["updated_at"]) == (customer["version"], customer["updated_at"])
    changed = (await client.put(f"/v2/customers/{customer['id']}", json={"note": "x", "version": 0})).json()
    assert changed["customer"]["version"] == 1  # a profile write bumps it once, as always


async def test_seeded_versions_are_the_generated_ones(seeded: httpx.AsyncClient) -> None:
    versions = {customer["id"]: customer["version"] for customer, _ in generate(SEEDED)}
    assert {c["id"]: c["version"] for c in await every_customer(seeded)} == versions


def members(client: httpx.AsyncClient, customer_ids: list[str]) -> int:
    marks = ", ".join("?" for _ in customer_ids)
    sql = f"SELECT count(*) FROM customer_segments WHERE customer_id IN ({marks})"
    count: int = store_of(client).read_sync(lambda conn: conn.execute(sql, customer_ids).fetchone()[0])
    return count


async def test_delete_and_bulk_delete_remove_memberships(seeded: httpx.AsyncClient) -> None:
    reachable = await walk_search(seeded, {"segment_ids": {"all": [REACHABLE_SEGMENT_ID]}}, 100)
    one, several = reachable[0], reachable[1:4]
    assert members(seeded, [one, *several]) >= 4
    assert (await seeded.delete(f"/v2/customers/{one}")).status_code == 200
    assert members(seeded, [one]) == 0
    response = await seeded.post("/v2/customers/bulk-delete", json={"customer_ids": several})
    assert all("errors" not in entry for entry in response.json()["responses"].values())
    assert members(seeded, several) == 0
    left = await walk_search(seeded, {"segment_ids": {"all": [REACHABLE_SEGMENT_ID]}}, 100)
    assert left == reachable[4:]


# Search by segment.


async def test_all_any_none_filters_with_paging(seeded: httpx.AsyncClient) -> None:
    customers = await every_customer(seeded)  # in the DEFAULT sort order, the order every search uses here
    segs = {c["id"]: set(c.get("segment_ids", [])) for c in customers}
    order = [c["id"] for c in customers]
    regular, lapsed, reachable = REGULARS_SEGMENT_ID, LAPSED_SEGMENT_ID, REACHABLE_SEGMENT_ID
    cases = [
        ({"all": [regular, reachable]}, lambda s: {regular, reachable} <= s),
        ({"any": [regular, lapsed]}, lambda s: bool(s & {regular, lapsed})),
        ({"none": [reachable]}, lambda s: reachable not in s),  # few: every seeded customer has an email or phone
        ({"none": [regular]}, lambda s: regular not in s),
        ({"any": [lapsed], "none": [regular]}, lambda s: lapsed in s),
        ({"all": [regular, lapsed]}, lambda s: False),  # the visit segments never overlap
    ]
    for filters, matches in cases:
        expected = [cid for cid in order if matches(segs[cid])]
        assert expected or filters == {"all": [regular, lapsed]}, filters
        assert await walk_search(seeded, {"segment_ids": filters}, 7) == expected, filters
        body = {"query": {"filter": {"segment_ids": filters}}, "count": True, "limit": 1}
        assert (await seeded.post("/v2/customers/search", json=body)).json()["count"] == len(expected)


async def test_segment_and_group_filters_combine(seeded: httpx.AsyncClient) -> None:
    customers = await every_customer(seeded)
    expected = [
        c["id"]
        for c in customers
        if REGULARS_SEGMENT_ID in c.get("segment_ids", []) and VIP_GROUP_ID in c.get("group_ids", [])
    ]
    assert len(expected) > 3
    filters = {"segment_ids": {"any": [REGULARS_SEGMENT_ID]}, "group_ids": {"all": [VIP_GROUP_ID]}}
    assert await walk_search(seeded, filters, 3) == expected


async def test_a_cursor_is_bound_to_its_segment_filter(seeded: httpx.AsyncClient) -> None:
    body: dict[str, Any] = {"query": {"filter": {"segment_ids": {"all": [REGULARS_SEGMENT_ID]}}}, "limit": 2}
    cursor = (await seeded.post("/v2/customers/search", json=body)).json()["cursor"]
    other = {"query": {"filter": {"segment_ids": {"all": [LAPSED_SEGMENT_ID]}}}, "limit": 2, "cursor": cursor}
    response = await seeded.post("/v2/customers/search", json=other)
    assert response.status_code == 400 and error_of(response)["code"] == "INVALID_CURSOR"


@pytest.mark.parametrize("kind", ["all", "any", "none"])
async def test_unknown_segment_is_a_400_naming_it(client: httpx.AsyncClient, kind: str) -> None:
    filters = {"segment_ids": {kind: [REGULARS_SEGMENT_ID, "GMNXRZVEXNQDF.LOYAL"]}, "group_ids": {"all": ["NOPE"]}}
    response = await client.post("/v2/customers/search", json={"query": {"filter": filters}})
    assert response.status_code == 400  # before the unknown group, which alone would answer `{}`
    error = error_of(response)
    assert (error["code"], error["field"]) == ("BAD_REQUEST", f"query.filter.segment_ids.{kind}")
    assert "GMNXRZVEXNQDF.LOYAL" in error["detail"] and "no customer segments" not in error["detail"]


async def test_known_segment_on_an_empty_directory(client: httpx.AsyncClient) -> None:
    body = {"query": {"filter": {"segment_ids": {"any": [REGULARS_SEGMENT_ID]}}}, "count": True}
    assert (await client.post("/v2/customers/search", json=body)).json() == {"count": 0}


# Persistence.


async def test_reopened_file_keeps_segments_without_duplicates(tmp_path: Path) -> None:
    path = str(tmp_path / "sandbox.db")
    first = create_app(path, seed=40)
    try:
        async with make_client(first) as http:
            listed = (await http.get("/v2/customers/segments")).json()
            before = await every_customer(http)
    finally:
        first.state.store.close()
    again = create_app(path, seed=40)  # seeds only an empty store; definitions are INSERT OR IGNORE
    try:
        async with make_client(again) as http:
            assert (await http.get("/v2/customers/segments")).json() == listed  # same rows, same stamps
            assert await every_customer(http) == before
        count = again.state.store.read_sync(lambda c: c.execute("SELECT count(*) FROM customer_segments").fetchone()[0])
        assert count == sum(len(c.get("segment_ids", [])) for c in before)
    finally:
        again.state.store.close()
