"""The MCP application: a low-level mcp Server whose tools come from the TOOLS registry, plus the
customer resource template, progress reports and (opt-in) human confirmation of destructive calls."""

from __future__ import annotations

from typing import Any

from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    InputRequiredResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListToolsResult,
    PaginatedRequestParams,
    ReadResourceRequestParams,
    ReadResourceResult,
    Tool,
    ToolAnnotations,
)

from square_customers_mcp import __version__, resources
from square_customers_mcp.confirm import Confirmer
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.tools import INSTRUCTIONS, ToolSpec
from square_customers_mcp.tools.dialect import with_refs
from square_customers_mcp.tools.outputs import output_schema

SERVER_NAME = "square-customers-mcp"


def mcp_tool(spec: ToolSpec, *, schema_refs: bool = False) -> Tool:
    """The tool as `tools/list` shows it; `schema_refs`: nested objects as `$defs`/`$ref` (for llama-index)."""
    return Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=with_refs(spec.input_schema) if schema_refs else spec.input_schema,
        output_schema=output_schema(spec.output_model),
        annotations=ToolAnnotations(
            title=spec.title,
            read_only_hint=spec.read_only,
            destructive_hint=spec.destructive,
            idempotent_hint=spec.idempotent,
            open_world_hint=spec.open_world,
        ),
    )


def build_server(
    dispatcher: Dispatcher,
    *,
    confirm_destructive: bool = False,
    confirm_secret: str | None = None,
    confirmer: Confirmer | None = None,
    schema_refs: bool = False,
) -> Server[Any]:
    """`confirmer`: a Confirmer to use (tests give one a clock and timeout); implies confirm_destructive."""
    # Built once: the list is the same on every tools/list.
    listing = ListToolsResult(tools=[mcp_tool(spec, schema_refs=schema_refs) for spec in dispatcher.listed_tools()])
    if confirmer is None and confirm_destructive:
        confirmer = Confirmer(confirm_secret)

    async def list_tools(ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None) -> ListToolsResult:
        return listing

    async def call_tool(
        ctx: ServerRequestContext[Any], params: CallToolRequestParams
    ) -> CallToolResult | InputRequiredResult:
        tool = dispatcher.tool(params.name)
        if confirmer is not None and tool is not None and tool.needs_confirmation:
            invalid, args = dispatcher.prepared(params.name, params.arguments)
            if invalid is not None:
                return invalid  # never ask the human about a call that cannot run
            outcome = await confirmer.ask(ctx, params, tool, args)
            if isinstance(outcome, InputRequiredResult | CallToolResult):
                return outcome  # the question (2026-07-28), or why it may not run; nothing was sent
        return await dispatcher.call(params.name, params.arguments, ctx.session.report_progress)

    async def list_templates(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListResourceTemplatesResult:
        return resources.TEMPLATES

    async def list_resources(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListResourcesResult:
        return await resources.list_resources(dispatcher, params.cursor if params else None)

    async def read_resource(ctx: ServerRequestContext[Any], params: ReadResourceRequestParams) -> ReadResourceResult:
        return await resources.read_customer(dispatcher, str(params.uri))

    # Customers are resources only where the tools that read them are served (SQUARE_TOOLSETS may leave them out).
    serves_resources = all(dispatcher.resource_tool(kind) is not None for kind in resources.KINDS)
    resource_handlers: dict[str, Any] = (
        {
            "on_list_resource_templates": list_templates,
            "on_list_resources": list_resources,
            "on_read_resource": read_resource,
        }
        if serves_resources
        else {}
    )
    return Server(
        SERVER_NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        **resource_handlers,
    )
