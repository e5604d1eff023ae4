"""Fault injection for the sandbox: rate limits, server errors, latency and dropped connections,
including the hard case where the write is applied and its answer is lost.

SPEC is comma-separated `name=value`: probabilities `429`, `500`, `503`, `drop_before`, `drop_after`
(one draw per request picks at most one of them, so they must add up to at most 1), `latency` (a
separate probability) with `latency_ms` (default 50), `retry_after` (seconds, default 1) and `seed`.
Example: `429=0.06,500=0.06,503=0.06,drop_before=0.06,drop_after=0.06,latency=0.1,latency_ms=20`.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FAULT_KINDS = ("429", "500", "503", "drop_before", "drop_after")
_SETTINGS = ("latency", "latency_ms", "retry_after", "seed")


class DroppedConnection(Exception):
    """Raised after the response has started: a server closes the connection mid-answer."""


class FaultSpecError(ValueError):
    pass


@dataclass
class FaultSpec:
    rates: dict[str, float] = field(default_factory=dict)
    latency: float = 0.0
    latency_ms: float = 50.0
    retry_after: float = 1.0
    seed: int | None = None

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        spec = cls()
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, raw = part.partition("=")
            name = name.strip()
            if not sep or name not in (*FAULT_KINDS, *_SETTINGS):
                known = ", ".join((*FAULT_KINDS, *_SETTINGS))
                raise FaultSpecError(f"unknown fault setting {part!r}; known: {known}")
            try:
                value = float(raw)
            except ValueError:
                raise FaultSpecError(f"{name} needs a number, got {raw!r}") from None
            if name in FAULT_KINDS or name == "latency":
                if not 0 <= value <= 1:
                    raise FaultSpecError(f"{name} is a probability between 0 and 1, got {raw}")
            elif value < 0:
                raise FaultSpecError(f"{name} must not be negative, got {raw}")
            if name in FAULT_KINDS:
                spec.rates[name] = value
            elif name == "seed":
                spec.seed = int(value)
            else:
                setattr(spec, name, value)
        if sum(spec.rates.values()) > 1:
            raise FaultSpecError("the fault probabilities add up to more than 1")
        return spec


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
