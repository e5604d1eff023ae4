"""ListCustomers and SearchCustomers: sort rules, paging, count, every filter and every parameter error."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sandbox_support import error_of, make_customer

from square_customers_mcp.sandbox.seed import NEWSLETTER_GROUP_ID, VIP_GROUP_ID

pytestmark = pytest.mark.anyio


async def search(client: httpx.AsyncClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.post("/v2/customers/search", json=body)
    assert response.status_code == 200, response.text
    customers: list[dict[str, Any]] = response.json().get("customers", [])
    return customers


async def search_filter(client: httpx.AsyncClient, **filters: Any) -> set[str]:
    return {c["id"] for c in await search(client, {"query": {"filter": filters}})}


async def test_empty_directory_answers_empty_object(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v2/customers")).json() == {}
    assert (await client.post("/v2/customers/search", json={})).json() == {}
    assert (await client.get("/v2/customers", params={"count": "true"})).json() == {"count": 0}


async def test_default_sort_uses_name_then_company_email_phone(client: httpx.AsyncClient) -> None:
    made = [
        await make_customer(client, given_name="zoe", family_name="Adams"),
        await make_customer(client, company_name="Acme Supply"),
        await make_customer(client, email_address="mike@example.com"),
        await make_customer(client, phone_number="+1-212-555-0000"),
        await make_customer(client, given_name="Bea"),
        await make_customer(client, family_name="Curie"),
        await make_customer(client, given_name="Zoe", family_name="Abbot", company_name="Aaa"),
    ]
    names = {c["id"]: i for i, c in enumerate(made)}
    listed = (await client.get("/v2/customers")).json()["customers"]
    # keys: "+1-212-555-0000", "acme supply", "bea", "curie", "mike@example.com", "zoe abbot", "zoe adams"
    assert [names[c["id"]] for c in listed] == [3, 1, 4, 5, 2, 6, 0]
    descending = (await client.get("/v2/customers", params={"sort_order": "DESC"})).json()["customers"]
    assert [c["id"] for c in descending] == [c["id"] for c in reversed(listed)]
    assert listed == await search(client, {})


async def test_ties_break_by_id_and_created_at_sort(client: httpx.AsyncClient) -> None:
    made = [await make_customer(client, given_name="Same") for _ in range(5)]
    listed = (await client.get("/v2/customers")).json()["customers"]
    assert [c["id"] for c in listed] == sorted(c["id"] for c in made)
    by_created = (await client.get("/v2/customers", params={"sort_field": "CREATED_AT"})).json()["customers"]
    assert [c["id"] for c in by_created] == [c["id"] for c in sorted(made, key=lambda c: (c["created_at"], c["id"]))]
    body = {"query": {"sort": {"field": "CREATED_AT", "order": "DESC"}}}
    assert [c["id"] for c in await search(client, body)] == [c["id"] for c in reversed(by_created)]


async def test_list_pages_with_cursor_and_count(client: httpx.AsyncClient) -> None:
    made = {(await make_customer(client, given_name=f"P{i:02d}"))["id"] for i in range(7)}
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3, "count": "true"}
    while True:
        body = (await client.get("/v2/customers", params=params)).json()
        assert body["count"] == 7
        seen += [c["id"] for c in body["customers"]]
        if "cursor" not in body:
            break
        params["cursor"] = body["cursor"]
    assert len(seen) == 7 and set(seen) == made


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": 0}, "VALUE_TOO_LOW"),
        ({"limit": 101}, "VALUE_TOO_HIGH"),
        ({"limit": "ten"}, "EXPECTED_INTEGER"),
        ({"sort_field": "NAME"}, "INVALID_ENUM_VALUE"),
        ({"sort_order": "UP"}, "INVALID_ENUM_VALUE"),
        ({"count": "maybe"}, "EXPECTED_BOOLEAN"),
        ({"cursor": "garbage!"}, "INVALID_CURSOR"),
    ],
)
async def test_list_parameter_errors(client: httpx.AsyncClient, params: dict[str, Any], code: str) -> None:
    response = await client.get("/v2/customers", params=params)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == code and error["field"] == next(iter(params))


async def test_cursor_from_another_query_is_rejected(client: httpx.AsyncClient) -> None:
    for i in range(3):
        await make_customer(client, given_name=f"C{i}")
    cursor = (await client.get("/v2/customers", params={"limit": 1})).json()["cursor"]
    other = await client.get("/v2/customers", params={"limit": 1, "cursor": cursor, "sort_order": "DESC"})
    assert other.status_code == 400 and error_of(other)["code"] == "INVALID_CURSOR"
    searched = await client.post("/v2/customers/search", json={"limit": 1, "cursor": cursor})
    assert searched.status_code == 400 and error_of(searched)["code"] == "INVALID_CURSOR"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"limit": 0}, "VALUE_TOO_LOW", "limit"),
        ({"limit": 101}, "VALUE_TOO_HIGH", "limit"),
        ({"limit": "1"}, "EXPECTED_INTEGER", "limit"),
        ({"count": "yes"}, "EXPECTED_BOOLEAN", "count"),
        ({"query": {"sort": {"field": "NAME"}}}, "INVALID_ENUM_VALUE", "query.sort.field"),
        ({"query": {"sort": {"order": "UP"}}}, "INVALID_ENUM_VALUE", "query.sort.order"),
        (
            {"query": {"filter": {"creation_source": {"values": ["NOPE"]}}}},
            "INVALID_ENUM_VALUE",
            "query.filter.creation_source.values",
        ),
        (
            {"query": {"filter": {"creation_source": {"rule": "MAYBE"}}}},
            "INVALID_ENUM_VALUE",
            "query.filter.creation_source.rule",
        ),
        (
            {"query": {"filter": {"created_at": {"start_at": "yesterday"}}}},
            "INVALID_TIME",
            "query.filter.created_at.start_at",
        ),
        (
            {
                "query": {
                    "filter": {"updated_at": {"start_at": "2024-02-01T00:00:00Z", "end_at": "2024-01-01T00:00:00Z"}}
                }
            },
            "INVALID_TIME_RANGE",
            "query.filter.updated_at",
        ),
        (
            {"query": {"filter": {"email_address": {"exact": "a@b.co", "fuzzy": "a"}}}},
            "CONFLICTING_PARAMETERS",
            "query.filter.email_address",
        ),
        (
            {"query": {"filter": {"phone_number": {"exact": "2125554240"}}}},
            "INVALID_PHONE_NUMBER",
            "query.filter.phone_number.exact",
        ),
        ({"query": {"filter": {"segment_ids": {"any": ["SEG1"]}}}}, "BAD_REQUEST", "query.filter.segment_ids.any"),
        (
            {"query": {"filter": {"custom_attribute": {"filters": [{"key": "favorite"}]}}}},
            "BAD_REQUEST",
            "query.filter.custom_attribute",
        ),
        ({"query": {"filter": {"name": {"exact": "x"}}}}, "UNKNOWN_BODY_PARAMETER", "query.filter.name"),
        (
            {"query": {"filter": {"group_ids": {"some": ["x"]}}}},
            "UNKNOWN_BODY_PARAMETER",
            "query.filter.group_ids.some",
        ),
        ({"page": 2}, "UNKNOWN_BODY_PARAMETER", "page"),
        ({"query": []}, "EXPECTED_OBJECT", "query"),
        ({"cursor": "bm9wZQ"}, "INVALID_CURSOR", "cursor"),
    ],
)
async def test_search_errors(client: httpx.AsyncClient, body: dict[str, Any], code: str, field: str) -> None:
    response = await client.post("/v2/customers/search", json=body)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == (code, field)


async def test_segment_error_names_the_segment(client: httpx.AsyncClient) -> None:
    body = {"query": {"filter": {"segment_ids": {"all": ["1KB9JE5EGJXCW.REACHABLE"]}}}}
    response = await client.post("/v2/customers/search", json=body)
    assert "1KB9JE5EGJXCW.REACHABLE" in error_of(response)["detail"]


async def test_email_filters(client: httpx.AsyncClient) -> None:
    steven = await make_customer(client, email_address="steven.johnson@gmail.com")
    bakery = await make_customer(client, email_address="mygmail@stevensbakery.com")
    other = await make_customer(client, email_address="steve@example.com")
    assert await search_filter(client, email_address={"fuzzy": "Steven gmail"}) == {steven["id"], bakery["id"]}
    assert await search_filter(client, email_address={"fuzzy": "gmail steven"}) == {steven["id"], bakery["id"]}
    assert await search_filter(client, email_address={"fuzzy": "steve"}) == {steven["id"], bakery["id"], other["id"]}
    assert await search_filter(client, email_address={"exact": "STEVEN.Johnson@gmail.com"}) == {steven["id"]}
    assert await search_filter(client, email_address={"exact": "steven.johnson@gmail"}) == set()
    # a token must sit inside one stored token: "johnsongmail" spans two
    assert await search_filter(client, email_address={"fuzzy": "johnsongmail"}) == set()


async def test_phone_filters(client: httpx.AsyncClient) -> None:
    a = await make_customer(client, phone_number="+1-415-212-1200")
    b = await make_customer(client, phone_number="+1-212-415-1234")
    c = await make_customer(client, phone_number="+1 (551) 234-1567")
    d = await make_customer(client, phone_number="(206) 222-3333")
    assert await search_filter(client, phone_number={"fuzzy": "415"}) == {a["id"], b["id"], c["id"]}
    assert await search_filter(client, phone_number={"fuzzy": "415 123"}) == {b["id"], c["id"]}
    assert await search_filter(client, phone_number={"exact": "+12062223333"}) == {d["id"]}
    assert await search_filter(client, phone_number={"exact": "+1 (206) 222-3333"}) == {d["id"]}
    assert await search_filter(client, phone_number={"exact": "+14152121200"}) == {a["id"]}


async def test_reference_id_filters(client: httpx.AsyncClient) -> None:
    johnson = await make_customer(client, given_name="J", reference_id="NYC_M_35_JOHNSON")
    murray = await make_customer(client, given_name="M", reference_id="NYC_27_MURRAY")
    await make_customer(client, given_name="S", reference_id="SF_1")
    assert await search_filter(client, reference_id={"fuzzy": "NYC M"}) == {johnson["id"], murray["id"]}
    assert await search_filter(client, reference_id={"fuzzy": "nyc johnson"}) == {johnson["id"]}
    assert await search_filter(client, reference_id={"exact": "nyc_27_murray"}) == {murray["id"]}
    assert await search_filter(client, reference_id={"exact": "NYC_27"}) == set()


async def test_group_filters(client: httpx.AsyncClient) -> None:
    both, vip, none = [await make_customer(client, given_name=n) for n in ("Both", "Vip", "None")]
    for customer, group in ((both, VIP_GROUP_ID), (both, NEWSLETTER_GROUP_ID), (vip, VIP_GROUP_ID)):
        assert (await client.put(f"/v2/customers/{customer['id']}/groups/{group}")).status_code == 200
    assert await search_filter(client, group_ids={"all": [VIP_GROUP_ID, NEWSLETTER_GROUP_ID]}) == {both["id"]}
    assert await search_filter(client, group_ids={"any": [VIP_GROUP_ID, NEWSLETTER_GROUP_ID]}) == {
        both["id"],
        vip["id"],
    }
    assert await search_filter(client, group_ids={"none": [NEWSLETTER_GROUP_ID]}) == {vip["id"], none["id"]}
    assert await search_filter(client, group_ids={"any": [VIP_GROUP_ID], "none": [NEWSLETTER_GROUP_ID]}) == {vip["id"]}
    unknown = await client.post("/v2/customers/search", json={"query": {"filter": {"group_ids": {"any": ["NOPE"]}}}})
    assert unknown.status_code == 200 and unknown.json() == {}


async def test_creation_source_and_time_filters(client: httpx.AsyncClient) -> None:
    first = await make_customer(client, given_name="First")
    second = await make_customer(client, given_name="Second")
    everyone = {first["id"], second["id"]}
    assert await search_filter(client, creation_source={"values": ["THIRD_PARTY"]}) == everyone
    assert await search_filter(client, creation_source={"values": ["THIRD_PARTY"], "rule": "EXCLUDE"}) == set()
    assert await search_filter(client, creation_source={"values": ["IMPORT"], "rule": "EXCLUDE"}) == everyone
    # both ends inclusive
    exact = {"start_at": first["created_at"], "end_at": first["created_at"]}
    assert first["id"] in await search_filter(client, created_at=exact)
    assert await search_filter(client, created_at={"start_at": "2000-01-01T00:00:00-00:00"}) == everyone
    assert await search_filter(client, created_at={"end_at": "2000-01-01T00:00:00+02:00"}) == set()
    await client.put(f"/v2/customers/{second['id']}", json={"note": "touched"})
    touched = (await client.get(f"/v2/customers/{second['id']}")).json()["customer"]["updated_at"]
    assert await search_filter(client, updated_at={"start_at": touched}) == {second["id"]} | (
        {first["id"]} if first["updated_at"] >= touched else set()
    )


async def test_filters_combine_with_and_plus_count_and_paging(client: httpx.AsyncClient) -> None:
    made = [await make_customer(client, given_name=f"N{i}", email_address=f"n{i}@shop.example.com") for i in range(5)]
    await make_customer(client, given_name="Elsewhere", email_address="e@other.org")
    body: dict[str, Any] = {
        "query": {
            "filter": {"email_address": {"fuzzy": "shop"}, "creation_source": {"values": ["THIRD_PARTY"]}},
            "sort": {"field": "CREATED_AT", "order": "DESC"},
        },
        "limit": 2,
        "count": True,
    }
    seen: list[str] = []
    while True:
        page = (await client.post("/v2/customers/search", json=body)).json()
        assert page["count"] == 5
        seen += [c["id"] for c in page["customers"]]
        if "cursor" not in page:
            break
        body["cursor"] = page["cursor"]
    # newest first; customers created in the same millisecond tie-break by id (descending too)
    assert seen == [c["id"] for c in sorted(made, key=lambda c: (c["created_at"], c["id"]), reverse=True)]


@pytest.mark.anyio
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
async def test_times_outside_the_utc_calendar_are_invalid_not_a_crash(client: httpx.AsyncClient, moment: str) -> None:
    response = await client.post(
        "/v2/customers/search", json={"query": {"filter": {"created_at": {"start_at": moment}}}}
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "INVALID_TIME"


@pytest.mark.anyio
@pytest.mark.parametrize("limit", ["1_0", "+5", " 5", "5.0", "0x10"])
async def test_limit_must_be_plain_digits(client: httpx.AsyncClient, limit: str) -> None:
    response = await client.get("/v2/customers", params={"limit": limit})
    assert response.status_code == 400
    assert error_of(response)["code"] == "EXPECTED_INTEGER"
