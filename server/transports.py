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
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import AnyHttpUrl
from starlette.applications import Starlette

from square_customers_mcp.config import is_loopback

MAX_BODY_BYTES = 1024 * 1024  # a full bulk call of 100 customers is far below this


class StaticTokenVerifier:
    """Accepts exactly one bearer token, compared in constant time."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token.encode(), self._token):
            return AccessToken(token="<redacted>", client_id="bearer", scopes=[])  # noqa: S106 - placeholder
        return None


def _security(host: str, port: int, extra_hosts: list[str]) -> TransportSecuritySettings:
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    if not is_loopback(host) and host not in ("0.0.0.0", "::"):  # noqa: S104 - checking, not binding
        hosts.append(f"{host}:*")
    hosts += extra_hosts
    origins = [f"http://{h}" for h in hosts] + [f"https://{h}" for h in hosts]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


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
    return server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        host=host,
        max_request_body_size=MAX_BODY_BYTES,
        transport_security=_security(host, port, extra_hosts or []),
        **auth,
    )


async def serve_stdio(server: Server[Any]) -> None:
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


async def serve_http(server: Server[Any], app: Starlette, host: str, port: int, log_level: str) -> None:
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level=log_level.lower(), lifespan="on")
    await uvicorn.Server(config).serve()
