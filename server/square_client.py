"""The one async client that talks to Square (or the local API) over HTTP."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import anyio
import httpx
from opentelemetry import trace

from square_customers_mcp import __version__, telemetry
from square_customers_mcp.config import Settings
from square_customers_mcp.logs import Scrubber
from square_customers_mcp.retry import RETRY_STATUSES, RetryPolicy, retry_after_seconds

log = logging.getLogger("square_customers_mcp.client")
OnWait = Callable[[str], Awaitable[None]]

# Any bearer token opens the local API, as any Square token opens Square's.
LOCAL_TOKEN = "local-sandbox"  # noqa: S105 - not a secret, the sandbox accepts any token


@dataclass(frozen=True)
class _Credential:
    token: str
    scrubber: Scrubber


# OAuth mode: the signed-in person whose Square token this call uses (None: the client's own token).
_acting: ContextVar[_Credential | None] = ContextVar("square_credential", default=None)


@lru_cache(maxsize=512)  # a Scrubber precomputes every encoding of its secret: once per person, not per call
def _credential(token: str) -> _Credential:
    return _Credential(token, Scrubber([token], min_length=12))


@contextmanager
def acting_as(token: str) -> Iterator[None]:
    """Requests made inside use `token` (a signed-in person's Square token), and answers are scrubbed of it."""
    reset = _acting.set(_credential(token))
    try:
        yield
    finally:
        _acting.reset(reset)


_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Far above any real Customers answer (a page of 100 full customers is well under 1 MiB); reading stops here.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
# Headers that describe the bytes on the wire, not the decoded body the capped read keeps.
_WIRE_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


class ResponseTooLarge(httpx.HTTPError):
    """Square's answer was larger than MAX_RESPONSE_BYTES; not retried (it would be as large again)."""

    def __init__(self) -> None:
        limit = MAX_RESPONSE_BYTES // (1024 * 1024)
        super().__init__(
            f"RESPONSE_TOO_LARGE: Square's answer is larger than the {limit} MiB limit, so it was not read."
        )


@dataclass
class Attempts:
    """What the attempts of one request did, filled in as they happen (also when the last one raises)."""

    count: int = 0
    may_have_applied: bool = False
    """Some attempt may have reached Square without its answer arriving: a timeout or a dropped
    connection after connecting, or a 5xx (Square may have committed before failing)."""


@dataclass(frozen=True)
class SquareResponse:
    status: int
    body: Any
    """Parsed JSON, or None when Square sent no JSON."""
    raw: bytes
    """The body as sent (token scrubbed), for errors that are not JSON."""
    attempts: int = 1

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", errors="replace")


class SquareClient:
    """Builds Square requests (auth, Square-Version, JSON) and returns parsed responses.

    The transport is injected: httpx's default for Square, an ASGI transport for the in-process
    sandbox, a MockTransport in tests. Requests marked retry_safe are retried on 429/5xx and on
    connection errors and timeouts; the last failure propagates (an httpx error or the response).
    """

    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.retry = retry or settings.retry_policy
        self._timeout = settings.timeout_seconds
        token = settings.access_token or LOCAL_TOKEN
        # An upstream that echoes request headers (a proxy, a wrong SQUARE_BASE_URL) must not get the
        # token into a tool result: answers are scrubbed of it, in any escaping, before anything reads them.
        # Square tokens are 64 characters; a test's one-letter token would scrub ordinary text.
        self._scrubber = Scrubber([settings.access_token], min_length=12)
        self._base_url = settings.resolved_base_url
        self._http = httpx.AsyncClient(
            base_url=settings.resolved_base_url,
            transport=transport,
            timeout=httpx.Timeout(settings.timeout_seconds, connect=min(10.0, settings.timeout_seconds)),
            headers={
                "Authorization": f"Bearer {token}",
                "Square-Version": settings.square_version,
                "Accept": "application/json",
                "User-Agent": f"square-customers-mcp/{__version__}",
            },
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        retry_safe: bool = False,
        on_wait: OnWait | None = None,
        attempts: Attempts | None = None,
        template: str | None = None,
    ) -> SquareResponse:
        """Send one request; when retry_safe, resend it until it succeeds or the policy gives up.

        Only requests that cannot duplicate anything may be retry_safe: GET/PUT/DELETE, read-only
        POSTs, and POSTs whose body carries idempotency keys. `on_wait` hears of each wait before a retry;
        `attempts`, when given, records what the attempts did. `template` is the path's template, what the
        request's trace span shows (the path itself holds customer ids).
        """
        attempts = attempts if attempts is not None else Attempts()
        with telemetry.request_span(method, template, self._base_url) as span:
            try:
                response = await self._attempts(method, path, query, body, retry_safe, on_wait, attempts)
            finally:
                span.set_attribute(telemetry.ATTEMPTS, attempts.count)
            telemetry.request_answered(span, response.status, response.attempts)
            return response

    async def _attempts(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None,
        body: dict[str, Any] | None,
        retry_safe: bool,
        on_wait: OnWait | None,
        attempts: Attempts,
    ) -> SquareResponse:
        # Encoded once: every attempt sends the very same bytes, idempotency key included.
        content = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        policy = self.retry if retry_safe else RetryPolicy(max_attempts=1)
        deadline = time.monotonic() + policy.deadline_seconds
        attempt = 0
        while True:
            attempt += 1
            attempts.count = attempt
            wait: float | None = None
            # No attempt may outlive the call's deadline by a whole timeout (but each gets a second at least).
            seconds = min(self._timeout, max(1.0, deadline - time.monotonic())) if retry_safe else self._timeout
            request = self._http.build_request(
                method,
                path,
                params=_query_params(query),
                content=content,
                headers=_headers(content is not None),
                timeout=httpx.Timeout(seconds, connect=min(10.0, seconds)),
            )
            try:
                response = await self._send_capped(request, seconds)
            except ResponseTooLarge:
                attempts.may_have_applied = True  # Square answered, so it acted on the request
                raise
            except httpx.TransportError as error:  # includes timeouts
                # A connection that never opened (or never left the pool) sent nothing; any other failure
                # may have reached Square.
                attempts.may_have_applied |= not isinstance(error, _NEVER_SENT)
                if not self._may_retry(policy, attempt, deadline, None):
                    raise
                reason = type(error).__name__
            else:
                attempts.may_have_applied |= response.status_code >= 500
                if response.status_code not in RETRY_STATUSES:
                    return self._parse(response, attempt)
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                if not self._may_retry(policy, attempt, deadline, wait):
                    return self._parse(response, attempt)
                reason = f"HTTP {response.status_code}"
            delay = wait if wait is not None else policy.backoff(attempt)
            delay = min(delay, max(0.0, deadline - time.monotonic()))
            log.warning(
                "%s %s: %s; retry %d/%d in %.2fs", method, path, reason, attempt, policy.max_attempts - 1, delay
            )
            # On the request's span: the reason is a status or an exception's type, nothing from the request.
            trace.get_current_span().add_event("retry", {"attempt": attempt, "reason": reason, "delay_s": delay})
            if on_wait is not None:
                await on_wait(f"{reason}; retry {attempt}/{policy.max_attempts - 1} in {delay:.1f}s")
            await anyio.sleep(delay)

    async def _send_capped(self, request: httpx.Request, seconds: float) -> httpx.Response:
        """Send `request` and read at most MAX_RESPONSE_BYTES of its (decoded) answer, else ResponseTooLarge,
        all within `seconds`: httpx's timeout is per read, and an answer dripped a byte at a time resets it."""
        try:
            with anyio.fail_after(seconds):
                return await self._read_capped(request)
        except TimeoutError:
            raise httpx.ReadTimeout(f"no whole answer within {seconds:g} s", request=request) from None

    async def _read_capped(self, request: httpx.Request) -> httpx.Response:
        response = await self._http.send(request, stream=True)
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
                raise ResponseTooLarge
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise ResponseTooLarge
                chunks.append(chunk)
        finally:
            await response.aclose()
        # A read response holding the decoded body, so what follows never touches the network again.
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
        return httpx.Response(response.status_code, headers=headers, content=b"".join(chunks), request=request)

    def _parse(self, response: httpx.Response, attempts: int) -> SquareResponse:
        # The bytes first (the token literal, \u-escaped or percent-encoded, also partly), for the raw-text
        # error path; then every decoded string and key, whatever escaping got past the byte pass.
        acting = _acting.get()
        raw = self._scrubber.raw(response.content)
        raw = acting.scrubber.raw(raw) if acting else raw
        try:
            parsed = self._scrubber.decoded(json.loads(raw)) if raw else None  # Square answers UTF-8 JSON
            parsed = acting.scrubber.decoded(parsed) if acting and parsed is not None else parsed
        except (ValueError, RecursionError):
            parsed = None
        return SquareResponse(response.status_code, parsed, raw, attempts)

    @staticmethod
    def _may_retry(policy: RetryPolicy, attempt: int, deadline: float, wait: float | None) -> bool:
        if attempt >= policy.max_attempts:
            return False
        # A Retry-After that reaches past the deadline cannot be honoured: give up now.
        return time.monotonic() + (wait or 0.0) < deadline

    async def ping(self, seconds: float) -> int:
        """The status the base URL answers a bare GET with (readiness: any HTTP answer means reachable).

        Through the same client and transport as every call, but without the token: a health check needs none,
        and it may be run on behalf of anyone who can reach /readyz. No retries, no span, body not read."""
        request = self._http.build_request("GET", "/", timeout=httpx.Timeout(seconds))
        del request.headers["Authorization"]
        response = await self._http.send(request, stream=True)
        await response.aclose()
        return response.status_code

    async def aclose(self) -> None:
        await self._http.aclose()


def _headers(has_body: bool) -> dict[str, str] | None:
    headers = {"Content-Type": "application/json"} if has_body else {}
    acting = _acting.get()
    if acting is not None:
        headers["Authorization"] = f"Bearer {acting.token}"
    return headers or None


def expand_path(template: str, values: dict[str, Any]) -> str:
    """Fill a path template, percent-encoding each value so it stays one path segment."""
    path = template
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    return path


def _query_params(query: dict[str, Any] | None) -> dict[str, str] | None:
    if not query:
        return None
    # Square expects lower-case booleans in query strings.
    return {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in query.items()}
