"""Confirmation of destructive calls by the human, through MCP elicitation, in both protocol eras.

2026-07-28 clients get an InputRequiredResult and retry the call with the answer; 2025-era clients get
an `elicitation/create` request, which times out into a refusal. Only the human's answer, carried by the
client, can approve: tool arguments cannot (the schemas allow no such field). The request state that
comes back with a 2026-07-28 answer is signed over the exact tool and arguments, a random nonce and its
issue time, so an answer approves only the call it was asked about, only once, and only for a few minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

import anyio
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    ClientCapabilities,
    ElicitationCapability,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    FormElicitationCapability,
    InputRequiredResult,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from square_customers_mcp.dispatcher import error_result
from square_customers_mcp.tools import ToolSpec
from square_customers_mcp.tools.changes import changes, summary

MAX_QUESTION = 4000
"""Longest question asked, in characters: about what a host's confirmation dialog shows without scrolling
past the point of reading. A call whose question would be longer is refused, never cut short: what is cut
is what the human did not approve."""
APPROVAL_TTL = 300.0
"""Seconds an asked question's answer (a 2026-07-28 request state) stays valid."""
ANSWER_TIMEOUT = 300.0
"""Seconds a 2025-era `elicitation/create` may wait for the human."""
MAX_SPENT = 10_000
"""Answered request states remembered (until they expire) so none is used twice."""
_SKEW_MS = 30_000  # replicas' clocks may differ a little; a state "from the future" beyond this is void

Decision = Literal["accept", "decline", "cancel", "unavailable", "timeout"]
Outcome = Literal["approved"] | InputRequiredResult | CallToolResult
"""What `ask` decides: the call may run; the question (2026-07-28); or the refusal to return."""
_KEY = "confirm"
_SCHEMA = {
    "type": "object",
    "properties": {_KEY: {"type": "boolean", "title": "Go ahead", "description": "Tick to let it run."}},
    "required": [_KEY],
}
_FORM = ClientCapabilities(elicitation=ElicitationCapability(form=FormElicitationCapability()))


def question(tool: ToolSpec, args: Mapping[str, Any]) -> str:
    """What the human is asked: the tool, how many customers it touches, and every change it makes, per
    customer, in the fixed order of tools/changes.py. Never cut: see MAX_QUESTION."""
    entries = tool.count_entries(args)
    scope = f" on {entries} customers" if entries else ""
    found = changes(tool, args)
    lines = [f"The assistant wants to run {tool.name} ({tool.title}){scope}, which changes Square data."]
    lines += ["In short:", *(f"  {line}" for line in summary(found)), "In full:"]
    for subject, fields in found:
        lines.append(("For the whole call" if subject is None else f"Customer {subject}") + (":" if fields else ""))
        lines += [f"  {field}" for field in fields]
    lines.append("Allow it?")
    return "\n".join(lines)


def _seconds(value: float) -> str:
    return f"{value / 60:g} minutes" if value >= 60 else f"{value:g} seconds"


