"""The OAuth 2.1 authorization server of OAuth mode, as the mcp SDK's OAuthAuthorizationServerProvider: the SDK
serves the routes (metadata, /register, /authorize, /token, /revoke) and checks the protocol (PKCE S256, exact
redirect URIs, client authentication, scope subsets); this class decides and remembers.

Its /authorize hands the person to Square's sign-in (oauth/callback.py brings them back); the tokens it issues
are its own, random, bound to this server's /mcp as audience (RFC 8707), stored as hashes in the shared state.
Refresh tokens rotate, and presenting a used one revokes the whole sign-in (OAuth 2.1 4.3.1)."""

from __future__ import annotations

import contextlib
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    RefreshToken,
    RegistrationError,
    TokenError,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyUrl

from square_customers_mcp.config import is_loopback
from square_customers_mcp.oauth.config import CONSENT_PATH, OAuthSettings
from square_customers_mcp.oauth.square_oauth import SquareOAuth, SquareOAuthError, pkce_verifier
from square_customers_mcp.state.store import Item, StateStore

READ, WRITE = "CUSTOMERS_READ", "CUSTOMERS_WRITE"
SCOPES = [READ, WRITE]
"""The Square permissions this server can use; an MCP token's scopes are the ones the person granted at Square."""


@dataclass(frozen=True)
class Lifetimes:
    """Seconds. Access tokens are short because revocation is checked on every call anyway, refresh tokens last
    as long as a Square access token (30 days), each refresh starting a new period."""

    access: int = 3600
    refresh: int = 30 * 86400
    code: int = 300
    sign_in: int = 600
    """From /authorize to Square's answer: the person's time to sign in at Square."""
    unused_client: int = 86400
    """A registered client that completed no sign-in within this is forgotten."""


MAX_CLIENT_METADATA = 16 * 1024
"""Bytes of a registration's metadata as stored: far above any real client's, far below the 4 MiB body cap."""
MAX_REDIRECT_URIS = 10
MAX_STATE = 512
"""Characters of a client's `state`: it is stored until the sign-in ends."""
MAX_SIGN_INS_IN_PROGRESS = 20
"""Per client: sign-ins started and not finished. More means a script, not people."""
_NEVER_REDIRECT = {"javascript", "data", "vbscript", "file", "blob", "about", "filesystem"}


def check_registration(info: dict[str, Any]) -> None:
    """Refuse redirect URIs a code must never go to (OAuth 2.1 2.3.1, RFC 6749 3.1.2, RFC 8252 7) and oversized
    metadata: https, http only to loopback, or an app's own scheme; never a fragment."""
    uris = [str(uri) for uri in info.get("redirect_uris") or []]
    if len(uris) > MAX_REDIRECT_URIS:
        raise RegistrationError("invalid_redirect_uri", f"at most {MAX_REDIRECT_URIS} redirect URIs")
    for uri in uris:
        parts = urlsplit(uri)
        scheme = parts.scheme.lower()
        if parts.fragment or "#" in uri:
            raise RegistrationError("invalid_redirect_uri", "a redirect URI must not have a fragment")
        if scheme in _NEVER_REDIRECT or (scheme == "http" and not is_loopback(parts.hostname or "")):
            raise RegistrationError(
                "invalid_redirect_uri",
                "redirect URIs must be https, http to a loopback address, or an app's own scheme",
            )
    if len(json.dumps(info)) > MAX_CLIENT_METADATA:
        raise RegistrationError("invalid_client_metadata", f"client metadata over {MAX_CLIENT_METADATA} bytes")


class Code(AuthorizationCode):
    grant_id: str


class Refresh(RefreshToken):
    grant_id: str


class Access(AccessToken):
    grant_id: str


