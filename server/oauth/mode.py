"""OAuth mode assembled: the shared state, Square's OAuth, the authorization server and what the HTTP app needs
from them (the mcp SDK's auth settings and routes, the Square callback, a readiness probe)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from mcp.server.auth.provider import ProviderTokenVerifier
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from starlette.routing import Route

from square_customers_mcp.health import Probe
from square_customers_mcp.oauth.callback import callback_endpoint
from square_customers_mcp.oauth.config import CALLBACK_PATH, CONSENT_PATH, OAuthSettings
from square_customers_mcp.oauth.consent import consent_endpoint
from square_customers_mcp.oauth.people import SquareTokens, person_of
from square_customers_mcp.oauth.provider import Lifetimes, SquareSignIn
from square_customers_mcp.oauth.square_oauth import SquareOAuth
from square_customers_mcp.state import StateStore, open_state


@dataclass(frozen=True)
class OAuthMode:
    settings: OAuthSettings
    sign_in: SquareSignIn
    tokens: SquareTokens

    @property
    def store(self) -> StateStore:
        return self.sign_in.store

    def app_options(self) -> dict[str, Any]:
        """Keyword arguments of the mcp SDK's `Server.streamable_http_app` that make it the authorization server
        and the resource server (tokens must name this server's /mcp as their resource)."""
        offered = self.sign_in.offered
        return {
            # Validated from strings, so the issuer keeps its exact form (no trailing slash added): RFC 8414 and
            # 9207 compare issuers as strings.
            "auth": AuthSettings.model_validate(
                {
                    "issuer_url": self.settings.public_url,
                    "resource_server_url": self.settings.resource_url,
                    "validate_token_resource": True,
                    "client_registration_options": ClientRegistrationOptions(
                        enabled=True, valid_scopes=offered, default_scopes=offered
                    ),
                    "revocation_options": RevocationOptions(enabled=True),
                }
            ),
            "auth_server_provider": self.sign_in,
            "token_verifier": ProviderTokenVerifier(self.sign_in),  # type: ignore[arg-type]  # our subclasses
        }

    def routes(self) -> list[Route]:
        return [
            Route(CONSENT_PATH, consent_endpoint(self.sign_in), methods=["GET", "POST"]),
            Route(CALLBACK_PATH, callback_endpoint(self.sign_in), methods=["GET"]),
        ]

    @staticmethod
    def asker(ctx: Any) -> str:
        """Who an MCP request acts for: the sign-in (for binding confirmation answers to the person asked)."""
        person = person_of(ctx.request)
        return person.grant_id if person else ""

    def public_host(self) -> str:
        """The Host clients send to reach this server through its public URL (allowed besides the bind address)."""
        parts = urlsplit(self.settings.public_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return f"{parts.hostname}:{port}"

    def probe(self) -> Probe:
        return Probe("state", self.store.ping)

    async def aclose(self) -> None:
        await self.sign_in.square.aclose()
        await self.store.db.close()


async def open_oauth(
    settings: OAuthSettings,
    *,
    read_only: bool = False,
    lifetimes: Lifetimes | None = None,
    square_transport: httpx.AsyncBaseTransport | None = None,
) -> OAuthMode:
    store = await open_state(settings.state_url, settings.state_key)
    sign_in = SquareSignIn(
        store, SquareOAuth(settings, square_transport), settings, read_only=read_only, lifetimes=lifetimes
    )
    return OAuthMode(settings, sign_in, SquareTokens(sign_in))
