"""Fault injection for the sandbox: rate limits, server errors, latency and dropped connections,
including the hard case where the write is applied and its answer is lost.

The SPEC it takes is parsed by square_customers_mcp.fault_spec.
"""

from __future__ import annotations

import json
import random
from collections import Counter

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from square_customers_mcp.fault_spec import FAULT_KINDS, FaultSpec, FaultSpecError

__all__ = ["FAULT_KINDS", "DroppedConnection", "FaultInjector", "FaultSpec", "FaultSpecError"]


class DroppedConnection(Exception):
    """Raised after the response has started: a server closes the connection mid-answer."""


class FaultInjector:
    """ASGI middleware in front of the sandbox app; `counts` says what it injected."""

    def __init__(self, app: ASGIApp, spec: FaultSpec) -> None:
        self.app = app
        self.spec = spec
        self.counts: Counter[str] = Counter()
        self._rng = random.Random(spec.seed)

    def _draw(self) -> str | None:
        point, edge = self._rng.random(), 0.0
        for kind in FAULT_KINDS:
            edge += self.spec.rates.get(kind, 0.0)
            if point < edge:
                return kind
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.counts["requests"] += 1
        if self.spec.latency and self._rng.random() < self.spec.latency:
            self.counts["latency"] += 1
            await anyio.sleep(self.spec.latency_ms / 1000)
        kind = self._draw()
        if kind is None:
            await self.app(scope, receive, send)
            return
        self.counts[kind] += 1
        if kind == "drop_after":
            # Let the write happen, then lose its answer.
            await self.app(scope, receive, _discard)
            await _drop(send)
        elif kind == "drop_before":
            await _drop(send)
        else:
            await _error(send, int(kind), self.spec.retry_after)


async def _discard(message: Message) -> None:
    return None


async def _drop(send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    raise DroppedConnection("connection dropped by the sandbox's fault injection")


async def _error(send: Send, status: int, retry_after: float) -> None:
    code, category = {
        429: ("RATE_LIMITED", "RATE_LIMIT_ERROR"),
        500: ("INTERNAL_SERVER_ERROR", "API_ERROR"),
        503: ("SERVICE_UNAVAILABLE", "API_ERROR"),
    }[status]
    body = json.dumps({"errors": [{"category": category, "code": code, "detail": "injected fault"}]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 429:
        headers.append((b"retry-after", f"{retry_after:g}".encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
