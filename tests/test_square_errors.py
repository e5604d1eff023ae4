"""Square's error answers, network failures and timeouts become readable tool errors, for every tool."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fakes import CUSTOMER_ID, FAST_RETRY, TOKEN, VALID_ARGS, Responder, call_tool, json_response, result_text

from square_customers_mcp.tools import TOOLS, TOOLS_BY_NAME, ToolSpec

by_tool = pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
NOT_FOUND_DETAIL = f"Customer with ID `{CUSTOMER_ID}` not found."
CONFLICT_DETAIL = "Attempted to update customer with stale version: 3, current version: 4"
TOO_LONG_DETAIL = "Field must not be greater than 300 length"
BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def square_errors(status: int, *errors: dict[str, Any]) -> Responder:
    return json_response({"errors": list(errors)}, status)


def error(
    code: str, detail: str | None = None, field: str | None = None, category: str = "INVALID_REQUEST_ERROR"
) -> dict[str, Any]:
    out = {"category": category, "code": code}
    if detail is not None:
        out["detail"] = detail
    if field is not None:
        out["field"] = field
    return out


def raising(exc_type: type[httpx.RequestError]) -> Responder:
    def respond(request: httpx.Request) -> httpx.Response:
        raise exc_type(f"simulated failure; Authorization: Bearer {TOKEN}", request=request)

    return respond


def no_secrets(text: str) -> None:
    assert TOKEN not in text
    assert "Bearer" not in text
    assert "Traceback" not in text
    assert 'File "' not in text


async def tool_error(
    tool: ToolSpec, respond: Responder, *, retryable: bool = False, unknown: bool | None = None
) -> str:
    """The tool error text; a 4xx is never resent, a 5xx/429/network failure at most max_attempts times.
    A keyed create whose outcome is unknown (5xx, network, timeout) must say which keys to resend: the ones
    every attempt sent."""
    result, sent = await call_tool(tool.name, VALID_ARGS[tool.name], respond)
    text = result_text(result)
    assert result.is_error, text
    assert result.structured_content is None
    if retryable:
        assert 1 <= len(sent) <= FAST_RETRY.max_attempts
    else:
        assert len(sent) == 1, "a client error must not be resent"
    no_secrets(text)
    if (retryable if unknown is None else unknown) and tool.retry_hint is not None:
        assert text.endswith(outcome_unknown(tool, sent)), text
        assert "retry the call" not in text
    return text


def _sent_keys(request: httpx.Request) -> list[str]:
    body = json.loads(request.content)
    return list(body["customers"]) if "customers" in body else [body["idempotency_key"]]


def outcome_unknown(tool: ToolSpec, sent: list[httpx.Request]) -> str:
    """The end of the error text when a keyed create may or may not have happened."""
    keys = _sent_keys(sent[0])
    assert all(_sent_keys(request) == keys for request in sent), "every attempt must send the same keys"
    if tool.name == "create_customer":
        step = f"call create_customer again with the same fields and idempotency_key {keys[0]!r}"
    else:
        quoted = ", ".join(repr(key) for key in keys)
        step = f"call bulk_create_customers again with the same entries, giving them these idempotency_keys in order: {quoted}"
    return f" The outcome is unknown. Next step: {step}."


# (a) 4xx answers with errors[] ------------------------------------------------------------------------------


@pytest.mark.anyio
@by_tool
async def test_404_not_found(tool: ToolSpec) -> None:
    text = await tool_error(tool, square_errors(404, error("NOT_FOUND", NOT_FOUND_DETAIL)))

    assert text.startswith(f"NOT_FOUND: {NOT_FOUND_DETAIL.rstrip('.')}. Next step: ")
    # What to do next: the tool's own hint where the code means something particular for it.
    step = tool.hints.get("NOT_FOUND", "check the id; search_customers or list_customers finds customers")
    assert text.endswith(f"Next step: {step}.")
    if tool.toolset == "groups" and not tool.read_only:
        assert "group_id (list_customer_groups lists groups)" in text
        assert "customer_id (search_customers finds customers)" in text


@pytest.mark.anyio
@by_tool
async def test_409_conflict_on_version(tool: ToolSpec) -> None:
    text = await tool_error(tool, square_errors(409, error("CONFLICT", CONFLICT_DETAIL, "version")))

    assert text.startswith("CONFLICT (version): ")
    assert CONFLICT_DETAIL in text
    assert "retrieve the customer for its current version" in text


@pytest.mark.anyio
@by_tool
async def test_400_value_too_long_names_the_field(tool: ToolSpec) -> None:
    text = await tool_error(tool, square_errors(400, error("VALUE_TOO_LONG", TOO_LONG_DETAIL, "given_name")))

    assert text.startswith(f"VALUE_TOO_LONG (given_name): {TOO_LONG_DETAIL}")


@pytest.mark.anyio
@by_tool
async def test_several_errors_are_all_reported_in_order(tool: ToolSpec) -> None:
    text = await tool_error(
        tool,
        square_errors(
            400,
            error("INVALID_EMAIL_ADDRESS", "Expected email_address to be a valid email address.", "email_address"),
            error("INVALID_PHONE_NUMBER", "Expected phone_number to be a valid phone number.", "phone_number"),
        ),
    )

    assert text.startswith("INVALID_EMAIL_ADDRESS (email_address): Expected email_address")
    assert "; INVALID_PHONE_NUMBER (phone_number): Expected phone_number" in text


# Codes with a next step in tools/errors.py, and a phrase of that step.
NEXT_STEPS = [
    (401, "UNAUTHORIZED", "AUTHENTICATION_ERROR", "check SQUARE_ACCESS_TOKEN"),
    (401, "ACCESS_TOKEN_EXPIRED", "AUTHENTICATION_ERROR", "renew the access token"),
    (403, "INSUFFICIENT_SCOPES", "AUTHENTICATION_ERROR", "CUSTOMERS_READ/CUSTOMERS_WRITE"),
    (429, "RATE_LIMITED", "RATE_LIMIT_ERROR", "wait a few seconds and retry"),
    (400, "VERSION_MISMATCH", "INVALID_REQUEST_ERROR", "retrieve the customer for its current version"),
    (400, "IDEMPOTENCY_KEY_REUSED", "INVALID_REQUEST_ERROR", "new idempotency_key"),
    (400, "INVALID_CURSOR", "INVALID_REQUEST_ERROR", "without a cursor"),
    (402, "CARD_DECLINED", "PAYMENT_METHOD_ERROR", "ask for another card"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "code", "category", "step"), NEXT_STEPS, ids=[c[1] for c in NEXT_STEPS])
@pytest.mark.parametrize("tool", [t for t in TOOLS if t.name in ("retrieve_customer", "create_customer")])
async def test_next_step_per_code(tool: ToolSpec, status: int, code: str, category: str, step: str) -> None:
    detail = "This request could not be processed."
    text = await tool_error(
        tool, square_errors(status, error(code, detail, category=category)), retryable=status == 429, unknown=False
    )

    assert text.startswith(f"{code}: {detail}")
    assert step in text


@pytest.mark.anyio
async def test_an_error_without_code_or_detail_still_reads() -> None:
    result, _ = await call_tool("retrieve_customer", VALID_ARGS["retrieve_customer"], square_errors(400, {}))

    assert result.is_error
    assert result_text(result).startswith("ERROR")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [{"errors": []}, {"errors": ["boom"]}, {"errors": "boom"}, {"message": "bad"}, [1, 2], "text", None],
    ids=["empty-list", "list-of-str", "str", "no-errors", "json-list", "json-str", "json-null"],
)
async def test_a_4xx_with_an_odd_json_body_is_still_a_tool_error(body: Any) -> None:
    result, _ = await call_tool("retrieve_customer", VALID_ARGS["retrieve_customer"], json_response(body, 400))

    text = result_text(result)
    assert result.is_error
    assert text.startswith("HTTP_400")
    no_secrets(text)


@pytest.mark.anyio
async def test_no_double_full_stop_before_the_next_step() -> None:
    respond = square_errors(404, error("NOT_FOUND", NOT_FOUND_DETAIL))
    result, _ = await call_tool("retrieve_customer", VALID_ARGS["retrieve_customer"], respond)

    assert ".." not in result_text(result)


# (b) 5xx with errors[] and (c) 5xx without JSON ----------------------------------------------------------------


@pytest.mark.anyio
@by_tool
@pytest.mark.parametrize(
    ("status", "code"), [(500, "INTERNAL_SERVER_ERROR"), (503, "SERVICE_UNAVAILABLE"), (504, "GATEWAY_TIMEOUT")]
)
async def test_5xx_with_errors_says_retry(tool: ToolSpec, status: int, code: str) -> None:
    detail = "An internal error has occurred, and the API was unable to service your request."
    text = await tool_error(tool, square_errors(status, error(code, detail, category="API_ERROR")), retryable=True)

    if tool.retry_hint is None:
        assert (
            text
            == f"{code}: {detail.rstrip('.')} (HTTP {status}). Next step: Square had a problem; retry the call later."
        )
    else:
        assert text.startswith(f"{code}: {detail.rstrip('.')} (HTTP {status}). The outcome is unknown.")


@pytest.mark.anyio
async def test_5xx_with_errors_names_the_http_status() -> None:
    respond = square_errors(500, error("INTERNAL_SERVER_ERROR", "boom", category="API_ERROR"))
    text = await tool_error(TOOLS_BY_NAME["retrieve_customer"], respond, retryable=True)

    assert "500" in text


@pytest.mark.anyio
@pytest.mark.parametrize(
    "respond",
    [square_errors(503, error("SERVICE_UNAVAILABLE", category="API_ERROR")), raising(httpx.ReadTimeout)],
    ids=["503", "read-timeout"],
)
async def test_a_card_nonce_is_never_sent_twice(respond: Responder) -> None:
    """create_customer_card has no idempotency key and a single-use nonce: one attempt only."""
    result, sent = await call_tool("create_customer_card", VALID_ARGS["create_customer_card"], respond)

    assert result.is_error
    assert len(sent) == 1


@pytest.mark.anyio
@by_tool
@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (502, BAD_GATEWAY_HTML, "text/html"),
        (503, "", "text/plain"),
        (500, "upstream connect error or disconnect/reset before headers", "text/plain"),
        (504, '{"errors": [', "application/json"),  # truncated JSON
    ],
    ids=["502-html", "503-empty", "500-text", "504-broken-json"],
)
async def test_5xx_without_json_names_the_status_and_says_retry(
    tool: ToolSpec, status: int, body: str, content_type: str
) -> None:
    respond: Responder = lambda request: httpx.Response(  # noqa: E731
        status, content=body.encode(), headers={"Content-Type": content_type}
    )
    text = await tool_error(tool, respond, retryable=True)

    assert text.startswith(f"HTTP_{status}")
    assert "retry" in text or "The outcome is unknown." in text
    assert len(text) < 400 + 40 * len(VALID_ARGS[tool.name].get("customers", [])), "an HTML page must come back cut"
    assert "\n" not in text and "\r" not in text


@pytest.mark.anyio
async def test_a_2xx_without_json_is_a_tool_error_not_a_crash() -> None:
    respond: Responder = lambda request: httpx.Response(200, content=b"<html>captive portal</html>")  # noqa: E731
    result, _ = await call_tool("retrieve_customer", VALID_ARGS["retrieve_customer"], respond)

    assert result.is_error
    assert result_text(result).startswith("UNEXPECTED_RESPONSE: Square answered HTTP 200 without a JSON object")


# (d) the network --------------------------------------------------------------------------------------------------


@pytest.mark.anyio
@by_tool
@pytest.mark.parametrize(
    "exc_type", [httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.ProxyError, httpx.WriteError]
)
async def test_network_errors(tool: ToolSpec, exc_type: type[httpx.RequestError]) -> None:
    # A connection that never opened sent nothing: no unknown outcome, a plain retry.
    never_sent = exc_type is httpx.ConnectError
    text = await tool_error(tool, raising(exc_type), retryable=True, unknown=not never_sent)

    assert text.startswith("NETWORK_ERROR: could not reach Square or read its answer")
    assert text.endswith(" Next step: retry the call.") or (tool.retry_hint is not None and not never_sent)
    assert "simulated failure" not in text  # the exception's message (which may hold headers) stays out


@pytest.mark.anyio
@by_tool
@pytest.mark.parametrize("exc_type", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.WriteTimeout, httpx.PoolTimeout])
async def test_timeouts(tool: ToolSpec, exc_type: type[httpx.RequestError]) -> None:
    never_sent = exc_type in (httpx.ConnectTimeout, httpx.PoolTimeout)  # no connection: nothing was sent
    text = await tool_error(tool, raising(exc_type), retryable=True, unknown=not never_sent)

    assert text.startswith("TIMEOUT: Square did not answer in time.")
    assert text.endswith(" Next step: retry the call.") or (tool.retry_hint is not None and not never_sent)


KEYED_CREATES = [
    pytest.param("create_customer", {"given_name": "Ada", "idempotency_key": "my-key-7"}, id="create-given-key"),
    pytest.param("create_customer", {"given_name": "Ada"}, id="create-generated-key"),
    pytest.param(
        "bulk_create_customers",
        {"customers": [{"given_name": "A"}, {"given_name": "B", "idempotency_key": "k-b"}, {"given_name": "C"}]},
        id="bulk-mixed-keys",
    ),
]
UNKNOWN_OUTCOMES = [
    pytest.param(raising(httpx.ReadTimeout), "TIMEOUT: ", id="timeout"),
    pytest.param(raising(httpx.RemoteProtocolError), "NETWORK_ERROR: ", id="network"),
    pytest.param(square_errors(500, error("INTERNAL_SERVER_ERROR", category="API_ERROR")), "INTERNAL_", id="500"),
    pytest.param(lambda request: httpx.Response(502, text="<html>bad gateway</html>"), "HTTP_502: ", id="502"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "args"), KEYED_CREATES)
@pytest.mark.parametrize(("respond", "start"), UNKNOWN_OUTCOMES)
async def test_an_unknown_create_outcome_names_the_keys_to_resend(
    name: str, args: dict[str, Any], respond: Responder, start: str
) -> None:
    result, sent = await call_tool(name, args, respond)
    text = result_text(result)

    assert result.is_error and text.startswith(start), text
    assert len(sent) == FAST_RETRY.max_attempts  # keyed writes are retried: a resend cannot create twice
    assert text.endswith(outcome_unknown(TOOLS_BY_NAME[name], sent))
    if "idempotency_key" in args:
        assert "'my-key-7'" in text
    if name == "bulk_create_customers":
        assert text.count("'") == 6 and "'k-b'" in text  # three keys, the given one among them in its place
        assert _sent_keys(sent[0])[1] == "k-b"


@pytest.mark.anyio
async def test_a_rejected_create_does_not_talk_of_an_unknown_outcome() -> None:
    respond = square_errors(400, error("INVALID_EMAIL_ADDRESS", "Bad email.", "email_address"))
    text = await tool_error(TOOLS_BY_NAME["create_customer"], respond)

    assert text == "INVALID_EMAIL_ADDRESS (email_address): Bad email."


# (e) the token never appears ---------------------------------------------------------------------------------------


@pytest.mark.anyio
@by_tool
@pytest.mark.parametrize(
    "respond",
    [
        square_errors(
            401, error("UNAUTHORIZED", "This request could not be authorized.", category="AUTHENTICATION_ERROR")
        ),
        square_errors(403, error("FORBIDDEN", "You are not allowed to access this resource.")),
        json_response({}),
    ],
    ids=["401", "403", "200"],
)
async def test_the_token_never_appears_in_the_result(tool: ToolSpec, respond: Responder) -> None:
    result, sent = await call_tool(tool.name, VALID_ARGS[tool.name], respond)

    assert sent[0].headers["Authorization"] == f"Bearer {TOKEN}"  # it was sent...
    assert TOKEN not in result_text(result)  # ...and does not come back
    assert TOKEN not in repr(result.structured_content)


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 502])
async def test_an_upstream_echoing_the_headers_does_not_leak_the_token(status: int) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        lines = "\n".join(f"{k}: {v}" for k, v in request.headers.items() if k.lower() == "authorization")
        return httpx.Response(status, text=f"Bad request\n{lines}\n")

    result, _ = await call_tool("retrieve_customer", VALID_ARGS["retrieve_customer"], echo)

    assert result.is_error
    assert TOKEN not in result_text(result)
