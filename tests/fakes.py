"""Test helpers: a recording fake of Square behind httpx.MockTransport, valid arguments per tool,
and the spec's example responses (from tests/data/square_spec_facts.json, the facts-only data that
tests/data/make_spec_facts.py makes from ../shared/square-customers-openapi.json)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from mcp.types import CallToolResult
from spec_facts import schema_example

from square_customers_mcp.config import Settings
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.retry import RetryPolicy
from square_customers_mcp.square_client import SquareClient
from square_customers_mcp.tools import ToolSpec

TOKEN = "test-token-123"
# Retries (429/5xx/network, for retry-safe tools) keep their attempt count but do not sleep in tests.
FAST_RETRY = RetryPolicy(base_delay=0.0, max_delay=0.0)
SANDBOX = Settings(access_token=TOKEN, environment="sandbox", retry_policy=FAST_RETRY)


def settings(**changes: Any) -> Settings:
    """Settings with the test token, Square's sandbox and fast retries, plus `changes`."""
    return Settings(**{"access_token": TOKEN, "environment": "sandbox", "retry_policy": FAST_RETRY, **changes})


CUSTOMER_ID = "JDKYHBWT1D4F8MFH63DBMEN8Y4"
GROUP_ID = "545AXB44B4XXWMVQ4W8SBT3HHF"
CARD_ID = "ccof:uIbfJXhXETSP197M3GB"
AMELIA_ID = "8DDA5NZVBZFGAX0V3HPF81HHE0"
MARIE_ID = "N18CPRVXR5214XPBBA6BZQWF3C"
MISSING_ID = "2GYD7WNXF7BJZW1PMGNXZ3Y8M8"
ADDRESS = {
    "address_line_1": "500 Electric Ave",
    "address_line_2": "Suite 600",
    "locality": "New York",
    "administrative_district_level_1": "NY",
    "postal_code": "10003",
    "country": "US",
}
ADDRESS_LINE = "500 Electric Ave, Suite 600, New York, NY 10003, US"

# One valid argument set per tool, every tool of the registry.
VALID_ARGS: dict[str, dict[str, Any]] = {
    "list_customers": {"limit": 2, "sort_field": "CREATED_AT", "sort_order": "DESC"},
    "create_customer": {
        "given_name": "Amelia",
        "family_name": "Earhart",
        "email_address": "Amelia.Earhart@example.com",
    },
    "bulk_create_customers": {"customers": [{"given_name": "Amelia"}, {"email_address": "m@example.com"}]},
    "bulk_delete_customers": {"customer_ids": [AMELIA_ID, MARIE_ID]},
    "bulk_retrieve_customers": {"customer_ids": [AMELIA_ID, MARIE_ID]},
    "bulk_update_customers": {"customers": [{"customer_id": AMELIA_ID, "note": "vip", "version": 2}]},
    "search_customers": {"filter": {"email_address": {"fuzzy": "example.com"}}, "limit": 10},
    "delete_customer": {"customer_id": CUSTOMER_ID, "version": 1},
    "retrieve_customer": {"customer_id": CUSTOMER_ID},
    "update_customer": {"customer_id": CUSTOMER_ID, "note": "vip", "version": 1},
    "create_customer_card": {"customer_id": CUSTOMER_ID, "card_nonce": "cnon:card-nonce-ok"},
    "delete_customer_card": {"customer_id": CUSTOMER_ID, "card_id": CARD_ID},
    "remove_group_from_customer": {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID},
    "add_group_to_customer": {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID},
    "list_customer_groups": {"cursor": "groups-page-2"},
    "list_customer_segments": {"cursor": "segments-page-2"},
}

_SMALL_CUSTOMER = {"id": CUSTOMER_ID, "version": 1, "given_name": "Amelia", "creation_source": "THIRD_PARTY"}
# A success body every tool's trim function (and follow-up GET) can read, where the body does not matter.
ANY_SUCCESS_BODY: dict[str, Any] = {
    "customer": _SMALL_CUSTOMER,
    "customers": [_SMALL_CUSTOMER],
    "responses": {AMELIA_ID: {"customer": _SMALL_CUSTOMER}},
    "card": {"id": CARD_ID, "card_brand": "VISA", "last_4": "1111"},
    "groups": [{"id": GROUP_ID, "name": "VIP"}],
    "segments": [{"id": "SANDBOXMERCH1.LOYAL", "name": "Regulars"}],
}


