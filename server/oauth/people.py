"""Who an MCP request acts for in OAuth mode, which tools their Square permissions allow, and their Square token,
refreshed before it expires (Square: access tokens last 30 days; refresh at least weekly)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from square_customers_mcp.oauth.provider import Access, SquareSignIn
from square_customers_mcp.oauth.square_oauth import SquareOAuthError, epoch
from square_customers_mcp.state.store import Grant

log = logging.getLogger("square_customers_mcp.oauth")
REFRESH_EVERY = 7 * 86400


class SignInEnded(Exception):
    """The person's Square authorization is gone (revoked here or at Square); they must sign in again."""


@dataclass(frozen=True)
class Person:
    grant_id: str
    scopes: frozenset[str]


def person_of(request: Any) -> Person | None:
    """The signed-in person of an HTTP request the mcp SDK's bearer middleware authenticated."""
    user = request.scope.get("user") if request is not None else None
    token = getattr(user, "access_token", None)
    if not isinstance(token, Access):
        return None
    return Person(token.grant_id, frozenset(token.scopes))


def refresh_due(grant: Grant, now: int) -> bool:
    """Weekly, or at half the token's life when that is shorter (short-lived tokens, tests)."""
    expires_at = grant.square.get("expires_at")
    life = (int(expires_at) - grant.square_refreshed_at) if expires_at else 2 * REFRESH_EVERY
    return bool(grant.square.get("refresh_token")) and now >= grant.square_refreshed_at + min(REFRESH_EVERY, life // 2)


class SquareTokens:
    def __init__(self, sign_in: SquareSignIn) -> None:
        self._sign_in = sign_in

    async def token(self, person: Person) -> str:
        store = self._sign_in.store
        grant = await store.grant(person.grant_id)
        if grant is None:
            raise SignInEnded("this sign-in was revoked")
        if not refresh_due(grant, store.now()):
            return str(grant.square["access_token"])
        if not await store.claim_square_refresh(grant.grant_id, grant.square_refreshed_at):
            # Another replica is refreshing (or just did): what is stored now is current, or still valid.
            grant = await store.grant(person.grant_id)
            if grant is None:
                raise SignInEnded("this sign-in was revoked")
            return str(grant.square["access_token"])
        return await self._refresh(grant)

    async def _refresh(self, grant: Grant) -> str:
        store = self._sign_in.store
        try:
            renewed = await self._sign_in.square.refresh(str(grant.square["refresh_token"]))
        except SquareOAuthError as error:
            if error.denied:  # Square ended the authorization: so does this server
                await store.revoke_grant(grant.grant_id)
                raise SignInEnded("Square no longer accepts this sign-in") from None
            expires_at = grant.square.get("expires_at")
            if expires_at and int(expires_at) <= store.now():
                raise
            log.warning("Square token refresh failed, the current token stays in use: %s", error)
            return str(grant.square["access_token"])
        square = {
            "access_token": renewed["access_token"],
            # Square's code flow returns the same refresh token; PKCE returns a new one each time.
            "refresh_token": renewed.get("refresh_token") or grant.square["refresh_token"],
            "expires_at": epoch(renewed.get("expires_at")),
        }
        await store.save_square(grant.grant_id, square)
        return str(square["access_token"])
