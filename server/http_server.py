"""Serving an ASGI app over HTTP so that slow, idle or piled-up clients cannot stall it: for `serve` and `sandbox`.

uvicorn is kept (it ships with mcp and is well maintained) but its h11 protocol has no deadline for reading a
request: a client that never finishes its headers or body holds a connection, and a file descriptor, forever
(slowloris). `GuardedH11Protocol` adds what is missing:

- a deadline for receiving a whole request, headers and body (`Limits.request_seconds`), and the same
  deadline for an answer waiting on a client that stopped reading; uvicorn's own keep-alive timeout closes
  connections idle between requests;
- a cap on open connections: when it is reached, the oldest connection that is not running a request (still
  sending one, or idle) is closed to make room, so a flood of half-open connections cannot lock out a client
  that completes its request; when every connection is running a request, the new one gets a 503 at once;
- a cap on requests in flight (`InFlightLimit`): above it, 503 with Retry-After at once;
- a bounded log: closed connections are counted and reported at most once per `Limits.report_seconds`.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from dataclasses import dataclass
from typing import Any

import h11
from mcp.server.transport_security import (
    RequestBodyLimitMiddleware,
    TransportSecurityMiddleware,
    TransportSecuritySettings,
)
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("square_customers_mcp.http")

_BUSY_BODY = b"too many connections, retry"
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\nretry-after: 1\r\n"
    b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)


@dataclass(frozen=True)
class Limits:
    request_seconds: float = 10.0  # to receive one request's headers and body (bodies are at most 1 MiB)
    max_connections: int = 512
    max_in_flight: int = 128  # requests being answered at once; each may wait on Square for up to its timeout
    keep_alive_seconds: int = 5  # idle time allowed between two requests on one connection
    backlog: int = 256  # pending connections the OS queues; also how many asyncio accepts in one go
    report_seconds: float = 10.0


class _Guard:
    """Per-server bookkeeping shared by its connections: who may be closed to make room, and what to report."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        # Connections not running a request, oldest first (dicts keep insertion order).
        self.evictable: dict[GuardedH11Protocol, None] = {}
        self._closed: dict[str, int] = {}
        self._report: asyncio.TimerHandle | None = None

    def closed(self, reason: str) -> None:
        """Count a closed connection; one summary line follows `report_seconds` after the first of a burst."""
        self._closed[reason] = self._closed.get(reason, 0) + 1
        if self._report is None:
            self._report = asyncio.get_running_loop().call_later(self.limits.report_seconds, self.report)

    def report(self) -> None:
        if self._report is not None:
            self._report.cancel()
            self._report = None
        if self._closed:
            summary = ", ".join(f"{count} {reason}" for reason, count in sorted(self._closed.items()))
            log.warning("closed HTTP connections in the last %.0f s: %s", self.limits.report_seconds, summary)
            self._closed.clear()


