"""Streamable HTTP: bearer token, DNS-rebinding checks, body limit, and the non-loopback refusal."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import anyio
import httpx
import pytest
import uvicorn
from fakes import MakeFakeSquare, json_response

from square_customers_mcp.app import build_server
from square_customers_mcp.config import Settings
from square_customers_mcp.tools import TOOLS
from square_customers_mcp.transports import build_http_app

pytestmark = pytest.mark.anyio
TOKEN = "http-test-token-5f2c"
SQUARE = Settings(access_token="tok", environment="sandbox")
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Running = Callable[[str | None], AbstractAsyncContextManager[str]]


@pytest.fixture
def running(fake_square: MakeFakeSquare) -> Running:
    @asynccontextmanager
    async def run(token: str | None) -> AsyncIterator[str]:
        square = fake_square(json_response({"customer": {"id": "C1", "version": 0}}), settings=SQUARE)
        port = free_port()
        app = build_http_app(build_server(square.dispatcher()), "127.0.0.1", token=token)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve)
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no start event
                await anyio.sleep(0.01)
            try:
                yield f"http://127.0.0.1:{port}/mcp"
            finally:
                server.should_exit = True

    return run


async def post(url: str, payload: object, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(url, json=payload, headers={**HEADERS, **headers})


async def test_without_a_configured_token_loopback_answers(running: Running) -> None:
    async with running(None) as url:
        response = await post(url, INITIALIZE)
    assert response.status_code == 200
    assert response.json()["result"]["serverInfo"]["name"] == "square-customers-mcp"


async def test_missing_token_is_401_with_a_plain_bearer_challenge(running: Running) -> None:
    """Static-token mode says what it is (issue 13): a realm, no resource_metadata sending OAuth clients to look
    for an authorization server that doesn't exist, and a body saying which token to send."""
    async with running(TOKEN) as url:
        response = await post(url, INITIALIZE)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="square-customers-mcp"'
    assert "SQUARE_MCP_HTTP_TOKEN" in response.json()["error_description"]


async def test_wrong_token_is_401_invalid_token(running: Running) -> None:
    async with running(TOKEN) as url:
        response = await post(url, INITIALIZE, Authorization="Bearer not-the-token")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="square-customers-mcp", error="invalid_token"'
    assert response.json()["error"] == "invalid_token"
    assert TOKEN not in response.text and "not-the-token" not in response.text


async def test_static_token_mode_advertises_no_oauth_metadata(running: Running) -> None:
    async with running(TOKEN) as url, httpx.AsyncClient(timeout=10) as http:
        origin = url.removesuffix("/mcp")
        for path in (
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-authorization-server",
        ):
            answer = await http.get(origin + path)
            assert answer.status_code in (404, 405), (path, answer.status_code)
        # Clients that register anyway (the TypeScript SDK's auth provider) read why, in OAuth's error form.
        registered = await http.post(origin + "/register", json={"redirect_uris": ["http://127.0.0.1:9/cb"]})
        assert registered.status_code == 400 and registered.json()["error"] == "invalid_client_metadata"
        assert "SQUARE_MCP_HTTP_TOKEN" in registered.json()["error_description"]


async def test_right_token_lists_tools(running: Running) -> None:
    async with running(TOKEN) as url:
        await post(url, INITIALIZE, Authorization=f"Bearer {TOKEN}")
        response = await post(url, LIST_TOOLS, Authorization=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert [tool["name"] for tool in response.json()["result"]["tools"]] == [tool.name for tool in TOOLS]
    assert len(TOOLS) == 16


async def test_foreign_origin_is_403(running: Running) -> None:
    async with running(None) as url:
        response = await post(url, INITIALIZE, Origin="https://evil.example")
    assert response.status_code == 403


async def test_bad_host_is_421(running: Running) -> None:
    async with running(None) as url:
        response = await post(url, INITIALIZE, Host="evil.example")
    assert response.status_code == 421


async def test_oversized_body_is_refused(running: Running) -> None:
    async with running(None) as url:
        huge = {**LIST_TOOLS, "params": {"padding": "x" * (2 * 1024 * 1024)}}
        response = await post(url, huge)
    assert response.status_code == 413


def test_non_loopback_bind_without_token_is_refused_at_start_up() -> None:
    script = Path(sys.executable).with_name("square-customers-mcp")
    proc = subprocess.run(
        [str(script), "serve", "--transport", "http", "--host", "0.0.0.0", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 2
    assert "SQUARE_MCP_HTTP_TOKEN" in proc.stderr


@pytest.mark.parametrize("host", ["::1", "0.0.0.0", "10.1.2.3", "localhost"])
def test_the_app_builds_for_any_host_with_a_token(host: str, fake_square: MakeFakeSquare) -> None:
    app = build_http_app(build_server(fake_square(settings=SQUARE).dispatcher()), host, token=TOKEN)
    assert app.routes