def same_resource(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


class SquareSignIn:
    def __init__(
        self,
        store: StateStore,
        square: SquareOAuth,
        settings: OAuthSettings,
        *,
        read_only: bool = False,
        lifetimes: Lifetimes | None = None,
    ) -> None:
        self.store, self.square, self.settings = store, square, settings
        self.lifetimes = lifetimes or Lifetimes()
        self.offered = [READ] if read_only else SCOPES

    # Clients (dynamic registration, RFC 7591)
    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        info = await self.store.client(client_id)
        return OAuthClientInformationFull.model_validate(info) if info else None

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        assert client_info.client_id is not None  # the SDK's registration handler always assigns one
        info = client_info.model_dump(mode="json", exclude_none=True)
        check_registration(info)
        await self.store.save_client(client_info.client_id, info, unused_for=self.lifetimes.unused_client)

    # Authorization: off to Square, back through oauth/callback.py
    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        if params.resource and not same_resource(params.resource, self.settings.resource_url):
            raise AuthorizeError("invalid_request", f"this server issues tokens only for {self.settings.resource_url}")
        if params.state and len(params.state) > MAX_STATE:
            raise AuthorizeError("invalid_request", f"state over {MAX_STATE} characters")
        # No scope asked: what the client registered for (RFC 7591), not everything this server offers.
        asked = params.scopes or (client.scope.split() if client.scope else self.offered)
        scopes = [scope for scope in self.offered if scope in asked]
        if not scopes:
            raise AuthorizeError("invalid_scope", f"ask for {' or '.join(self.offered)}")
        assert client.client_id is not None
        if await self.store.live("pending", client.client_id) >= MAX_SIGN_INS_IN_PROGRESS:
            raise AuthorizeError("temporarily_unavailable", "too many sign-ins in progress for this client")
        state = secrets.token_urlsafe(32)
        verifier = pkce_verifier() if self.square.uses_pkce else None
        pending = {
            "redirect_uri": str(params.redirect_uri),
            "redirect_uri_provided_explicitly": params.redirect_uri_provided_explicitly,
            "code_challenge": params.code_challenge,
            "state": params.state,
            "scopes": scopes,
            # No resource asked: the token is still this server's (the audience is ours to decide).
            "resource": self.settings.resource_url,
            "verifier": verifier,
        }
        await self.store.put(
            "pending", state, client_id=client.client_id, data=pending, lifetime=self.lifetimes.sign_in, grant_id=None
        )
        # Our own consent page first (oauth/consent.py): the person sees which client asks and where the answer goes
        # before Square, whose page names only this server's Square application (the confused-deputy defence).
        return f"{self.settings.public_url}{CONSENT_PATH}?{urlencode({'request': state})}"

    async def issue_code(self, pending: Item, grant_id: str, scopes: list[str]) -> str:
        """The authorization code for a sign-in Square confirmed (called by the callback)."""
        code = secrets.token_urlsafe(32)
        data = {key: pending.data[key] for key in ("redirect_uri", "redirect_uri_provided_explicitly",
                                                    "code_challenge", "resource")} | {"scopes": scopes}  # fmt: skip
        await self.store.put(
            "code", code, client_id=pending.client_id, data=data, lifetime=self.lifetimes.code, grant_id=grant_id
        )
        return code

    # Codes
    async def load_authorization_code(self, client: OAuthClientInformationFull, authorization_code: str) -> Code | None:
        item = await self.store.find("code", authorization_code)  # a used code presented again revokes its sign-in
        if item is None or item.client_id != client.client_id or item.grant_id is None:
            return None
        return Code(
            code=authorization_code,
            scopes=item.data["scopes"],
            expires_at=float(item.expires_at),
            client_id=item.client_id,
            code_challenge=item.data["code_challenge"],
            redirect_uri=AnyUrl(item.data["redirect_uri"]),
            redirect_uri_provided_explicitly=item.data["redirect_uri_provided_explicitly"],
            resource=item.data["resource"],
            grant_id=item.grant_id,
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: Code
    ) -> OAuthToken:
        if await self.store.use("code", authorization_code.code) is None:  # another exchange got there first
            raise TokenError("invalid_grant", "authorization code was already used")
        return await self._issue(authorization_code.grant_id, authorization_code.client_id,
                                 authorization_code.scopes, authorization_code.resource)  # fmt: skip

    # Refresh tokens: single use, rotating
    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> Refresh | None:
        item = await self.store.find("refresh", refresh_token)  # a rotated-out one presented again: revoke the family
        if item is None or item.client_id != client.client_id or item.grant_id is None:
            return None
        return Refresh(token=refresh_token, client_id=item.client_id, scopes=item.data["scopes"],
                       expires_at=item.expires_at, resource=item.data["resource"], grant_id=item.grant_id)  # fmt: skip

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: Refresh, scopes: list[str]
    ) -> OAuthToken:
        if await self.store.use("refresh", refresh_token.token) is None:
            raise TokenError("invalid_grant", "refresh token was already used")
        return await self._issue(
            refresh_token.grant_id, refresh_token.client_id, scopes or refresh_token.scopes, refresh_token.resource
        )

    async def _issue(self, grant_id: str, client_id: str, scopes: list[str], resource: str | None) -> OAuthToken:
        grant = await self.store.grant(grant_id)
        if grant is None:
            raise TokenError("invalid_grant", "this sign-in was revoked")
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        data: dict[str, Any] = {"scopes": scopes, "resource": resource, "merchant_id": grant.merchant_id}
        lifetimes = self.lifetimes
        await self.store.put(
            "access", access, client_id=client_id, data=data, lifetime=lifetimes.access, grant_id=grant_id
        )
        await self.store.put(
            "refresh", refresh, client_id=client_id, data=data, lifetime=lifetimes.refresh, grant_id=grant_id
        )
        return OAuthToken(
            access_token=access,
            token_type="Bearer",  # noqa: S106 - a token type, not a password
            expires_in=lifetimes.access,
            scope=" ".join(scopes),
            refresh_token=refresh,
        )

    # Access tokens: checked on every request to /mcp
    async def load_access_token(self, token: str) -> Access | None:
        item = await self.store.get("access", token)
        if item is None or item.grant_id is None:
            return None
        return Access(token=token, client_id=item.client_id, scopes=item.data["scopes"], expires_at=item.expires_at,
                      resource=item.data["resource"], subject=item.data["merchant_id"], grant_id=item.grant_id)  # fmt: skip

    async def revoke_token(self, token: Access | Refresh) -> None:
        """RFC 7009: either token ends the whole sign-in; optionally the person's Square token too."""
        grant = await self.store.grant(token.grant_id)
        await self.store.revoke_grant(token.grant_id)
        if grant is not None and self.settings.revoke_at_square:
            # Ours is revoked whatever Square says; Square's token also ends when it expires.
            with contextlib.suppress(SquareOAuthError):
                await self.square.revoke(grant.square["access_token"])
