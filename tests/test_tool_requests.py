"""What each tool sends to Square (asserted through httpx.MockTransport) and what it returns."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fakes import (
    ADDRESS,
    ADDRESS_LINE,
    AMELIA_ID,
    CARD_ID,
    CUSTOMER_ID,
    GROUP_ID,
    MARIE_ID,
    MISSING_ID,
    TOKEN,
    VALID_ARGS,
    call_tool,
    json_response,
    response_example,
    result_text,
)

from server.config import Settings
from tools import TOOLS

BULK_CREATE_KEYS = ("8bb76c4f-e35d-4c5b-90de-1194cd9179f4", "d1689f23-b25d-4932-b2f0-aed00f5e2029")
NOT_FOUND_MISSING = f"NOT_FOUND: Customer with ID `{MISSING_ID}` not found."
SEGMENT = "1KB9JE5EGJXCW.REACHABLE"

# The spec examples' customers, trimmed by hand: what the model should read.
RETRIEVED = {
    "id": CUSTOMER_ID,
    "version": 1,
    "given_name": "Amelia",
    "family_name": "Earhart",
    "email_address": "Amelia.Earhart@example.com",
    "phone_number": "+1-212-555-4240",
    "reference_id": "YOUR_REFERENCE_ID",
    "note": "a customer",
    "address": ADDRESS_LINE,
    "group_ids": [GROUP_ID],
    "segment_ids": [SEGMENT],
    "created_at": "2016-03-23T20:21:54.859Z",
    "updated_at": "2016-03-23T20:21:54.859Z",
}
# Lists and bulk results show a customer's list view: no address, birthday, source or timestamps
# unless named in `fields` (tools/trim.py LIST_VIEW).
LIST_ONLY_WITH_FIELDS = ("address", "birthday", "creation_source", "eu_vat", "created_at", "updated_at")


def list_view(customer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in customer.items() if k not in LIST_ONLY_WITH_FIELDS}


LISTED = list_view(RETRIEVED)
CREATED = {k: v for k, v in RETRIEVED.items() if k not in ("group_ids", "segment_ids")} | {"version": 0}
UPDATED = {
    "id": CUSTOMER_ID,
    "version": 3,
    "given_name": "Amelia",
    "family_name": "Earhart",
    "email_address": "New.Amelia.Earhart@example.com",
    "reference_id": "YOUR_REFERENCE_ID",
    "note": "updated customer note",
    "address": ADDRESS_LINE,
    "created_at": "2016-03-23T20:21:54.859Z",
    "updated_at": "2016-05-15T20:21:55Z",
}
BULK_AMELIA_FULL = {
    "id": AMELIA_ID,
    "version": 3,
    "given_name": "Amelia",
    "family_name": "Earhart",
    "email_address": "New.Amelia.Earhart@example.com",
    "note": "updated customer note",
    "birthday": "1897-07-24",
    "created_at": "2024-01-19T00:27:54.59Z",
    "updated_at": "2024-01-19T00:38:06Z",
}
BULK_MARIE_FULL = {
    "id": MARIE_ID,
    "version": 1,
    "given_name": "Marie",
    "family_name": "Curie",
    "created_at": "2024-01-19T00:27:54.59Z",
    "updated_at": "2024-01-19T00:38:06Z",
}
BULK_AMELIA = list_view(BULK_AMELIA_FULL)
BULK_MARIE = list_view(BULK_MARIE_FULL)
BULK_CREATED_FULL = {
    BULK_CREATE_KEYS[0]: {
        "id": AMELIA_ID,
        "version": 0,
        "given_name": "Amelia",
        "family_name": "Earhart",
        "email_address": "Amelia.Earhart@example.com",
        "phone_number": "+1-212-555-4240",
        "reference_id": "YOUR_REFERENCE_ID",
        "note": "a customer",
        "address": ADDRESS_LINE,
        "created_at": "2024-03-23T20:21:54.859Z",
        "updated_at": "2024-03-23T20:21:54.859Z",
    },
    BULK_CREATE_KEYS[1]: {
        "id": MARIE_ID,
        "version": 0,
        "given_name": "Marie",
        "family_name": "Curie",
        "email_address": "Marie.Curie@example.com",
        "phone_number": "+1-212-444-4240",
        "reference_id": "YOUR_REFERENCE_ID",
        "note": "another customer",
        "address": "500 Electric Ave, Suite 601, New York, NY 10003, US",
        "created_at": "2024-03-23T20:21:54.859Z",
        "updated_at": "2024-03-23T20:21:54.859Z",
    },
}
SEARCHED_FULL = [
    {
        "id": CUSTOMER_ID,
        "version": 7,
        "given_name": "James",
        "family_name": "Bond",
        "email_address": "james.bond@example.com",
        "phone_number": "+1-212-555-4250",
        "reference_id": "YOUR_REFERENCE_ID_2",
        "address": "505 Electric Ave, Suite 600, New York, NY 10003, US",
        "creation_source": "DIRECTORY",
        "group_ids": [GROUP_ID],
        "segment_ids": [SEGMENT],
        "created_at": "2018-01-23T20:21:54.859Z",
        "updated_at": "2020-04-20T10:02:43.083Z",
    },
    {
        "id": "A9641GZW2H7Z56YYSD41Q12HDW",
        "version": 1,
        "given_name": "Amelia",
        "family_name": "Earhart",
        "email_address": "amelia.earhart@example.com",
        "phone_number": "+1-212-555-9238",
        "reference_id": "YOUR_REFERENCE_ID_1",
        "note": "a customer",
        "address": ADDRESS_LINE,
        "group_ids": [GROUP_ID],
        "segment_ids": [SEGMENT],
        "created_at": "2018-01-30T14:10:54.859Z",
        "updated_at": "2018-03-08T18:25:21.342Z",
    },
]
BULK_CREATED = {key: list_view(c) for key, c in BULK_CREATED_FULL.items()}
SEARCHED = [list_view(c) for c in SEARCHED_FULL]


@dataclass(frozen=True)
class Case:
    tool: str
    args: dict[str, Any]
    method: str
    raw_path: str
    query: dict[str, str]
    body: dict[str, Any] | None
    """The exact JSON body; None: the request has no body at all."""
    example: str
    """components.schemas.<example>.example is what the fake Square answers."""
    expected: dict[str, Any]
    extra_response: dict[str, Any] | None = None
    """Fields added to the spec example (e.g. cursor and count, which the examples lack)."""


def _amelia_input() -> dict[str, Any]:
    return {
        "given_name": "Amelia",
        "family_name": "Earhart",
        "email_address": "Amelia.Earhart@example.com",
        "address": dict(ADDRESS),
        "phone_number": "+1-212-555-4240",
        "reference_id": "YOUR_REFERENCE_ID",
        "note": "a customer",
    }


_BULK_CREATE_ARGS = {
    "customers": {
        BULK_CREATE_KEYS[0]: _amelia_input(),
        BULK_CREATE_KEYS[1]: {
            "given_name": "Marie",
            "family_name": "Curie",
            "email_address": "Marie.Curie@example.com",
        },
    }
}
_BULK_UPDATE_ARGS = {
    "customers": {
        AMELIA_ID: {"email_address": "New.Amelia.Earhart@example.com", "note": "updated customer note", "version": 2},
        MARIE_ID: {"phone_number": None, "birthday": None, "version": 0},
    }
}
_SEARCH_ARGS = {
    "query": {
        "filter": {
            "creation_source": {"values": ["THIRD_PARTY", "DIRECTORY"], "rule": "INCLUDE"},
            "created_at": {"start_at": "2018-01-01T00:00:00-00:00", "end_at": "2018-02-01T00:00:00Z"},
            "email_address": {"fuzzy": "example.com"},
            "group_ids": {"all": [GROUP_ID]},
        },
        "sort": {"field": "CREATED_AT", "order": "ASC"},
    },
    "limit": 2,
}
_CARD_ARGS = {
    "customer_id": CUSTOMER_ID,
    "card_nonce": "YOUR_CARD_NONCE",
    "billing_address": dict(ADDRESS),
    "cardholder_name": "Amelia Earhart",
}
_CUSTOMER_PATH = f"/v2/customers/{CUSTOMER_ID}"

CASES = [
    Case(
        "list_customers",
        {"cursor": "9dpS093Uy12AzeE", "limit": 2, "sort_field": "CREATED_AT", "sort_order": "DESC", "count": True},
        "GET",
        "/v2/customers",
        {"cursor": "9dpS093Uy12AzeE", "limit": "2", "sort_field": "CREATED_AT", "sort_order": "DESC", "count": "true"},
        None,
        "ListCustomersResponse",
        {"customers": [LISTED], "next_cursor": "NEXT-PAGE", "count": 7},
        extra_response={"cursor": "NEXT-PAGE", "count": 7},
    ),
    Case(
        "create_customer",
        {**_amelia_input(), "idempotency_key": "my-key-0001"},
        "POST",
        "/v2/customers",
        {},
        {**_amelia_input(), "idempotency_key": "my-key-0001"},
        "CreateCustomerResponse",
        {"customer": CREATED, "idempotency_key": "my-key-0001"},
    ),
    Case(
        "bulk_create_customers",
        _BULK_CREATE_ARGS,
        "POST",
        "/v2/customers/bulk-create",
        {},
        _BULK_CREATE_ARGS,
        "BulkCreateCustomersResponse",
        {"customers": BULK_CREATED, "succeeded": 2, "failed": 0},
    ),
    Case(
        "bulk_delete_customers",
        {"customer_ids": [MISSING_ID, AMELIA_ID, MARIE_ID]},
        "POST",
        "/v2/customers/bulk-delete",
        {},
        {"customer_ids": [MISSING_ID, AMELIA_ID, MARIE_ID]},
        "BulkDeleteCustomersResponse",
        {"deleted": [AMELIA_ID, MARIE_ID], "errors": {MISSING_ID: NOT_FOUND_MISSING}, "succeeded": 2, "failed": 1},
    ),
    Case(
        "bulk_retrieve_customers",
        {"customer_ids": [MISSING_ID, AMELIA_ID, MARIE_ID]},
        "POST",
        "/v2/customers/bulk-retrieve",
        {},
        {"customer_ids": [MISSING_ID, AMELIA_ID, MARIE_ID]},
        "BulkRetrieveCustomersResponse",
        {
            "customers": [BULK_AMELIA, BULK_MARIE],
            "errors": {MISSING_ID: NOT_FOUND_MISSING},
            "succeeded": 2,
            "failed": 1,
        },
    ),
    Case(
        "bulk_update_customers",
        _BULK_UPDATE_ARGS,
        "POST",
        "/v2/customers/bulk-update",
        {},
        _BULK_UPDATE_ARGS,
        "BulkUpdateCustomersResponse",
        {"customers": [BULK_AMELIA, BULK_MARIE], "succeeded": 2, "failed": 0},
    ),
    Case(
        "search_customers",
        _SEARCH_ARGS,
        "POST",
        "/v2/customers/search",
        {},
        _SEARCH_ARGS,
        "SearchCustomersResponse",
        {"customers": SEARCHED, "next_cursor": "9dpS093Uy12AzeE"},
    ),
    Case(
        "delete_customer",
        {"customer_id": CUSTOMER_ID, "version": 3},
        "DELETE",
        _CUSTOMER_PATH,
        {"version": "3"},
        None,
        "DeleteCustomerResponse",
        {"deleted": True, "customer_id": CUSTOMER_ID},
    ),
    Case(
        "retrieve_customer",
        {"customer_id": CUSTOMER_ID},
        "GET",
        _CUSTOMER_PATH,
        {},
        None,
        "RetrieveCustomerResponse",
        {"customer": RETRIEVED},
    ),
    Case(
        "update_customer",
        {
            "customer_id": CUSTOMER_ID,
            "email_address": "New.Amelia.Earhart@example.com",
            "note": "updated customer note",
            "phone_number": None,
            "version": 2,
        },
        "PUT",
        _CUSTOMER_PATH,
        {},
        {
            "email_address": "New.Amelia.Earhart@example.com",
            "note": "updated customer note",
            "phone_number": None,
            "version": 2,
        },
        "UpdateCustomerResponse",
        {"customer": UPDATED},
    ),
    Case(
        "create_customer_card",
        _CARD_ARGS,
        "POST",
        f"{_CUSTOMER_PATH}/cards",
        {},
        {k: v for k, v in _CARD_ARGS.items() if k != "customer_id"},
        "CreateCustomerCardResponse",
        {
            "card": {
                "id": "icard-card_id",
                "card_brand": "VISA",
                "last_4": "1111",
                "exp_month": 11,
                "exp_year": 2018,
                "cardholder_name": "Amelia Earhart",
                "billing_address": ADDRESS_LINE,
            }
        },
    ),
    Case(
        "delete_customer_card",
        {"customer_id": CUSTOMER_ID, "card_id": CARD_ID},
        "DELETE",
        f"{_CUSTOMER_PATH}/cards/ccof%3AuIbfJXhXETSP197M3GB",
        {},
        None,
        "DeleteCustomerCardResponse",
        {"deleted": True, "customer_id": CUSTOMER_ID, "card_id": CARD_ID},
    ),
    Case(
        "remove_group_from_customer",
        {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID},
        "DELETE",
        f"{_CUSTOMER_PATH}/groups/{GROUP_ID}",
        {},
        None,
        "RemoveGroupFromCustomerResponse",
        {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID, "member": False},
    ),
    Case(
        "add_group_to_customer",
        {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID},
        "PUT",
        f"{_CUSTOMER_PATH}/groups/{GROUP_ID}",
        {},
        None,  # the spec defines no request body for AddGroupToCustomer
        "AddGroupToCustomerResponse",
        {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID, "member": True},
    ),
]
CASES_BY_TOOL = {case.tool: case for case in CASES}


def test_every_tool_has_a_request_case() -> None:
    assert [case.tool for case in CASES] == [tool.name for tool in TOOLS]


def _respond_with(case: Case) -> Any:
    body = response_example(case.example) | (case.extra_response or {})
    return json_response(body)


def _assert_request(request: httpx.Request, case: Case, base: str, version: str) -> None:
    assert request.method == case.method
    assert f"{request.url.scheme}://{request.url.netloc.decode()}" == base
    assert request.url.raw_path.decode().split("?")[0] == case.raw_path
    assert sorted(request.url.params.multi_items()) == sorted(case.query.items())
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Square-Version"] == version
    if case.body is None:
        assert request.content == b""
        assert "content-type" not in request.headers
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.content) == case.body


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.tool)
async def test_request_and_trimmed_result(case: Case) -> None:
    result, requests = await call_tool(case.tool, case.args, _respond_with(case))

    assert len(requests) == 1
    _assert_request(requests[0], case, "https://connect.squareupsandbox.com", "2026-09-16")
    assert not result.is_error, result_text(result)
    assert result.structured_content == case.expected
    text = result_text(result)
    assert json.loads(text) == case.expected
    assert text == json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False), "not compact JSON"


ENVIRONMENTS = [
    pytest.param(
        Settings(access_token=TOKEN, environment="sandbox"), "https://connect.squareupsandbox.com", id="sandbox"
    ),
    pytest.param(
        Settings(access_token=TOKEN, environment="production"), "https://connect.squareup.com", id="production"
    ),
    pytest.param(
        Settings(access_token=TOKEN, environment="sandbox", base_url="http://127.0.0.1:8765"),
        "http://127.0.0.1:8765",
        id="base_url-override",
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.tool)
@pytest.mark.parametrize(("settings", "base"), ENVIRONMENTS)
async def test_base_url_per_environment(case: Case, settings: Settings, base: str) -> None:
    result, requests = await call_tool(case.tool, case.args, _respond_with(case), settings=settings)

    assert not result.is_error, result_text(result)
    assert len(requests) == 1
    _assert_request(requests[0], case, base, "2026-09-16")


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.tool)
async def test_custom_square_version_header(case: Case) -> None:
    settings = Settings(access_token=TOKEN, environment="production", square_version="2024-01-18")
    result, requests = await call_tool(case.tool, case.args, _respond_with(case), settings=settings)

    assert not result.is_error, result_text(result)
    assert len(requests) == 1
    _assert_request(requests[0], case, "https://connect.squareup.com", "2024-01-18")


@pytest.mark.anyio
async def test_base_url_with_a_path_prefix_keeps_the_prefix() -> None:
    settings = Settings(access_token=TOKEN, environment="sandbox", base_url="https://proxy.example/square")
    case = CASES_BY_TOOL["retrieve_customer"]
    result, requests = await call_tool(case.tool, case.args, _respond_with(case), settings=settings)

    assert not result.is_error
    assert str(requests[0].url) == f"https://proxy.example/square/v2/customers/{CUSTOMER_ID}"


@pytest.mark.anyio
async def test_create_customer_generates_a_uuid_idempotency_key_when_absent() -> None:
    args = {"given_name": "Amelia", "email_address": "Amelia.Earhart@example.com"}
    respond = json_response(response_example("CreateCustomerResponse"))
    first, sent = await call_tool("create_customer", args, respond)
    second, sent_again = await call_tool("create_customer", args, respond)

    assert not first.is_error
    assert first.structured_content is not None and second.structured_content is not None
    key = first.structured_content["idempotency_key"]
    assert str(uuid.UUID(key)) == key  # a canonical UUID string
    body = json.loads(sent[0].content)
    assert body == {**args, "idempotency_key": key}
    assert json.loads(result_text(first))["idempotency_key"] == key
    # A new call gets a new key (a retry of *this* call reuses the returned one).
    assert second.structured_content["idempotency_key"] != key
    assert json.loads(sent_again[0].content)["idempotency_key"] == second.structured_content["idempotency_key"]
    assert args == {"given_name": "Amelia", "email_address": "Amelia.Earhart@example.com"}, "caller's dict mutated"


@pytest.mark.anyio
async def test_create_customer_keeps_a_given_idempotency_key() -> None:
    args = {"company_name": "Electric Ave Co", "idempotency_key": "retry-7f3a"}
    result, sent = await call_tool("create_customer", args, json_response(response_example("CreateCustomerResponse")))

    assert json.loads(sent[0].content) == args
    assert result.structured_content is not None
    assert result.structured_content["idempotency_key"] == "retry-7f3a"


@pytest.mark.anyio
async def test_update_customer_sends_null_for_a_cleared_field() -> None:
    args = {"customer_id": CUSTOMER_ID, "nickname": None, "address": None}
    result, sent = await call_tool("update_customer", args, json_response(response_example("UpdateCustomerResponse")))

    assert not result.is_error
    assert sent[0].content == b'{"nickname":null,"address":null}'


@pytest.mark.anyio
async def test_delete_customer_sends_version_as_a_query_parameter_not_a_body() -> None:
    _, sent = await call_tool("delete_customer", {"customer_id": CUSTOMER_ID, "version": 0}, json_response({}))

    assert str(sent[0].url) == f"https://connect.squareupsandbox.com/v2/customers/{CUSTOMER_ID}?version=0"
    assert sent[0].content == b""


@pytest.mark.anyio
@pytest.mark.parametrize(("count", "sent_as"), [(True, "true"), (False, "false")])
async def test_list_customers_sends_count_lower_case(count: bool, sent_as: str) -> None:
    _, sent = await call_tool("list_customers", {"count": count}, json_response({"customers": []}))

    assert sent[0].url.raw_path == f"/v2/customers?count={sent_as}".encode()


@pytest.mark.anyio
async def test_list_customers_without_arguments_sends_no_query() -> None:
    result, sent = await call_tool("list_customers", None, json_response({}))

    assert sent[0].url.raw_path == b"/v2/customers"
    assert result.structured_content == {"customers": []}


PATH_TOOLS = [tool for tool in TOOLS if tool.path_params]


@pytest.mark.anyio
@pytest.mark.parametrize("tool", PATH_TOOLS, ids=lambda t: t.name)
async def test_path_params_are_percent_encoded(tool: Any) -> None:
    args = dict(VALID_ARGS[tool.name])
    for name in tool.path_params:
        args[name] = f"{name.upper()}:A.b-c_d"
    _, sent = await call_tool(tool.name, args)

    assert len(sent) == 1
    raw_path = sent[0].url.raw_path.decode().split("?")[0]
    for name in tool.path_params:
        assert f"/{name.upper()}%3AA.b-c_d" in raw_path
    assert raw_path.count("/") == tool.path.count("/")


@pytest.mark.anyio
@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
async def test_exactly_one_request_per_call_and_the_token_is_only_in_the_header(tool: Any) -> None:
    result, sent = await call_tool(tool.name, VALID_ARGS[tool.name])

    assert not result.is_error, result_text(result)
    assert len(sent) == 1
    assert TOKEN not in str(sent[0].url)
    assert TOKEN.encode() not in sent[0].content
    assert TOKEN not in result_text(result)
    assert sent[0].headers["Accept"] == "application/json"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "args", "sent_as"),
    [
        pytest.param("list_customers", {"limit": 5.0}, "limit=5", id="list-limit-5.0"),
        pytest.param("list_customers", {"cursor": "c", "limit": 100.0}, "cursor=c&limit=100", id="list-limit-100.0"),
        pytest.param(
            "delete_customer", {"customer_id": CUSTOMER_ID, "version": 2.0}, "version=2", id="delete-version-2.0"
        ),
    ],
)
async def test_integral_floats_are_sent_as_integers_in_the_query(tool: str, args: dict[str, Any], sent_as: str) -> None:
    result, sent = await call_tool(tool, args, json_response({}))

    assert not result.is_error
    assert sent[0].url.query.decode() == sent_as


@pytest.mark.anyio
async def test_fields_is_local_and_widens_the_list_view() -> None:
    args = {**_SEARCH_ARGS, "fields": ["address", "created_at"]}
    result, sent = await call_tool("search_customers", args, json_response(response_example("SearchCustomersResponse")))

    assert json.loads(sent[0].content) == _SEARCH_ARGS  # `fields` never reaches Square
    assert result.structured_content == {
        "customers": [
            {k: v for k, v in c.items() if k in ("id", "version", "address", "created_at")} for c in SEARCHED_FULL
        ],
        "next_cursor": "9dpS093Uy12AzeE",
    }


@pytest.mark.anyio
async def test_fields_narrows_a_retrieved_customer_and_is_not_sent() -> None:
    args = {"customer_id": CUSTOMER_ID, "fields": ["email_address"]}
    result, sent = await call_tool(
        "retrieve_customer", args, json_response(response_example("RetrieveCustomerResponse"))
    )

    assert sent[0].url.raw_path == f"/v2/customers/{CUSTOMER_ID}".encode()
    assert result.structured_content == {
        "customer": {"id": CUSTOMER_ID, "version": 1, "email_address": "Amelia.Earhart@example.com"}
    }
