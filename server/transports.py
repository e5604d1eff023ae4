"""Serving the MCP app: stdio (what MCP hosts launch) and streamable HTTP under uvicorn.

HTTP security model: loopback by default; a non-loopback bind needs a bearer token
(SQUARE_MCP_HTTP_TOKEN) or an explicit --allow-remote; Host/Origin checks against DNS rebinding
are always on; request bodies are capped; stateless JSON responses so any replica can answer.
"""

from __future__ import annotations

import hmac
from typing import Any

from mcp.server import Server
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from square_customers_mcp.config import is_loopback
from square_customers_mcp.http_server import security_settings

MAX_BODY_BYTES = 1024 * 1024  # a full bulk call of 100 customers is far below this


class StaticTokenVerifier:
    """Accepts exactly one bearer token, compared in constant time."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token.encode(), self._token):
            return AccessToken(token="<redacted>", client_id="bearer", scopes=[])  # noqa: S106 - placeholder
        return None


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
    server: Server[Any], host: str, port: int, *, token: str | None = None, extra_hosts: list[str] | None = None
) -> Starlette:
    auth: dict[str, Any] = {}
    if token:
        # The URL clients are told to present the token to; IPv6 literals need brackets in a URL.
        public = host if is_loopback(host) or host not in ("0.0.0.0", "::") else "localhost"  # noqa: S104
        public = f"[{public.strip('[]')}]" if ":" in public else public
        url = AnyHttpUrl(f"http://{public}:{port}/mcp")
        auth = {
            "token_verifier": StaticTokenVerifier(token),
            "auth": AuthSettings(issuer_url=url, resource_server_url=url, validate_token_resource=False),
        }
    # Stateless with JSON responses: any replica behind any load balancer can answer.
    app = server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        host=host,
        max_request_body_size=MAX_BODY_BYTES,
        transport_security=security_settings(host, extra_hosts or []),
        **auth,
    )
    app.add_middleware(NoEventStream)
    return app
