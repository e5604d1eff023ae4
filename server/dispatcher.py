"""validate -> route -> call -> trim -> result: one tool call, from arguments to CallToolResult."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import httpx
from mcp.types import CallToolResult, TextContent
from opentelemetry import trace

from square_customers_mcp import telemetry, validation
from square_customers_mcp.square_client import Attempts, ResponseTooLarge, SquareClient, SquareResponse, expand_path
from square_customers_mcp.tools import TOOLS, ToolSpec
from square_customers_mcp.tools.errors import square_error_text
from square_customers_mcp.tools.formats import FORMAT_CHECKER
from square_customers_mcp.tools.redact import fuzzy_pii_filters, mask_text, masked_values, redact_pii
from square_customers_mcp.validation import StrictValidator, emptied, given, integral

_MAX_PROBLEMS = 10
# How much of a failed answer is masked for quoting (whitespace collapsed, as it is quoted): far more than
# an error quotes, so nothing quoted was cut mid-value; far less than an answer may be, so masking is quick.
_MASKED_WINDOW = 65_536


Progress = Callable[[float, float | None, str | None], Awaitable[None]]
"""(progress, total, message), as MCP's progress notifications carry them."""


class _Steps:
    """Numbers each progress report, so the value only ever grows (as MCP requires)."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._count = 0

    async def report(self, message: str) -> None:
        if self._progress is not None:
            self._count += 1
            await self._progress(self._count, None, message)


_LEADING_CODE = re.compile(r"([A-Z][A-Z0-9_]+)[ :(.;]")


class ToolError(Exception):
    """Something the model can act on; becomes a CallToolResult with is_error=True. `code` names it in traces
    (never the message, which can quote customer data): given, else the message's leading code (Square's first
    error code, or ours such as TIMEOUT)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        leading = _LEADING_CODE.match(message)
        invalid = message.startswith("Invalid arguments")
        self.code = code or (leading[1] if leading else "INVALID_ARGUMENTS" if invalid else "OTHER")


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def error_result(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def success_result(data: dict[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=_compact(data))], structured_content=data)


