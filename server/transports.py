"""The MCP app as a streamable HTTP ASGI app (served by http_server.serve_http; stdio is in stdio.py).

HTTP security model: loopback by default; a non-loopback bind needs a bearer token
(SQUARE_MCP_HTTP_TOKEN) or an explicit --allow-remote; Host/Origin checks against DNS rebinding
are always on; request bodies are capped; stateless JSON responses so any replica can answer.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mcp.server import Server
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from square_customers_mcp import health
from square_customers_mcp.http_server import security_settings
from square_customers_mcp.oauth.guards import RegistrationLimit, TokenResource

if TYPE_CHECKING:
    from square_customers_mcp.oauth.mode import OAuthMode

MAX_BODY_BYTES = 1024 * 1024  # a full bulk call of 100 customers is far below this


class StaticBearer:
    """ASGI middleware: `/mcp` needs `Authorization: Bearer <SQUARE_MCP_HTTP_TOKEN>`, compared in constant time.

    Plain RFC 6750, deliberately not the mcp SDK's OAuth resource server: with one shared token there is no
    authorization server, so advertising protected-resource metadata sent OAuth-capable clients looking for
    one (and failing with a 404) instead of telling the person to send the token."""

    _HOW = "this server needs the token it was started with (SQUARE_MCP_HTTP_TOKEN): send it as `Authorization: Bearer <token>`"

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self._token = app, token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"].rstrip("/") if scope["type"] == "http" else ""
        if path == "/register":
            # An OAuth client that found no metadata falls back to registering here (the TypeScript SDK does):
            # an RFC 7591 error naming the token, instead of a 404 it reports as "Invalid OAuth error response".
            body = {"error": "invalid_client_metadata", "error_description": f"no OAuth here: {self._HOW}"}
            await JSONResponse(body, status_code=400)(scope, receive, send)
            return
        if path != "/mcp":
            await self.app(scope, receive, send)
            return
        scheme, _, presented = Headers(scope=scope).get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), self._token):
            await self.app(scope, receive, send)
            return
        # No token: only the realm (RFC 6750 3.1); a wrong one: invalid_token. Never echo what was sent.
        challenge = 'Bearer realm="square-customers-mcp"' + (', error="invalid_token"' if presented else "")
        body = {"error": "invalid_token" if presented else "unauthorized", "error_description": self._HOW}
        await JSONResponse(body, status_code=401, headers={"WWW-Authenticate": challenge})(scope, receive, send)


class NoEventStream:
    """ASGI middleware: `GET /mcp` answers 405. In stateless mode nothing can ever be sent on that stream, and
    an open one would hold a connection forever; the MCP spec lets a server say it offers none this way."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].rstrip("/") == "/mcp":
            await send({"type": "http.response.start", "status": 405, "headers": [(b"allow", b"POST, DELETE")]})
            await send({"type": "http.response.body", "body": b"this server offers no event stream"})
            return
        await self.app(scope, receive, send)


def build_http_app(
    server: Server[Any],
    host: str,
    *,
    token: str | None = None,
    extra_hosts: list[str] | None = None,
    probes: Sequence[health.Probe] = (),
    oauth: OAuthMode | None = None,
) -> Starlette:
    """`token`: static-token mode; `oauth`: OAuth mode (the SDK's authorization and resource server); neither:
    no authentication (loopback, or behind an authenticating proxy)."""
    hosts = [*(extra_hosts or []), *([oauth.public_host()] if oauth else [])]
    probes = [*probes, *([oauth.probe()] if oauth else [])]
    # Stateless with JSON responses: any replica behind any load balancer can answer.
    app = server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        host=host,
        max_request_body_size=MAX_BODY_BYTES,
        transport_security=security_settings(host, hosts),
        # /healthz and /readyz: routes of their own, so neither the SDK's auth (which wraps the /mcp route only)
        # nor StaticBearer (/mcp only) nor the transport's Host/Origin checks stand before a load balancer.
        custom_starlette_routes=[*health.routes(probes), *(oauth.routes() if oauth else [])],
        **(oauth.app_options() if oauth else {}),
    )
    app.add_middleware(NoEventStream)
    if oauth:  # the checks the SDK's OAuth routes lack (oauth/guards.py)
        app.add_middleware(TokenResource, resource_url=oauth.settings.resource_url)
        app.add_middleware(RegistrationLimit)
    if token:
        app.add_middleware(StaticBearer, token=token)  # added last: outermost, so it runs first
    return app
