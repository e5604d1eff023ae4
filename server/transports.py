"""Serving the MCP app: stdio (what MCP hosts launch) and streamable HTTP under uvicorn."""

from __future__ import annotations

import ipaddress
from typing import Any

from mcp.server import Server
from mcp.server.stdio import stdio_server

LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


async def serve_stdio(server: Server[Any]) -> None:
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


async def serve_http(server: Server[Any], host: str, port: int, log_level: str) -> None:
    import uvicorn

    # Stateless with JSON responses: any replica can answer any request.
    app = server.streamable_http_app(stateless_http=True, json_response=True, host=host)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level.lower(), lifespan="on")
    await uvicorn.Server(config).serve()
