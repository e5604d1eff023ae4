"""Confirmation of destructive calls by the human, through MCP elicitation, in both protocol eras.

2026-07-28 clients get an InputRequiredResult and retry the call with the answer; 2025-era clients get
an `elicitation/create` request. Only the human's answer, carried by the client, can approve: tool
arguments cannot (the schemas allow no such field), and the request state that comes back with the
answer is signed over the exact tool and arguments, so an answer given for one call approves no other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any, Literal

from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import (
    CallToolRequestParams,
    ClientCapabilities,
    ElicitationCapability,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    FormElicitationCapability,
    InputRequiredResult,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from square_customers_mcp.tools import ToolSpec

Decision = Literal["accept", "decline", "cancel", "unavailable"]
_KEY = "confirm"
_SCHEMA = {
    "type": "object",
    "properties": {_KEY: {"type": "boolean", "title": "Go ahead", "description": "Tick to let it run."}},
    "required": [_KEY],
}
_FORM = ClientCapabilities(elicitation=ElicitationCapability(form=FormElicitationCapability()))


_MAX_SHOWN = 4000


def question(tool: ToolSpec, args: Mapping[str, Any]) -> str:
    """What the human is asked: the tool, how many customers it touches, and the arguments in full
    (cut only past a few thousand characters, saying how much was left out)."""
    entries = tool.count_entries(args)
    scope = f" on {entries} customers" if entries else ""
    shown = json.dumps(dict(args), ensure_ascii=False, separators=(", ", ": "))
    if len(shown) > _MAX_SHOWN:
        shown = f"{shown[:_MAX_SHOWN]}... ({len(shown) - _MAX_SHOWN} more characters)"
    return (
        f"The assistant wants to run {tool.name} ({tool.title}){scope}, which changes Square data: {shown}. Allow it?"
    )


class Confirmer:
    def __init__(self, secret: str | None = None) -> None:
        # Replicas that share a secret (SQUARE_MCP_HTTP_TOKEN) verify each other's states; otherwise the
        # key is this process's own, and an answer that reaches another process is simply asked again.
        self._key = hashlib.sha256(b"confirm:" + secret.encode()).digest() if secret else secrets.token_bytes(32)

    def _state(self, tool: ToolSpec, args: Mapping[str, Any]) -> str:
        canonical = json.dumps([tool.name, args], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hmac.new(self._key, canonical.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    async def ask(
        self, ctx: ServerRequestContext[Any], params: CallToolRequestParams, tool: ToolSpec, args: Mapping[str, Any]
    ) -> Decision | InputRequiredResult:
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            return self._modern(ctx, params, tool, args)
        if not ctx.session.check_client_capability(_FORM):
            return "unavailable"
        try:
            answer = await ctx.session.elicit_form(question(tool, args), _SCHEMA)
        except MCPError:  # e.g. no back-channel on stateless HTTP
            return "unavailable"
        return _decision(answer)

    def _modern(
        self, ctx: ServerRequestContext[Any], params: CallToolRequestParams, tool: ToolSpec, args: Mapping[str, Any]
    ) -> Decision | InputRequiredResult:
        state = self._state(tool, args)
        answer = (params.input_responses or {}).get(_KEY)
        verified = params.request_state is not None and hmac.compare_digest(params.request_state, state)
        if answer is not None and verified:
            return _decision(answer) if isinstance(answer, ElicitResult) else "decline"
        # No answer yet, or an answer to some other question (other arguments, another process's key):
        # it approves nothing, and the human is asked about this very call.
        if not ctx.session.check_client_capability(_FORM):
            return "unavailable"
        request = ElicitRequest(params=ElicitRequestFormParams(message=question(tool, args), requested_schema=_SCHEMA))
        return InputRequiredResult(input_requests={_KEY: request}, request_state=state)


def _decision(answer: ElicitResult) -> Decision:
    if answer.action == "accept":
        return "accept" if (answer.content or {}).get(_KEY) is True else "decline"
    return answer.action
