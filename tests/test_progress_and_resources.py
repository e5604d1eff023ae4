"""Progress reports for bulk calls and retry waits; customers as MCP resources."""

from __future__ import annotations

import json

import httpx
import pytest
from fakes import MakeFakeSquare, scripted
from mcp import Client
from mcp.shared.exceptions import MCPError

from square_customers_mcp.app import build_server
from square_customers_mcp.backend import open_backend
from square_customers_mcp.config import Settings
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.retry import RetryPolicy

pytestmark = pytest.mark.anyio
ERAS = pytest.mark.parametrize("mode", ["auto", "legacy"])


@ERAS
async def test_bulk_calls_report_start_send_and_counts(mode: str) -> None:
    reports: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, total, message))

    async with (
        open_backend(Settings.from_env({"SQUARE_SANDBOX_DB": ":memory:"})) as backend,
        Client(build_server(Dispatcher(backend.client)), mode=mode, raise_exceptions=True) as client,
    ):
        result = await client.call_tool(
            "bulk_create_customers",
            {"customers": [{"given_name": "A"}, {"given_name": "B"}, {"given_name": "C"}]},
            progress_callback=on_progress,
        )
    assert not result.is_error and result.structured_content is not None
    assert [c["given_name"] for c in result.structured_content["customers"]] == ["A", "B", "C"]
    assert [message for _, _, message in reports] == [
        "checked 3 entries; sending them to Square",
        "done: 3 succeeded, 0 failed",
    ]
    assert [progress for progress, _, _ in reports] == [1, 2]


@ERAS
async def test_retry_waits_are_reported(mode: str, fake_square: MakeFakeSquare) -> None:
    square = fake_square(
        scripted(
            httpx.Response(503, json={"errors": [{"category": "API_ERROR", "code": "SERVICE_UNAVAILABLE"}]}),
            httpx.Response(200, json={"customer": {"id": "C1", "version": 0}}),
        ),
        settings=Settings(access_token="t", environment="sandbox"),
        retry=RetryPolicy(base_delay=0.001),
    )
    messages: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message)

    async with Client(build_server(square.dispatcher()), mode=mode, raise_exceptions=True) as mcp_client:
        result = await mcp_client.call_tool("retrieve_customer", {"customer_id": "C1"}, progress_callback=on_progress)
    assert not result.is_error
    assert len(messages) == 1 and messages[0] is not None and messages[0].startswith("HTTP 503; retry 1/4 in")


@ERAS
async def test_customers_are_resources(mode: str) -> None:
    async with open_backend(Settings.from_env({"SQUARE_SANDBOX_DB": ":memory:"})) as backend:
        dispatcher = Dispatcher(backend.client)
        made = await dispatcher.call("create_customer", {"given_name": "Ada", "family_name": "Lovelace"})
        assert made.structured_content is not None
        customer_id = made.structured_content["customer"]["id"]
        async with Client(build_server(dispatcher), mode=mode, raise_exceptions=True) as client:
            templates = await client.list_resource_templates()
            listed = await client.list_resources()
            read = await client.read_resource(f"square://customers/{customer_id}")
            with pytest.raises(MCPError, match="Resource not found"):
                await client.read_resource("square://customers/NOSUCHCUSTOMER00000000000")
            with pytest.raises(MCPError, match="Resource not found"):
                await client.read_resource("square://orders/1")
    assert [t.uri_template for t in templates.resource_templates] == ["square://customers/{customer_id}"]
    assert [(str(r.uri), r.name) for r in listed.resources] == [(f"square://customers/{customer_id}", "Ada Lovelace")]
    body = json.loads(read.contents[0].text)
    assert body["id"] == customer_id and body["version"] == 0 and body["given_name"] == "Ada"