class GuardedH11Protocol(H11Protocol):
    guard: _Guard  # set on the subclass `uvicorn_config` makes for one server

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._stalled: asyncio.TimerHandle | None = None
        self._start_receiving()
        if len(self.connections) > self.guard.limits.max_connections:
            self._make_room()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._start_receiving()  # the next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            self._stop_receiving()  # the whole request is in (or the connection is failing): no deadline

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            # Idle, or a pipelined next request already half-read: its deadline starts now, not at its next
            # byte. uvicorn's keep-alive timer also closes an idle connection sooner.
            self._start_receiving()

    def pause_writing(self) -> None:
        super().pause_writing()
        # A client that stops reading its answers (pipelined requests, replies never read) would otherwise
        # hold the connection as "running a request" for ever, out of reach of eviction.
        if self._stalled is None:
            self._stalled = self.loop.call_later(self.guard.limits.request_seconds, self._not_reading)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._stop_stall()

    def _stop_stall(self) -> None:
        if self._stalled is not None:
            self._stalled.cancel()
            self._stalled = None

    def _not_reading(self) -> None:
        self._stalled = None
        self.guard.closed("not reading their answers")
        self.transport.abort()  # close() would wait for a send buffer that never drains

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_receiving()
        self._stop_stall()
        super().connection_lost(exc)

    def _start_receiving(self) -> None:
        self.guard.evictable.pop(self, None)
        self.guard.evictable[self] = None  # re-inserted: now the newest
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(self.guard.limits.request_seconds, self._too_slow)

    def _stop_receiving(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self.guard.evictable.pop(self, None)

    def _too_slow(self) -> None:
        self._deadline = None
        self.guard.closed("too slow to send a request")
        self.transport.close()

    def _make_room(self) -> None:
        oldest = next((other for other in self.guard.evictable if other is not self), None)
        if oldest is not None:
            oldest._stop_receiving()
            oldest.transport.close()
            self.guard.closed("closed to make room for a new one")
        else:  # every other connection is running a request: refuse this one rather than queue it
            self._stop_receiving()
            self.transport.write(_BUSY)
            self.transport.close()
            self.guard.closed("refused with 503, all connections busy")


def allowed_hosts(host: str, extra_hosts: list[str]) -> list[str]:
    """Host header values an HTTP server bound to `host` answers (its Host/Origin checks stop DNS rebinding):
    the loopback names, the bound address itself (any loopback one, e.g. 127.0.0.2), and the configured extras."""
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    if host not in ("0.0.0.0", "::"):  # noqa: S104 - checking, not binding
        bound = f"[{host.strip('[]')}]:*" if ":" in host else f"{host}:*"
        hosts += [] if bound in hosts else [bound]
    return hosts + extra_hosts


def security_settings(host: str, extra_hosts: list[str]) -> TransportSecuritySettings:
    hosts = allowed_hosts(host, extra_hosts)
    origins = [f"http://{h}" for h in hosts] + [f"https://{h}" for h in hosts]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


class HostCheck:
    """ASGI middleware: the Host/Origin checks the MCP transport makes (the mcp SDK's own), for apps without them."""

    def __init__(self, app: ASGIApp, settings: TransportSecuritySettings) -> None:
        self.app, self.checks = app, TransportSecurityMiddleware(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = await self.checks.validate_request(Request(scope), is_post=False)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def guarded(app: ASGIApp, host: str, extra_hosts: list[str], max_body_bytes: int) -> ASGIApp:
    """`app` behind Host/Origin checks and a request-body cap (the mcp SDK's middleware, 413 above it)."""
    return HostCheck(RequestBodyLimitMiddleware(app, max_body_bytes), security_settings(host, extra_hosts))


class InFlightLimit:
    """ASGI middleware: at most `limit` HTTP requests answered at once; the next gets a 503 straight away."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit, self.in_flight = app, limit, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await send({"type": "http.response.start", "status": 503, "headers": [(b"retry-after", b"1")]})
            await send({"type": "http.response.body", "body": b"too many requests in flight, retry"})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


def _open_file_budget(wanted: int, backlog: int) -> int:
    """Raise the soft open-file limit to the hard one (at most 65,536); return how many connections fit under it.

    asyncio accepts up to `backlog` connections in one go before any of them can be closed to make room, so
    that many descriptors must be free on top of the cap, or accept() fails with EMFILE and stalls."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    spare = 128 + backlog  # the database, logs, connections to Square, and one accept batch
    return wanted if soft == resource.RLIM_INFINITY else max(16, min(wanted, soft - spare))


def uvicorn_config(app: ASGIApp, host: str, port: int, log_level: str, limits: Limits | None = None) -> Any:
    import uvicorn

    limits = limits or Limits()
    budget = _open_file_budget(limits.max_connections, limits.backlog)
    if budget < limits.max_connections:
        log.warning("open-file limit allows only %d connections (wanted %d)", budget, limits.max_connections)
        limits = Limits(**{**limits.__dict__, "max_connections": budget})
    protocol = type("GuardedH11Protocol", (GuardedH11Protocol,), {"guard": _Guard(limits)})
    return uvicorn.Config(
        InFlightLimit(app, limits.max_in_flight),
        host=host,
        port=port,
        http=protocol,
        timeout_keep_alive=limits.keep_alive_seconds,
        backlog=limits.backlog,
        log_level=log_level.lower(),
        log_config=None,  # uvicorn's records go to our handler: one format, secrets scrubbed, rate-limited
        access_log=False,
        lifespan="on",
    )


async def serve_http(app: ASGIApp, host: str, port: int, log_level: str, limits: Limits | None = None) -> None:
    import uvicorn

    server = uvicorn.Server(uvicorn_config(app, host, port, log_level, limits))
    try:
        await server.serve()
    finally:
        protocol = server.config.http_protocol_class
        if issubclass(protocol, GuardedH11Protocol):
            protocol.guard.report()  # what the last window closed
