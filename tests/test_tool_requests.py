"""What each tool sends to Square (asserted through httpx.MockTransport) and what it returns."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from fakes import (
    CUSTOMER_ID,
    TOKEN,
    VALID_ARGS,
    Responder,
    call_tool,
    json_response,
    requests_per_call,
    response_example,
    result_text,
)
from request_cases import CASES, CASES_BY_TOOL, SEARCH_ARGS, SEARCH_BODY, SEARCHED_FULL, Case

from square_customers_mcp.config import Settings
from square_customers_mcp.tools import TOOLS, TOOLS_BY_NAME, ToolSpec

SANDBOX_BASE = "https://connect.squareupsandbox.com"


def test_every_tool_has_a_request_case() -> None:
    assert [case.tool for case in CASES] == [tool.name for tool in TOOLS]


def test_a_case_has_a_follow_up_exactly_when_its_tool_does() -> None:
    for case in CASES:
        assert (case.follow_up is not None) is (TOOLS_BY_NAME[case.tool].follow_up is not None), case.tool


@pytest.mark.parametrize("case", [c for c in CASES if c.square_request], ids=lambda c: c.tool)
def test_the_expected_body_is_squares_documented_request(case: Case) -> None:
    assert case.body == response_example(case.square_request or "")


def test_the_search_body_is_squares_documented_request_without_its_defaults() -> None:
    example = response_example("SearchCustomersRequest")
    assert example["query"]["sort"].pop("order") == "ASC"
    assert example["query"]["filter"]["creation_source"].pop("rule") == "INCLUDE"

    assert CASES_BY_TOOL["search_customers"].body == example


def respond_with(case: Case) -> Responder:
    """The case's spec example for the call; the spec's retrieved customer for a follow-up GET."""
    body = response_example(case.example) | (case.extra_response or {})
    retrieved = response_example("RetrieveCustomerResponse")

    def respond(request: httpx.Request) -> httpx.Response:
        if case.follow_up and request.method == "GET" and request.url.raw_path.decode() == case.follow_up:
            return httpx.Response(200, json=retrieved)
        return httpx.Response(200, json=body)

    return respond


def _assert_headers(request: httpx.Request, base: str, version: str) -> None:
    assert f"{request.url.scheme}://{request.url.netloc.decode()}" == base
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Square-Version"] == version


def assert_requests(requests: list[httpx.Request], case: Case, base: str, version: str) -> None:
    """The call's request exactly as the case says, then the follow-up GET if the case has one, nothing else."""
    request = requests[0]
    assert request.method == case.method
    assert request.url.raw_path.decode().split("?")[0] == case.raw_path
    assert sorted(request.url.params.multi_items()) == sorted(case.query.items())
    _assert_headers(request, base, version)
    if case.body is None:
        assert request.content == b""
        assert "content-type" not in request.headers
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.content) == case.body
    follow_ups = requests[1:]
    if case.follow_up is None:
        assert follow_ups == []
        return
    assert len(follow_ups) == 1
    (get,) = follow_ups
    assert (get.method, get.url.raw_path.decode(), get.content) == ("GET", case.follow_up, b"")
    _assert_headers(get, base, version)


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.tool)
async def test_request_and_trimmed_result(case: Case) -> None:
    result, requests = await call_tool(case.tool, case.args, respond_with(case))

    assert_requests(requests, case, SANDBOX_BASE, "2026-09-16")
    assert not result.is_error, result_text(result)
    assert result.structured_content == case.expected
    text = result_text(result)
    assert json.loads(text) == case.expected
    assert text == json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False), "not compact JSON"


ENVIRONMENTS = [
    pytest.param(Settings(access_token=TOKEN, environment="sandbox"), SANDBOX_BASE, id="sandbox"),
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
    result, requests = await call_tool(case.tool, case.args, respond_with(case), settings=settings)

    assert not result.is_error, result_text(result)
    assert_requests(requests, case, base, "2026-09-16")


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.tool)
async def test_custom_square_version_header(case: Case) -> None:
    settings = Settings(access_token=TOKEN, environment="production", square_version="2024-01-18")
    result, requests = await call_tool(case.tool, case.args, respond_with(case), settings=settings)

    assert not result.is_error, result_text(result)
    assert_requests(requests, case, "https://connect.squareup.com", "2024-01-18")


