"""The MCP application: a low-level mcp Server whose tools come from the TOOLS registry, plus the
customer resource template, progress reports and (opt-in) human confirmation of destructive calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_REQUEST,
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
from square_customers_mcp.dispatcher import Dispatcher, error_result
from square_customers_mcp.oauth.people import SignInEnded, person_of
from square_customers_mcp.oauth.square_oauth import SquareOAuthError
from square_customers_mcp.square_client import acting_as
from square_customers_mcp.tools import INSTRUCTIONS, ToolSpec
from square_customers_mcp.tools.dialect import with_refs
from square_customers_mcp.tools.outputs import output_schema

if TYPE_CHECKING:
    from square_customers_mcp.oauth.people import SquareTokens

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
    square_tokens: SquareTokens | None = None,
) -> Server[Any]:
    """`confirmer`: a Confirmer to use (tests give one a clock and timeout); implies confirm_destructive.
    `square_tokens`: OAuth mode, where each request acts for the signed-in person, with their Square token, and
    sees only the tools their Square permissions allow."""
    # Built once: the list is the same on every tools/list.
    listing = ListToolsResult(tools=[mcp_tool(spec, schema_refs=schema_refs) for spec in dispatcher.listed_tools()])
    if confirmer is None and confirm_destructive:
        confirmer = Confirmer(confirm_secret)

    scope_of = {spec.name: spec.square_scope for spec in dispatcher.listed_tools()}

    def granted(ctx: ServerRequestContext[Any]) -> frozenset[str]:
        """OAuth mode: the Square permissions of the person the request acts for."""
        person = person_of(ctx.request)
        return person.scopes if person else frozenset()

    async def list_tools(ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None) -> ListToolsResult:
        if square_tokens is None:
            return listing
        scopes = granted(ctx)
        return ListToolsResult(tools=[tool for tool in listing.tools if scope_of[tool.name] in scopes])

    @asynccontextmanager
    async def acting(ctx: ServerRequestContext[Any], needs: frozenset[str] = frozenset()) -> AsyncIterator[str | None]:
        """In OAuth mode, requests to Square inside use the person's token; yields why not, if they can't (also
        when their token lacks a Square permission in `needs`)."""
        if square_tokens is None:
            yield None
            return
        person = person_of(ctx.request)
        if person is not None and not needs <= person.scopes:
            missing = " and ".join(sorted(needs - person.scopes))
            yield f"Not done: this needs the Square permission {missing}, which your sign-in did not grant."
            return
        try:
            if person is None:
                raise SignInEnded("no signed-in person")
            token = await square_tokens.token(person)
        except (SignInEnded, SquareOAuthError) as error:
            yield f"Not done: {error}. Next step: sign in to Square again from your MCP client."
            return
        with acting_as(token):
            yield None

    async def call_tool(
        ctx: ServerRequestContext[Any], params: CallToolRequestParams
    ) -> CallToolResult | InputRequiredResult:
        tool = dispatcher.tool(params.name)
        if square_tokens is not None and tool is not None and tool.square_scope not in granted(ctx):
            return error_result(
                f"Not done: {tool.name} needs the Square permission {tool.square_scope}, which your sign-in did not "
                "grant; nothing was sent to Square. Next step: sign in again and approve it, if you should have it."
            )
        if confirmer is not None and tool is not None and tool.needs_confirmation:
            invalid, args = dispatcher.prepared(params.name, params.arguments)
            if invalid is not None:
                return invalid  # never ask the human about a call that cannot run
            outcome = await confirmer.ask(ctx, params, tool, args)
            if isinstance(outcome, InputRequiredResult | CallToolResult):
                return outcome  # the question (2026-07-28), or why it may not run; nothing was sent
        async with acting(ctx) as refused:
            if refused is not None:
                return error_result(refused)
            return await dispatcher.call(params.name, params.arguments, ctx.session.report_progress)

    # Customer resources are read through the list and retrieve tools: they need those tools' permissions.
    resource_scopes = frozenset(
        tool.square_scope for kind in resources.KINDS if (tool := dispatcher.resource_tool(kind))
    )

    async def list_templates(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListResourceTemplatesResult:
        return resources.TEMPLATES

    async def list_resources(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListResourcesResult:
        async with acting(ctx, needs=resource_scopes) as refused:
            if refused is not None:
                raise MCPError(INVALID_REQUEST, refused)
            return await resources.list_resources(dispatcher, params.cursor if params else None)

    async def read_resource(ctx: ServerRequestContext[Any], params: ReadResourceRequestParams) -> ReadResourceResult:
        async with acting(ctx, needs=resource_scopes) as refused:
            if refused is not None:
                raise MCPError(INVALID_REQUEST, refused)
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