def requests_per_call(tool: ToolSpec) -> int:
    """Requests a successful call sends: the call, plus a GET when the tool has a follow-up."""
    return 1 + (tool.follow_up is not None)


def response_example(schema_name: str) -> dict[str, Any]:
    """A fresh copy of components.schemas.<schema_name>.example from Square's spec (via tests/spec_facts.py)."""
    example: dict[str, Any] = schema_example(schema_name)
    return example


# A Responder may be async (httpx.MockTransport awaits it), e.g. to sleep like a slow Square.
Responder = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


def json_response(body: Any, status: int = 200) -> Responder:
    return lambda request: httpx.Response(status, json=body)


def scripted(*answers: httpx.Response | Exception) -> Responder:
    """Plays the answers in order (an exception is raised, as a failed transport would), then repeats the last."""
    played = 0

    def respond(request: httpx.Request) -> httpx.Response:
        nonlocal played
        answer = answers[min(played, len(answers) - 1)]
        played += 1
        if isinstance(answer, Exception):
            raise answer
        return answer

    return respond


@dataclass
class FakeSquare:
    """Answers every request with `respond(request)` (which may raise) and records what was sent.

    Clients (and dispatchers) made from it use `settings` and, unless given, `retry` (None: the
    settings' policy); `clients` keeps each so that `aclose()`, or `close()` (the `fake_square`
    fixture's teardown), closes them all."""

    respond: Responder = field(default_factory=lambda: json_response(ANY_SUCCESS_BODY))
    requests: list[httpx.Request] = field(default_factory=list)
    settings: Settings = SANDBOX
    retry: RetryPolicy | None = None
    clients: list[SquareClient] = field(default_factory=list, repr=False)

    def handle(self, request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        request.read()
        self.requests.append(request)
        return self.respond(request)

    def client(self, settings: Settings | None = None, *, retry: RetryPolicy | None = None) -> SquareClient:
        client = SquareClient(
            settings or self.settings, transport=httpx.MockTransport(self.handle), retry=retry or self.retry
        )
        self.clients.append(client)
        return client

    def dispatcher(
        self, *, settings: Settings | None = None, retry: RetryPolicy | None = None, **options: Any
    ) -> Dispatcher:
        """Dispatcher(self.client(settings, retry=retry), **options): read_only, redact_pii, tools."""
        return Dispatcher(self.client(settings, retry=retry), **options)

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()

    def close(self) -> None:
        """aclose without an event loop, so a sync test may run its own (anyio.run): closing a client on an
        httpx.MockTransport awaits nothing, so each aclose() coroutine finishes on its first step."""
        for client in self.clients:
            closing = client.aclose()
            try:
                closing.send(None)
            except StopIteration:
                continue
            closing.close()
            raise RuntimeError("closing a FakeSquare client waited for something; use `await fake.aclose()`")


# The `fake_square` fixture (tests/conftest.py): fake_square(respond, settings=..., retry=...) -> FakeSquare.
MakeFakeSquare = Callable[..., FakeSquare]


async def call_tool(
    name: str,
    arguments: Mapping[str, Any] | None,
    respond: Responder | None = None,
    settings: Settings = SANDBOX,
) -> tuple[CallToolResult, list[httpx.Request]]:
    """One Dispatcher.call against a fresh fake Square; returns the result and the requests sent."""
    fake = FakeSquare() if respond is None else FakeSquare(respond)
    try:
        result = await fake.dispatcher(settings=settings).call(name, arguments)
    finally:
        await fake.aclose()
    return result, fake.requests


def result_text(result: CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert block.type == "text"
    return block.text


async def assert_rejected(tool: str, args: dict[str, Any] | None, *paths: str, also: str = "") -> str:
    """The call is a tool error naming each JSON path (as `<path>:`), and nothing reached Square."""
    result, sent = await call_tool(tool, args)
    text = result_text(result)
    assert result.is_error, text
    assert sent == [], f"{tool} sent a request for invalid arguments"
    assert text.startswith(f"Invalid arguments for {tool}"), text
    for path in paths:
        assert f"\n- {path}:" in text, f"{path!r} not named in:\n{text}"
    assert also in text
    assert result.structured_content is None
    return text
