"""The portable arguments become Square's shapes: `clear` -> nulls, `eu_vat` -> tax_ids, bulk arrays -> maps
keyed by generated or given idempotency keys, search's flat arguments -> Square's query; and the group
tools' follow-up GET for the new version."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from fakes import (
    ADDRESS,
    AMELIA_ID,
    ANY_SUCCESS_BODY,
    CUSTOMER_ID,
    GROUP_ID,
    MARIE_ID,
    call_tool,
    json_response,
    result_text,
)

from square_customers_mcp.tools import TOOLS_BY_NAME

CLEARABLE = [
    "given_name", "family_name", "company_name", "nickname", "email_address", "phone_number", "address",
    "birthday", "reference_id", "note", "eu_vat",
]  # fmt: skip
ADDRESS_LINES = [
    "address_line_1", "address_line_2", "address_line_3", "locality", "sublocality",
    "administrative_district_level_1", "administrative_district_level_2", "postal_code", "country",
]  # fmt: skip
# Whole fields, then one address line at a time (Square merges an address line by line).
CLEAR_NAMES = [*CLEARABLE, *(f"address.{line}" for line in ADDRESS_LINES)]
NOTE = "the customer's version changed; retrieve it before a versioned update or delete"


async def sent_body(tool: str, args: dict[str, Any]) -> Any:
    result, sent = await call_tool(tool, args, json_response(ANY_SUCCESS_BODY))
    assert not result.is_error, result_text(result)
    assert len(sent) == 1
    return json.loads(sent[0].content)


def test_clear_offers_exactly_the_customer_fields() -> None:
    for name in ("update_customer", "bulk_update_customers"):
        schema = TOOLS_BY_NAME[name].schema["properties"]
        if name == "bulk_update_customers":
            schema = schema["customers"]["items"]["properties"]
        assert schema["clear"]["items"]["enum"] == CLEAR_NAMES
        assert set(CLEARABLE) <= set(schema)


@pytest.mark.anyio
async def test_update_sends_null_for_each_cleared_field_in_order() -> None:
    _, sent = await call_tool(
        "update_customer", {"customer_id": CUSTOMER_ID, "clear": ["nickname", "address"]}, json_response({})
    )

    assert sent[0].content == b'{"nickname":null,"address":null}'


@pytest.mark.anyio
@pytest.mark.parametrize("name", CLEAR_NAMES)
async def test_every_clearable_field_becomes_squares_null(name: str) -> None:
    body = await sent_body("update_customer", {"customer_id": CUSTOMER_ID, "clear": [name], "version": 4})

    # eu_vat and address lines are erased inside their objects, which Square merges part by part.
    head, _, line = name.partition(".")
    erased = {"tax_ids": {"eu_vat": None}} if name == "eu_vat" else {head: {line: None} if line else None}
    assert body == {**erased, "version": 4}


@pytest.mark.anyio
async def test_set_and_clear_combine_in_one_update() -> None:
    args = {"customer_id": CUSTOMER_ID, "given_name": "Ada", "eu_vat": "IE3426675K", "clear": ["note", "birthday"]}
    body = await sent_body("update_customer", args)

    assert body == {"given_name": "Ada", "tax_ids": {"eu_vat": "IE3426675K"}, "note": None, "birthday": None}


@pytest.mark.anyio
async def test_create_nests_eu_vat_into_tax_ids() -> None:
    body = await sent_body("create_customer", {"company_name": "Acme", "eu_vat": "IE3426675K", "idempotency_key": "k"})

    assert body == {"company_name": "Acme", "tax_ids": {"eu_vat": "IE3426675K"}, "idempotency_key": "k"}


@pytest.mark.anyio
async def test_bulk_update_builds_squares_map_with_nulls_per_entry() -> None:
    entries = [
        {"customer_id": AMELIA_ID, "eu_vat": "GB123456789", "version": 3},
        {"customer_id": MARIE_ID, "clear": ["eu_vat", "phone_number"]},
    ]
    body = await sent_body("bulk_update_customers", {"customers": entries})

    assert body == {
        "customers": {
            AMELIA_ID: {"tax_ids": {"eu_vat": "GB123456789"}, "version": 3},
            MARIE_ID: {"tax_ids": {"eu_vat": None}, "phone_number": None},
        }
    }


@pytest.mark.anyio
async def test_bulk_create_generates_one_uuid_key_per_entry_without_one() -> None:
    entries = [{"given_name": "Ada"}, {"idempotency_key": "mine-1", "given_name": "Bo"}, {"given_name": "Cy"}]
    body = await sent_body("bulk_create_customers", {"customers": entries})
    again = await sent_body("bulk_create_customers", {"customers": entries})

    keys = list(body["customers"])
    assert len(keys) == 3 and keys[1] == "mine-1"
    for key in (keys[0], keys[2]):
        assert str(uuid.UUID(key)) == key
    assert list(body["customers"].values()) == [{"given_name": "Ada"}, {"given_name": "Bo"}, {"given_name": "Cy"}]
    assert {keys[0], keys[2]}.isdisjoint(again["customers"]), "a new call gets new keys"
    assert entries[0] == {"given_name": "Ada"}, "caller's entries mutated"


def _created_in_reverse(request: httpx.Request) -> httpx.Response:
    """Square's answer, keyed by idempotency key, in the opposite order, the second entry failed."""
    sent = list(json.loads(request.content)["customers"].items())
    responses: dict[str, Any] = {}
    for index, (key, fields) in reversed(list(enumerate(sent))):
        if index == 1:
            responses[key] = {"errors": [{"code": "INVALID_EMAIL_ADDRESS", "field": "email_address"}]}
        else:
            responses[key] = {"customer": {"id": f"ID{index}", "version": 0, **fields}}
    return httpx.Response(200, json={"responses": responses})


