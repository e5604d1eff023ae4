"""The MCP application: a low-level mcp Server whose tools come from the TOOLS registry."""

from __future__ import annotations

from typing import Any

from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    Tool,
    ToolAnnotations,
)

from server import __version__
from server.dispatcher import Dispatcher
from tools import ToolSpec
from tools.outputs import output_schema

SERVER_NAME = "square-customers-mcp"
INSTRUCTIONS = (
    "Square Customers API: one tool per endpoint. Customer results carry `version`; pass it to "
    "update_customer or delete_customer so a concurrent change is never overwritten."
)


def mcp_tool(spec: ToolSpec) -> Tool:
    return Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=spec.input_schema,
        output_schema=output_schema(spec.output_model),
        annotations=ToolAnnotations(
            title=spec.title,
            read_only_hint=spec.read_only,
            destructive_hint=spec.destructive,
            idempotent_hint=spec.idempotent,
            open_world_hint=spec.open_world,
        ),
    )


def build_server(dispatcher: Dispatcher) -> Server[Any]:
    # Built once: the list is the same on every tools/list.
    listing = ListToolsResult(tools=[mcp_tool(spec) for spec in dispatcher.listed_tools()])

    async def list_tools(ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None) -> ListToolsResult:
        return listing

    async def call_tool(ctx: ServerRequestContext[Any], params: CallToolRequestParams) -> CallToolResult:
        return await dispatcher.call(params.name, params.arguments)

    return Server(
        SERVER_NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
