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
    call_tool,
    json_response,
    response_example,
    result_text,
)
from request_cases import CASES, CASES_BY_TOOL, SEARCH_ARGS, SEARCHED_FULL, Case

from server.config import Settings
from tools import TOOLS


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
    args = {**SEARCH_ARGS, "fields": ["address", "created_at"]}
    result, sent = await call_tool("search_customers", args, json_response(response_example("SearchCustomersResponse")))

    assert json.loads(sent[0].content) == SEARCH_ARGS  # `fields` never reaches Square
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