@pytest.mark.anyio
async def test_bulk_create_answers_in_entry_order_and_names_failed_entries_by_position() -> None:
    entries = [{"given_name": "Ada"}, {"email_address": "bo@example.com"}, {"idempotency_key": "k3", "note": "x"}]
    entries[2]["family_name"] = "Cy"
    result, _ = await call_tool("bulk_create_customers", {"customers": entries}, _created_in_reverse)

    assert result.structured_content == {
        "customers": [
            {"id": "ID0", "version": 0, "given_name": "Ada"},
            {"id": "ID2", "version": 0, "family_name": "Cy", "note": "x"},
        ],
        "errors": {"1": "INVALID_EMAIL_ADDRESS (email_address)"},
        "succeeded": 2,
        "failed": 1,
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("args", "body"),
    [
        ({"sort_order": "DESC"}, {"query": {"sort": {"order": "DESC"}}, "limit": 25}),
        ({"sort_field": "CREATED_AT"}, {"query": {"sort": {"field": "CREATED_AT"}}, "limit": 25}),
        (
            {"filter": {"reference_id": {"exact": "R-1"}}, "limit": 5},
            {"query": {"filter": {"reference_id": {"exact": "R-1"}}}, "limit": 5},
        ),
        (
            {"filter": {"segment_ids": {"any": ["SEG.LOYAL"]}}, "sort_order": "DESC", "fields": ["note"]},
            {"query": {"filter": {"segment_ids": {"any": ["SEG.LOYAL"]}}, "sort": {"order": "DESC"}}, "limit": 25},
        ),
        ({"cursor": "c-2", "count": True}, {"limit": 25, "cursor": "c-2", "count": True}),
    ],
    ids=["sort-order", "sort-field", "filter", "segments", "cursor-count"],
)
async def test_search_builds_squares_query_from_flat_arguments(args: dict[str, Any], body: dict[str, Any]) -> None:
    assert await sent_body("search_customers", args) == body


