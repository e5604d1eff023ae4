"""A baseline MCP server: one tool, "noop", that answers an empty CallToolResult. The SDK's floor.

Served through the project's own serve path, so the only difference from ours is the tool's work:
- HTTP: `square_customers_mcp.transports.build_http_app` + `http_server.serve_http`, with the same Host/Origin checks,
  body cap, stateless JSON responses and, when SQUARE_MCP_HTTP_TOKEN / SQUARE_MCP_ALLOWED_HOSTS are set,
  the same bearer token and extra hosts as `square-customers-mcp serve --transport http` (read the same way);
- stdio: `stdio.serve_stdio`, as an MCP host launches ours;
- logging set up by the project's `configure_logging` at the same level (INFO by default, as ours).
bench_throughput.py runs it over HTTP, bench_overhead.py over stdio and `build_empty_server()` in memory.

    .venv/bin/python tests/benchmarks/empty_server.py [--log-level L] [--transport stdio|http] [--host H] [--port P]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

import anyio
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.types import CallToolRequestParams, CallToolResult, ListToolsResult, PaginatedRequestParams, Tool

NOOP = Tool(name="noop", description="Does nothing.", input_schema={"type": "object", "properties": {}})


def build_empty_server() -> Server[Any]:
    listing = ListToolsResult(tools=[NOOP])

    async def list_tools(ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None) -> ListToolsResult:
        return listing

    async def call_tool(ctx: ServerRequestContext[Any], params: CallToolRequestParams) -> CallToolResult:
        return CallToolResult(content=[])

    return Server("empty-baseline", version="0", on_list_tools=list_tools, on_call_tool=call_tool)


async def serve(transport: str, host: str, port: int, log_level: str) -> None:
    from square_customers_mcp.config import Settings
    from square_customers_mcp.http_server import serve_http
    from square_customers_mcp.stdio import serve_stdio
    from square_customers_mcp.transports import build_http_app

    server = build_empty_server()
    if transport == "stdio":
        await serve_stdio(server)
        return
    settings = Settings.from_env()
    app = build_http_app(server, host, token=settings.http_token, extra_hosts=settings.http_allowed_hosts)
    await serve_http(app, host, port, log_level)


def main(argv: list[str]) -> int:
    from square_customers_mcp.config import Settings
    from square_customers_mcp.logs import configure_logging

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-level", default="INFO", type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    configure_logging(args.log_level, [Settings.from_env().http_token])
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(serve, args.transport, args.host, args.port, args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