@pytest.mark.anyio
async def test_base_url_with_a_path_prefix_keeps_the_prefix() -> None:
    settings = Settings(access_token=TOKEN, environment="sandbox", base_url="https://proxy.example/square")
    case = CASES_BY_TOOL["add_group_to_customer"]
    result, requests = await call_tool(case.tool, case.args, respond_with(case), settings=settings)

    assert not result.is_error
    assert [str(r.url) for r in requests] == [
        f"https://proxy.example/square{case.raw_path}",
        f"https://proxy.example/square/v2/customers/{CUSTOMER_ID}",
    ]


@pytest.mark.anyio
async def test_create_customer_generates_a_uuid_idempotency_key_when_absent() -> None:
    args = {"given_name": "Amelia", "email_address": "Amelia.Earhart@example.com"}
    respond = json_response(response_example("CreateCustomerResponse"))
    first, sent = await call_tool("create_customer", args, respond)
    second, sent_again = await call_tool("create_customer", args, respond)

    assert not first.is_error and not second.is_error
    key = json.loads(sent[0].content)["idempotency_key"]
    assert str(uuid.UUID(key)) == key  # a canonical UUID string
    assert json.loads(sent[0].content) == {**args, "idempotency_key": key}
    assert json.loads(sent_again[0].content)["idempotency_key"] != key  # a new call, a new key
    # The model never needs the key on success: the result is the customer alone.
    assert first.structured_content == CASES_BY_TOOL["create_customer"].expected
    assert key not in result_text(first)
    assert args == {"given_name": "Amelia", "email_address": "Amelia.Earhart@example.com"}, "caller's dict mutated"


@pytest.mark.anyio
async def test_create_customer_keeps_a_given_idempotency_key() -> None:
    args = {"company_name": "Electric Ave Co", "idempotency_key": "retry-7f3a"}
    result, sent = await call_tool("create_customer", args, json_response(response_example("CreateCustomerResponse")))

    assert not result.is_error
    assert json.loads(sent[0].content) == args
    assert result.structured_content is not None and set(result.structured_content) == {"customer"}


@pytest.mark.anyio
async def test_delete_customer_sends_version_as_a_query_parameter_not_a_body() -> None:
    _, sent = await call_tool("delete_customer", {"customer_id": CUSTOMER_ID, "version": 0}, json_response({}))

    assert str(sent[0].url) == f"{SANDBOX_BASE}/v2/customers/{CUSTOMER_ID}?version=0"
    assert sent[0].content == b""


@pytest.mark.anyio
async def test_list_customers_sends_count_lower_case() -> None:
    _, sent = await call_tool("list_customers", {"count": True}, json_response({"customers": []}))

    assert sorted(sent[0].url.params.multi_items()) == [("count", "true"), ("limit", "25")]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "args", "sent"),
    [
        ("list_customers", {"count": False, "sort_field": "DEFAULT", "sort_order": "ASC"}, "limit=25"),
        ("list_customers", {"count": False, "sort_field": "CREATED_AT", "sort_order": "DESC"}, None),
        (
            "search_customers",
            {"count": False, "sort_field": "DEFAULT", "sort_order": "ASC", "filter": {"creation_source": {
                "values": ["IMPORT"], "rule": "INCLUDE"}}},
            {"query": {"filter": {"creation_source": {"values": ["IMPORT"]}}}, "limit": 25},
        ),
        (
            "search_customers",
            {"sort_order": "DESC", "filter": {"creation_source": {"values": ["IMPORT"], "rule": "EXCLUDE"}}},
            {"query": {"filter": {"creation_source": {"values": ["IMPORT"], "rule": "EXCLUDE"}}, "sort": {
                "order": "DESC"}}, "limit": 25},
        ),
    ],
    ids=["list-defaults", "list-others", "search-defaults", "search-others"],
)  # fmt: skip
async def test_a_value_equal_to_squares_default_is_not_sent(tool: str, args: dict[str, Any], sent: Any) -> None:
    result, requests = await call_tool(tool, args, json_response({}))

    assert not result.is_error, result_text(result)
    if tool == "list_customers":
        expected = sent or "sort_field=CREATED_AT&sort_order=DESC&limit=25"
        assert sorted(requests[0].url.query.decode().split("&")) == sorted(expected.split("&"))
    else:
        assert json.loads(requests[0].content) == sent


