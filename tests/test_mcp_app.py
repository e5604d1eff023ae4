"""The MCP app through the in-memory mcp.Client, in both protocol eras, and read-only mode."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import httpx
import pytest
from fakes import MakeFakeSquare, json_response
from mcp import Client

from square_customers_mcp.app import build_server
from square_customers_mcp.config import Settings
from square_customers_mcp.tools import TOOLS

pytestmark = pytest.mark.anyio
ERAS = pytest.mark.parametrize("mode", ["auto", "legacy"])
WRITE_TOOLS = [t.name for t in TOOLS if not t.read_only]
CUSTOMER = {
    "id": "JDKYHBWT1D4F8MFH63DBMEN8Y4",
    "version": 2,
    "given_name": "Amelia",
    "family_name": "Earhart",
    "email_address": "amelia@example.com",
    "group_ids": ["545AXB44B4XXWMVQ4W8SBT3HHF"],
    "creation_source": "THIRD_PARTY",
    "preferences": {"email_unsubscribed": False},
}


class Connect(Protocol):
    def __call__(
        self, mode: str, *, read_only: bool = False
    ) -> AbstractAsyncContextManager[tuple[Client, list[httpx.Request]]]: ...


@pytest.fixture
def connected(fake_square: MakeFakeSquare) -> Connect:
    @asynccontextmanager
    async def connect(mode: str, *, read_only: bool = False) -> AsyncIterator[tuple[Client, list[httpx.Request]]]:
        square = fake_square(
            json_response({"customer": CUSTOMER}), settings=Settings(access_token="tok", environment="sandbox")
        )
        server = build_server(square.dispatcher(read_only=read_only))
        async with Client(server, mode=mode, raise_exceptions=True) as mcp_client:
            yield mcp_client, square.requests

    return connect


@ERAS
async def test_lists_the_16_tools_with_output_schemas_and_annotations(mode: str, connected: Connect) -> None:
    async with connected(mode) as (client, _):
        listed = (await client.list_tools()).tools
    assert [t.name for t in listed] == [t.name for t in TOOLS] and len(listed) == 16
    assert {"list_customer_groups", "list_customer_segments"} <= {t.name for t in listed}
    for tool in listed:
        assert tool.output_schema and tool.output_schema["type"] == "object"
        assert tool.annotations is not None and tool.annotations.read_only_hint is not None
        assert tool.title


@ERAS
async def test_call_returns_structured_content_and_the_same_json_as_text(mode: str, connected: Connect) -> None:
    async with connected(mode) as (client, sent):
        result = await client.call_tool("retrieve_customer", {"customer_id": CUSTOMER["id"]})
    assert not result.is_error
    expected: dict[str, Any] = {
        "customer": {
            "id": CUSTOMER["id"],
            "version": 2,
            "given_name": "Amelia",
            "family_name": "Earhart",
            "email_address": "amelia@example.com",
            "group_ids": ["545AXB44B4XXWMVQ4W8SBT3HHF"],
        }
    }
    assert result.structured_content == expected
    assert result.content[0].text == json.dumps(expected, separators=(",", ":"))
    assert [(r.method, r.url.path) for r in sent] == [("GET", f"/v2/customers/{CUSTOMER['id']}")]


@ERAS
async def test_invalid_arguments_are_a_tool_error_not_a_protocol_error(mode: str, connected: Connect) -> None:
    async with connected(mode) as (client, sent):
        result = await client.call_tool("list_customers", {"limit": 500})
    assert result.is_error
    assert "$.limit" in result.content[0].text
    assert sent == []


@ERAS
async def test_read_only_mode_hides_write_tools(mode: str, connected: Connect) -> None:
    async with connected(mode, read_only=True) as (client, _):
        listed = {t.name for t in (await client.list_tools()).tools}
    assert listed == {
        "list_customers",
        "search_customers",
        "retrieve_customer",
        "bulk_retrieve_customers",
        "list_customer_groups",
        "list_customer_segments",
    }


@pytest.mark.parametrize("name", WRITE_TOOLS)
async def test_read_only_mode_refuses_every_write_tool_and_sends_nothing(name: str, connected: Connect) -> None:
    async with connected("auto", read_only=True) as (client, sent):
        result = await client.call_tool(name, {"customer_id": "A1", "group_id": "G1"})
    assert result.is_error
    assert "SQUARE_READ_ONLY" in result.content[0].text
    assert sent == []


async def test_read_only_mode_still_answers_reads(connected: Connect) -> None:
    async with connected("auto", read_only=True) as (client, sent):
        result = await client.call_tool("retrieve_customer", {"customer_id": "A1"})
    assert not result.is_error
    assert len(sent) == 1
