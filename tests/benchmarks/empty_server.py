"""A baseline MCP server: one tool, "noop", that answers an empty CallToolResult. The SDK's floor.

Served exactly like ours over HTTP (stateless, JSON responses, under uvicorn), so bench_throughput.py can
compare our calls/s to what the mcp SDK and uvicorn manage with no work at all. bench_overhead.py uses
`build_empty_server()` in memory for the same purpose.

    .venv/bin/python tests/benchmarks/empty_server.py --port P [--host 127.0.0.1]
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

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


def main(argv: list[str]) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    app = build_empty_server().streamable_http_app(stateless_http=True, json_response=True, host=args.host)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, lifespan="on")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