@pytest.mark.anyio
async def test_unpublished_address_fields_are_sent_as_given() -> None:
    address = {**ADDRESS, "address_line_3": "Floor 2", "sublocality": "SoHo", "administrative_district_level_2": "NYC"}
    created = await sent_body("create_customer", {"given_name": "Ada", "address": address, "idempotency_key": "k"})
    card = await sent_body(
        "create_customer_card",
        {"customer_id": CUSTOMER_ID, "card_nonce": "cnon:ok", "billing_address": address},
    )

    assert created["address"] == address
    assert card == {"card_nonce": "cnon:ok", "billing_address": address}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "strict", "sparse"),
    [
        (
            "update_customer",
            {"customer_id": CUSTOMER_ID, "note": "x", "nickname": None, "birthday": "", "clear": [], "address": {}},
            {"customer_id": CUSTOMER_ID, "note": "x"},
        ),
        (
            "create_customer",
            {"given_name": "A", "address": {"country": None, "locality": ""}, "eu_vat": None, "idempotency_key": "k"},
            {"given_name": "A", "idempotency_key": "k"},
        ),
        (
            "bulk_update_customers",
            {"customers": [{"customer_id": AMELIA_ID, "note": "n", "version": None, "clear": None, "eu_vat": ""}]},
            {"customers": [{"customer_id": AMELIA_ID, "note": "n"}]},
        ),
        (
            "search_customers",
            {"filter": {"email_address": {"exact": None, "fuzzy": "ex"}, "group_ids": {}}, "sort_field": None},
            {"filter": {"email_address": {"fuzzy": "ex"}}},
        ),
        ("list_customers", {"cursor": None, "limit": None, "fields": []}, {}),
    ],
    ids=["update", "create", "bulk-update", "search", "list"],
)
async def test_null_empty_string_list_and_object_mean_not_given(
    tool: str, strict: dict[str, Any], sparse: dict[str, Any]
) -> None:
    strict_result, strict_sent = await call_tool(tool, strict)
    sparse_result, sparse_sent = await call_tool(tool, sparse)

    assert not strict_result.is_error, result_text(strict_result)
    assert [(r.method, str(r.url), r.content) for r in strict_sent] == [
        (r.method, str(r.url), r.content) for r in sparse_sent
    ]
    assert strict_result.structured_content == sparse_result.structured_content


# The group tools: Square's answer is {}, the customer's new version comes from a GET afterwards.


def membership(follow_up: httpx.Response | type[httpx.TransportError]) -> Any:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            if isinstance(follow_up, httpx.Response):
                return follow_up
            raise follow_up("simulated", request=request)
        return httpx.Response(200, json={})

    return respond


GROUP_ARGS = {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID}


@pytest.mark.anyio
@pytest.mark.parametrize(("tool", "member"), [("add_group_to_customer", True), ("remove_group_from_customer", False)])
async def test_membership_change_returns_the_version_read_afterwards(tool: str, member: bool) -> None:
    retrieved = httpx.Response(200, json={"customer": {"id": CUSTOMER_ID, "version": 8, "group_ids": [GROUP_ID]}})
    result, sent = await call_tool(tool, GROUP_ARGS, membership(retrieved))

    assert result.structured_content == {"member": member, "version": 8}
    assert [(r.method, r.url.path) for r in sent] == [
        (TOOLS_BY_NAME[tool].method, f"/v2/customers/{CUSTOMER_ID}/groups/{GROUP_ID}"),
        ("GET", f"/v2/customers/{CUSTOMER_ID}"),
    ]


@pytest.mark.anyio
@pytest.mark.parametrize(("tool", "member"), [("add_group_to_customer", True), ("remove_group_from_customer", False)])
@pytest.mark.parametrize(
    "follow_up",
    [
        httpx.Response(404, json={"errors": [{"code": "NOT_FOUND"}]}),
        httpx.Response(500, text="oops"),
        httpx.Response(200, json={"customer": {"id": CUSTOMER_ID}}),
        httpx.Response(200, json={"customer": {"id": CUSTOMER_ID, "version": "8"}}),
        httpx.Response(200, text="not json"),
        httpx.ConnectError,
        httpx.ReadTimeout,
    ],
    ids=["404", "500", "no-version", "string-version", "not-json", "connect-error", "timeout"],
)
async def test_a_failed_follow_up_still_reports_the_change_and_says_to_retrieve(
    tool: str, member: bool, follow_up: Any
) -> None:
    result, sent = await call_tool(tool, GROUP_ARGS, membership(follow_up))

    assert not result.is_error, result_text(result)
    assert result.structured_content == {"member": member, "note": NOTE}
    assert sent[0].method == TOOLS_BY_NAME[tool].method
    assert all(r.method == "GET" for r in sent[1:]) and sent[1:]


@pytest.mark.anyio
@pytest.mark.parametrize("tool", ["add_group_to_customer", "remove_group_from_customer"])
async def test_a_failed_membership_change_sends_no_follow_up(tool: str) -> None:
    answer = {"errors": [{"code": "NOT_FOUND", "detail": "Group not found."}]}
    result, sent = await call_tool(tool, GROUP_ARGS, json_response(answer, 404))

    assert result.is_error
    assert len(sent) == 1
