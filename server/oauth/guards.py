"""Two checks in front of the mcp SDK's OAuth routes that the SDK does not make.

- RegistrationLimit: /register needs no token and each registration is stored, so one address gets a bounded
  number per minute (token bucket; 429 beyond).
- TokenResource: a `resource` at /token that isn't this server's /mcp is `invalid_target` (RFC 8707 2.2); the SDK
  would issue a token for this server anyway, and the client would believe it got one for the other resource.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_TOKEN_BODY = 64 * 1024  # a token request is a few hundred bytes
MAX_TRACKED = 10_000  # addresses remembered by the registration limit; the least recent are forgotten first


def _is(scope: Scope, method: str, path: str) -> bool:
    return bool(scope["type"] == "http" and scope["method"] == method and scope["path"].rstrip("/") == path)


class RegistrationLimit:
    def __init__(self, app: ASGIApp, per_minute: int = 30, clock: Callable[[], float] = time.monotonic) -> None:
        self.app, self._rate, self._clock = app, per_minute, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # address -> (tokens, when)

    def _allow(self, address: str) -> bool:
        now = self._clock()
        tokens, then = self._buckets.pop(address, (float(self._rate), now))
        tokens = min(float(self._rate), tokens + (now - then) * self._rate / 60)
        allowed = tokens >= 1
        self._buckets[address] = (tokens - 1 if allowed else tokens, now)
        while len(self._buckets) > MAX_TRACKED:
            self._buckets.popitem(last=False)
        return allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _is(scope, "POST", "/register") and not self._allow((scope.get("client") or ("?",))[0]):
            body = {"error": "temporarily_unavailable", "error_description": "too many registrations; try later"}
            await JSONResponse(body, status_code=429, headers={"Retry-After": "60"})(scope, receive, send)
            return
        await self.app(scope, receive, send)


class TokenResource:
    def __init__(self, app: ASGIApp, resource_url: str) -> None:
        self.app, self._resource = app, resource_url.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is(scope, "POST", "/token"):
            await self.app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more and size <= MAX_TOKEN_BODY:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # the client went away: let the app see it
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
        body = b"".join(chunks)
        asked = parse_qs(body.decode("latin-1")).get("resource", []) if not more else []
        if any(resource.rstrip("/") != self._resource for resource in asked):
            problem = {
                "error": "invalid_target",
                "error_description": f"this server issues tokens only for {self._resource}",
            }
            await JSONResponse(problem, status_code=400, headers={"Cache-Control": "no-store"})(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": more}
            return await receive()

        await self.app(scope, replay, send)