class Confirmer:
    def __init__(
        self,
        secret: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
        answer_timeout: float = ANSWER_TIMEOUT,
        max_spent: int = MAX_SPENT,
        shared_spend: Callable[[str, int], Awaitable[bool]] | None = None,
        asker: Callable[[ServerRequestContext[Any]], str] = lambda ctx: "",
    ) -> None:
        """`asker`: who a request acts for (OAuth mode: the sign-in), so that an answer approves a call only for the
        person it was asked of."""
        self._asker = asker
        # Replicas that share a secret (SQUARE_MCP_HTTP_TOKEN, or OAuth mode's shared state) verify each other's
        # states; otherwise the key is this process's own, and an answer that reaches another process is simply
        # asked again. Single use is per process, and across replicas with `shared_spend` (OAuth mode's state
        # store: whether a nonce, valid until the given epoch second, is spent for the first time anywhere).
        self._shared_spend = shared_spend
        self._key = hashlib.sha256(b"confirm:" + secret.encode()).digest() if secret else secrets.token_bytes(32)
        self._clock = clock
        self._answer_timeout = answer_timeout
        self._spent = _Spent(max_spent)

    async def ask(
        self, ctx: ServerRequestContext[Any], params: CallToolRequestParams, tool: ToolSpec, args: Mapping[str, Any]
    ) -> Outcome:
        text = question(tool, args)
        if len(text) > MAX_QUESTION:
            return error_result(
                f"Not done: SQUARE_CONFIRM_DESTRUCTIVE is on and the question showing every change of this "
                f"call would be {len(text):,} characters, over the {MAX_QUESTION:,} a confirmation may take (it "
                "is never cut short, so that no change goes unseen); nothing was sent to Square. Next step: send "
                "fewer customers per call, or shorter values."
            )
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            decision = self._modern(ctx, params, tool, args, text)
            if decision == "accept" and not await self._first_use_anywhere(params.request_state):
                # Already answered on another replica: like any replay, it approves nothing; ask afresh.
                fresh = params.model_copy(update={"input_responses": None, "request_state": None})
                decision = self._modern(ctx, fresh, tool, args, text)
        else:
            decision = await self._legacy(ctx, text)
        if isinstance(decision, InputRequiredResult):
            return decision
        if decision == "accept":
            return "approved"
        return error_result(f"Not done: {self._refusal(decision)}; nothing was sent to Square.")

    async def _first_use_anywhere(self, state: str | None) -> bool:
        if self._shared_spend is None or state is None:
            return True
        nonce, issued, _ = state.split(".")  # _redeem accepted it, so it has this shape
        return await self._shared_spend(nonce, int(issued) // 1000 + int(APPROVAL_TTL) + 1)

    def _refusal(self, decision: Decision) -> str:
        return {
            "decline": "the user declined it",
            "cancel": "the user dismissed the confirmation",
            "unavailable": "it needs the user's confirmation (SQUARE_CONFIRM_DESTRUCTIVE is on) and this client "
            "cannot ask the user (no form elicitation)",
            "timeout": f"the user did not answer the confirmation within {_seconds(self._answer_timeout)}",
        }[decision]

    async def _legacy(self, ctx: ServerRequestContext[Any], text: str) -> Decision:
        if not ctx.session.check_client_capability(_FORM):
            return "unavailable"
        try:
            with anyio.fail_after(self._answer_timeout):  # abandoning it tells the client (notifications/cancelled)
                answer = await ctx.session.elicit_form(text, _SCHEMA)
        except TimeoutError:
            return "timeout"
        except MCPError:  # e.g. no back-channel on stateless HTTP
            return "unavailable"
        return _decision(answer)

    def _modern(
        self,
        ctx: ServerRequestContext[Any],
        params: CallToolRequestParams,
        tool: ToolSpec,
        args: Mapping[str, Any],
        text: str,
    ) -> Decision | InputRequiredResult:
        answer = (params.input_responses or {}).get(_KEY)
        asker = self._asker(ctx)
        if (
            answer is not None
            and params.request_state is not None
            and self._redeem(params.request_state, tool, args, asker)
        ):
            return _decision(answer) if isinstance(answer, ElicitResult) else "decline"
        # No answer yet, or an answer that is replayed, expired, or to some other question (other arguments,
        # another process's key): it approves nothing, and the human is asked about this very call, afresh.
        if not ctx.session.check_client_capability(_FORM):
            return "unavailable"
        request = ElicitRequest(params=ElicitRequestFormParams(message=text, requested_schema=_SCHEMA))
        return InputRequiredResult(input_requests={_KEY: request}, request_state=self._issue(tool, args, asker))

    def _signature(self, tool: ToolSpec, args: Mapping[str, Any], nonce: str, issued: int, asker: str) -> str:
        # ASCII JSON: a lone surrogate in an argument is escaped rather than failing to encode.
        canonical = json.dumps([tool.name, args, nonce, issued, asker], sort_keys=True, separators=(",", ":"))
        digest = hmac.new(self._key, canonical.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _issue(self, tool: ToolSpec, args: Mapping[str, Any], asker: str) -> str:
        nonce, issued = secrets.token_urlsafe(16), int(self._clock() * 1000)
        return f"{nonce}.{issued}.{self._signature(tool, args, nonce, issued, asker)}"

    def _redeem(self, state: str, tool: ToolSpec, args: Mapping[str, Any], asker: str) -> bool:
        """Whether `state` is one this server issued for exactly this call, unexpired and unused; if so, it
        is used up now (no await between check and use, so two concurrent retries cannot both pass)."""
        parts = state.split(".") if len(state) <= 200 and state.isascii() else []
        if len(parts) != 3 or not parts[0] or not (parts[1].isascii() and parts[1].isdigit()):
            return False
        nonce, issued, signature = parts[0], int(parts[1]), parts[2]
        expected = self._signature(tool, args, nonce, issued, asker)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return False
        now = int(self._clock() * 1000)
        if not -_SKEW_MS <= now - issued <= APPROVAL_TTL * 1000:
            return False
        return self._spent.spend(nonce, issued, now)


class _Spent:
    """Nonces of answered states, kept until they expire. Bounded: past the cap, expired ones are pruned,
    then the oldest forgotten, and every state issued no later than a forgotten one counts as expired,
    so forgetting never makes a replay possible (it can only make a late answer be asked again)."""

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._issued: dict[str, int] = {}
        self._floor = -1

    def __len__(self) -> int:
        return len(self._issued)

    def spend(self, nonce: str, issued: int, now: int) -> bool:
        if issued <= self._floor or nonce in self._issued:
            return False
        self._issued[nonce] = issued
        if len(self._issued) > self._cap:
            oldest_valid = now - int(APPROVAL_TTL * 1000)
            self._issued = {n: t for n, t in self._issued.items() if t >= oldest_valid}
            while len(self._issued) > self._cap:
                oldest = min(self._issued, key=self._issued.__getitem__)
                self._floor = max(self._floor, self._issued.pop(oldest))
        return True


def _decision(answer: ElicitResult) -> Decision:
    if answer.action == "accept":
        return "accept" if (answer.content or {}).get(_KEY) is True else "decline"
    return answer.action
