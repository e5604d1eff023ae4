"""MCP over streamable HTTP with a bearer token: start the server, use it, show that a wrong token is refused.

Starts `square-customers-mcp serve --transport http` on a free 127.0.0.1 port with
SQUARE_MCP_HTTP_TOKEN set and a throwaway local API, connects with the mcp SDK's
streamable HTTP client (an httpx2 client carries the Authorization header), lists the tools,
creates a customer and finds it again, then sends the same request with a wrong token and
with none (both 401) and stops the server.

Run: python examples/http_client.py   (exit 0 when every step behaved as described)
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx2  # the HTTP client the mcp SDK's transports are built on (installed with mcp)
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "http-client-example", "version": "0"},
    },
}


def server_command() -> str:
    """The console script next to this Python (a venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("square-customers-mcp")
    found = str(beside) if beside.exists() else shutil.which("square-customers-mcp")
    if not found:
        sys.exit("square-customers-mcp not found: pip install -e . first")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, server: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f}s")


async def use_server(url: str, token: str) -> bool:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        tools = (await client.list_tools()).tools
        print(f"connected to {url} with the bearer token: {len(tools)} tools")
        created = await client.call_tool(
            "create_customer", {"given_name": "Grace", "family_name": "Hopper", "email_address": "grace@example.com"}
        )
        customer = (created.structured_content or {})["customer"]
        print(f"create_customer -> {customer['id']} {customer['given_name']} {customer['family_name']}")
        found = await client.call_tool(
            "search_customers", {"filter": {"email_address": {"exact": "grace@example.com"}}}
        )
        matches = (found.structured_content or {}).get("customers", [])
        print(f"search_customers email=grace@example.com -> {[c['id'] for c in matches]}")

    # The same first request an MCP client sends, without the right token.
    async with httpx2.AsyncClient(timeout=10) as raw:
        accept = {"Accept": "application/json, text/event-stream"}
        wrong = await raw.post(url, json=INITIALIZE, headers={**accept, "Authorization": "Bearer wrong-token"})
        missing = await raw.post(url, json=INITIALIZE, headers=accept)
    print(f"wrong token -> HTTP {wrong.status_code}; WWW-Authenticate: {wrong.headers.get('www-authenticate', '')}")
    print(f"no token -> HTTP {missing.status_code}")
    refused = wrong.status_code == missing.status_code == 401
    return len(tools) == 16 and [c["id"] for c in matches] == [customer["id"]] and refused


def main() -> int:
    token = secrets.token_urlsafe(24)  # a real deployment reads it from a secret store
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SQUARE_")}  # no Square token: local
        env |= {"SQUARE_MCP_HTTP_TOKEN": token, "SQUARE_SANDBOX_DB": str(Path(tmp) / "customers.db")}
        command = [server_command(), "--log-level", "WARNING", "serve", "--transport", "http"]
        server = subprocess.Popen([*command, "--host", "127.0.0.1", "--port", str(port)], env=env)  # noqa: S603 - our own console script, fixed arguments
        try:
            wait_for_port(port, server)
            print(f"server started (pid {server.pid}) on 127.0.0.1:{port}")
            ok = anyio.run(use_server, f"http://127.0.0.1:{port}/mcp", token)
        finally:
            # Ctrl-C, as a user stops it: uvicorn drains and the command exits 0.
            server.send_signal(signal.SIGINT if sys.platform != "win32" else signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            print(f"server stopped (exit code {server.returncode})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