@pytest.mark.anyio
async def test_list_customers_without_arguments_asks_for_a_page_of_25() -> None:
    result, sent = await call_tool("list_customers", None, json_response({}))

    assert sent[0].url.raw_path == b"/v2/customers?limit=25"
    assert result.structured_content == {"customers": []}


@pytest.mark.anyio
@pytest.mark.parametrize("args", [None, {}, {"limit": None, "cursor": None, "filter": None}])
async def test_search_customers_without_arguments_sends_only_the_page_size(args: dict[str, Any] | None) -> None:
    result, sent = await call_tool("search_customers", args, json_response({}))

    assert not result.is_error, result_text(result)
    assert json.loads(sent[0].content) == {"limit": 25}


@pytest.mark.anyio
@pytest.mark.parametrize("limit", [1, 100])
async def test_a_given_limit_replaces_the_default(limit: int) -> None:
    _, listed = await call_tool("list_customers", {"limit": limit}, json_response({}))
    _, searched = await call_tool("search_customers", {"limit": limit}, json_response({}))

    assert listed[0].url.params.multi_items() == [("limit", str(limit))]
    assert json.loads(searched[0].content) == {"limit": limit}


@pytest.mark.anyio
@pytest.mark.parametrize("tool", [t for t in TOOLS if t.name.startswith("list_customer_")], ids=lambda t: t.name)
async def test_look_ups_send_no_page_size_of_their_own(tool: ToolSpec) -> None:
    _, sent = await call_tool(tool.name, {}, json_response({}))

    assert sent[0].url.raw_path.decode() == tool.path


PATH_TOOLS = [tool for tool in TOOLS if tool.path_params]


@pytest.mark.anyio
@pytest.mark.parametrize("tool", PATH_TOOLS, ids=lambda t: t.name)
async def test_path_params_are_percent_encoded(tool: ToolSpec) -> None:
    args = dict(VALID_ARGS[tool.name])
    for name in tool.path_params:
        args[name] = f"{name.upper()}:A.b-c_d"
    result, sent = await call_tool(tool.name, args)

    assert not result.is_error, result_text(result)
    assert len(sent) == requests_per_call(tool)
    raw_path = sent[0].url.raw_path.decode().split("?")[0]
    for name in tool.path_params:
        assert f"/{name.upper()}%3AA.b-c_d" in raw_path
    assert raw_path.count("/") == tool.path.count("/")
    for follow_up in sent[1:]:
        assert follow_up.url.raw_path == b"/v2/customers/CUSTOMER_ID%3AA.b-c_d"


@pytest.mark.anyio
@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
async def test_one_request_per_call_and_the_token_is_only_in_the_header(tool: ToolSpec) -> None:
    result, sent = await call_tool(tool.name, VALID_ARGS[tool.name])

    assert not result.is_error, result_text(result)
    assert len(sent) == requests_per_call(tool)
    assert sent[0].method == tool.method
    for request in sent:
        assert TOKEN not in str(request.url)
        assert TOKEN.encode() not in request.content
        assert request.headers["Accept"] == "application/json"
    assert TOKEN not in result_text(result)


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
async def test_integral_floats_are_sent_as_integers_in_a_body() -> None:
    args = {"customers": [{"customer_id": CUSTOMER_ID, "note": "n", "version": 3.0}]}
    _, sent = await call_tool("bulk_update_customers", args, json_response({}))

    assert sent[0].content == f'{{"customers":{{"{CUSTOMER_ID}":{{"note":"n","version":3}}}}}}'.encode()


@pytest.mark.anyio
async def test_fields_is_local_and_widens_the_list_view() -> None:
    args = {**SEARCH_ARGS, "fields": ["address", "created_at"]}
    result, sent = await call_tool("search_customers", args, json_response(response_example("SearchCustomersResponse")))

    assert json.loads(sent[0].content) == SEARCH_BODY  # `fields` never reaches Square
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