class Dispatcher:
    def __init__(
        self,
        client: SquareClient,
        *,
        read_only: bool = False,
        redact_pii: bool = False,
        tools: Iterable[ToolSpec] = TOOLS,
    ):
        self._client = client
        self.read_only = read_only
        self.redact_pii = redact_pii
        self._tools = {tool.name: tool for tool in tools}
        # Compiled once: validation is on every call's path.
        self._validators = {
            name: StrictValidator(tool.schema, format_checker=FORMAT_CHECKER) for name, tool in self._tools.items()
        }

    def tool(self, name: str) -> ToolSpec | None:
        return self._tools.get(name)

    def resource_tool(self, kind: str) -> ToolSpec | None:
        """The served tool that lists ("list") or reads ("read") customer resources, if any."""
        return next((tool for tool in self._tools.values() if tool.customer_resource == kind), None)

    def listed_tools(self) -> list[ToolSpec]:
        return [tool for tool in self._tools.values() if tool.read_only or not self.read_only]

    def check(self, name: str, arguments: Mapping[str, Any] | None) -> CallToolResult | None:
        """The error a call with these arguments would return before any request, or None if it may go."""
        return self.prepared(name, arguments)[0]

    def prepared(self, name: str, arguments: Mapping[str, Any] | None) -> tuple[CallToolResult | None, dict[str, Any]]:
        """(the error the call would return before any request, or None; the arguments it would run with:
        what a human asked to confirm it should see, without the nulls and empty values that say nothing)."""
        try:
            return None, self._prepare(name, arguments)[1]
        except ToolError as error:
            return error_result(self._shown(str(error))), {}

    async def call(
        self, name: str, arguments: Mapping[str, Any] | None, progress: Progress | None = None
    ) -> CallToolResult:
        """One tool call. `progress`, when given, hears of the request's steps (bulk tools) and retry waits."""
        # A trace span per call, a child of the mcp SDK's tools/call span (the current one); a name that is not a
        # served tool is the client's text, so it is not recorded.
        with telemetry.tool_span(name if name in self._tools else None) as span:
            result = await self._call(name, arguments, progress)
            if not result.is_error:
                telemetry.tool_outcome(span, None)
            return result

    async def _call(self, name: str, arguments: Mapping[str, Any] | None, progress: Progress | None) -> CallToolResult:
        try:
            tool, args = self._prepare(name, arguments)
            steps = _Steps(self._masked_progress(progress))
            entries = tool.count_entries(args)
            if entries:
                await steps.report(f"checked {entries} entries; sending them to Square")
            response = await self._send(tool, args, steps)
            try:
                result = tool.trim(response.body, args)
            except (KeyError, TypeError, AttributeError) as error:
                # Square said 200 but not in the documented shape; say so rather than crash. A write may
                # have been applied, so a keyed one says how to retry without applying it twice.
                step = f"{tool.retry_hint(args)}" if tool.retry_hint else "retry, or check SQUARE_BASE_URL"
                raise ToolError(
                    f"UNEXPECTED_RESPONSE: Square answered {name} without the documented fields "
                    f"({type(error).__name__}: {str(error)[:80]}). Next step: {step}."
                ) from None
            if tool.follow_up is not None:
                result = tool.follow_up.merge(result, await self._follow_up(tool.follow_up.path, args))
            if entries:
                await steps.report(f"done: {result.get('succeeded', 0)} succeeded, {result.get('failed', 0)} failed")
            return success_result(redact_pii(result) if self.redact_pii else result)
        except ToolError as error:
            telemetry.tool_outcome(trace.get_current_span(), error.code)
            # Errors can quote values (Square echoes a bad email back; a malformed answer is quoted).
            return error_result(self._shown(str(error)))

    def _shown(self, text: str) -> str:
        """Text for the model: with SQUARE_REDACT_PII, every email/phone-looking part masked."""
        return mask_text(text) if self.redact_pii else text

    def _masked_progress(self, progress: Progress | None) -> Progress | None:
        if progress is None or not self.redact_pii:
            return progress

        async def masked(value: float, total: float | None, message: str | None) -> None:
            await progress(value, total, None if message is None else mask_text(message))

        return masked

    def _prepare(self, name: str, arguments: Mapping[str, Any] | None) -> tuple[ToolSpec, dict[str, Any]]:
        tool = self._tools.get(name)
        if tool is None:
            raise ToolError(
                f"Unknown tool {name!r}. Available: {', '.join(t.name for t in self.listed_tools())}", "UNKNOWN_TOOL"
            )
        if self.read_only and not tool.read_only:
            raise ToolError(
                f"{name} changes data and this server runs with SQUARE_READ_ONLY=true; nothing was sent.", "READ_ONLY"
            )
        if arguments is not None and not isinstance(arguments, Mapping):
            raise ToolError(f"Invalid arguments for {name}: expected an object, got {type(arguments).__name__}")
        raw = dict(arguments or {})
        args = {**tool.defaults, **given(raw, tool.schema)}
        problems = emptied(raw, args, tool.schema) + self.problems(tool, args)
        if problems:
            raise ToolError(f"Invalid arguments for {name}; nothing was sent to Square:\n- " + "\n- ".join(problems))
        if self.redact_pii and not tool.read_only:
            masked = masked_values(args)
            if masked:
                raise ToolError(
                    f"Invalid arguments for {name}: {', '.join(masked)} holds a masked value (SQUARE_REDACT_PII is on, "
                    "so results show a***@example.com); writing it would overwrite the real one. Leave the field "
                    "out to keep it; nothing was sent to Square."
                )
        if self.redact_pii:
            fuzzy = fuzzy_pii_filters(args)
            if fuzzy:
                # The refusal never depends on the guessed text, so it tells the model nothing either.
                raise ToolError(
                    f"Invalid arguments for {name}: {', '.join(fuzzy)} is refused because SQUARE_REDACT_PII is "
                    "on: emails and phone numbers are masked, and fuzzy matches on them would reveal the hidden "
                    'value piece by piece. Search with the whole value instead, e.g. {"exact": '
                    '"ada@example.com"} or {"exact": "+12125554240"}; nothing was sent to Square.'
                )
        args = integral(args)
        if tool.prepare is not None:
            args = tool.prepare(args)
        return tool, args

    def problems(self, tool: ToolSpec, args: Mapping[str, Any]) -> list[str]:
        problems = validation.problems(self._validators[tool.name], tool.checks, args)
        if len(problems) > _MAX_PROBLEMS:
            problems = [*problems[:_MAX_PROBLEMS], f"... and {len(problems) - _MAX_PROBLEMS} more"]
        return problems

    async def _follow_up(self, path: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
        """The body of a GET made after the call succeeded, or None if it failed in any way."""
        try:
            values = {name: value for name, value in args.items() if "{" + name + "}" in path}
            # One attempt: the call itself succeeded, and retrying would only delay its answer.
            response = await self._client.request("GET", expand_path(path, values), template=path)
        except httpx.HTTPError:
            return None
        ok = response.status < 400 and isinstance(response.body, dict)
        return response.body if ok else None

    async def _send(self, tool: ToolSpec, args: dict[str, Any], steps: _Steps) -> SquareResponse:
        path = expand_path(tool.path, {name: args[name] for name in tool.path_params})
        query = {name: args[name] for name in tool.query_params if name in args}
        body = tool.body(args)
        attempts = Attempts()
        try:
            response = await self._client.request(
                tool.method,
                path,
                query=query,
                body=body,
                retry_safe=tool.retry_safe,
                on_wait=steps.report,
                attempts=attempts,
                template=tool.path,
            )
        except ResponseTooLarge as error:
            raise ToolError(
                f"{error}" + (_unknown(tool, args, attempts) or " Next step: ask for less, e.g. a smaller `limit`.")
            ) from None
        except httpx.InvalidURL as error:
            raise ToolError(
                f"Invalid arguments: they do not fit in a URL ({error}); nothing was sent to Square."
            ) from None
        except UnicodeEncodeError:
            raise ToolError(
                "INVALID_TEXT: an argument holds characters that cannot be sent (e.g. a lone surrogate); "
                "nothing was sent to Square."
            ) from None
        except httpx.TimeoutException:
            raise ToolError(
                "TIMEOUT: Square did not answer in time."
                + (_unknown(tool, args, attempts) or " Next step: retry the call.")
            ) from None
        except httpx.TransportError as error:
            raise ToolError(
                f"NETWORK_ERROR: could not reach Square or read its answer ({type(error).__name__})."
                + (_unknown(tool, args, attempts) or " Next step: retry the call.")
            ) from None
        except httpx.HTTPError as error:  # e.g. a body that does not decode
            raise ToolError(
                f"NETWORK_ERROR: Square's answer could not be read ({type(error).__name__}). Next step: retry the call."
            ) from None
        finally:
            trace.get_current_span().set_attribute(telemetry.ATTEMPTS, attempts.count)  # the tool call's span
        if response.status >= 400 or not isinstance(response.body, dict):
            body, text = self._quotable(response)
            if response.attempts > 1 and response.status in (404, 409):
                # An earlier attempt may have been applied and its answer lost: a retried delete finds
                # nothing, a retried versioned update finds a newer version. Do not send the model hunting.
                raise ToolError(
                    square_error_text(response.status, body, text, step=False)
                    + f" Square's answer to an earlier attempt of this call was lost, so that attempt may already "
                    f"have been applied (this was attempt {response.attempts}). Next step: retrieve the customer "
                    "to see its current state before doing anything else."
                )
            unknown = _unknown(tool, args, attempts)
            if unknown:
                raise ToolError(square_error_text(response.status, body, text, step=False) + unknown)
            raise ToolError(square_error_text(response.status, body, text, hints=tool.hints))
        return response

    def _quotable(self, response: SquareResponse) -> tuple[Any, str]:
        """(body, text) of a failed or malformed answer, for quoting in the error. With SQUARE_REDACT_PII,
        masked before the quote is cut short (a cut value would slip past the mask), and re-serialised from
        the parsed JSON when there is some (so a JSON-escaped `\\u0040` cannot hide an email)."""
        if not self.redact_pii:
            return response.body, response.text
        body = redact_pii(response.body) if isinstance(response.body, dict) else None  # Square's error list
        text = response.text if response.body is None else _compact(response.body)
        return body, mask_text(" ".join(text.split())[:_MASKED_WINDOW])


def _unknown(tool: ToolSpec, args: Mapping[str, Any], attempts: Attempts) -> str:
    """For a keyed write that may have been applied without its answer arriving: say so, and how to retry
    with the same keys (which the model never saw, since they were generated); else ""."""
    if tool.retry_hint is None or not attempts.may_have_applied:
        return ""
    return f" The outcome is unknown. Next step: {tool.retry_hint(args)}."
