"""Codes and tokens of the emulated Square OAuth, kept in SQLite as SHA-256 hashes only.

Square's rules, as its OAuth docs and the ObtainToken reference state them: codes are single-use and short-lived
(5 minutes here); access tokens last 30 days (24 hours when `short_lived`); a code-flow refresh token never
expires and may be used again and again (a refresh returns the same one); a PKCE refresh token is single-use,
expires after 90 days and each refresh returns a new one. Revoking ends every token of the app for that merchant,
or with `revoke_only_access_token` just the one access token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from square_customers_mcp.sandbox.errors import JSON
from square_customers_mcp.sandbox.ids import new_id, now
from square_customers_mcp.sandbox.merchants import Principal

CODE_LIFETIME = 5 * 60.0
ACCESS_LIFETIME = 30 * 24 * 3600.0
SHORT_LIVED = 24 * 3600.0
PKCE_REFRESH_LIFETIME = 90 * 24 * 3600.0
# Prefixes mark what the local API issued, so only these tokens cost a database look-up on each request.
ACCESS_PREFIX = "EAAAlocal"
REFRESH_PREFIX = "EQAAlocal"
CODE_PREFIX = "sq0cgb-local"


class OAuthError(Exception):
    """An ObtainToken / RevokeToken failure, answered in the `{"message", "type"}` form Square's OAuth endpoints
    use (not the `errors` array of the v2 endpoints)."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message

    def body(self) -> JSON:
        return {"message": self.message, "type": self.kind}


def not_authorized(message: str) -> OAuthError:
    return OAuthError(401, "service.not_authorized", message)


def bad_request(message: str) -> OAuthError:
    return OAuthError(400, "bad_request", message)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def rfc3339(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def s256(verifier: str) -> str:
    """PKCE S256: base64url(SHA-256(verifier)) without padding (RFC 7636)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii", "replace")).digest()).decode().rstrip("=")


def same(given: str | None, expected: str | None) -> bool:
    return given is not None and expected is not None and hmac.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True)
class Grant:
    id: str
    client_id: str
    merchant_id: str
    scopes: tuple[str, ...]
    pkce: bool


def issue_code(
    conn: sqlite3.Connection,
    client_id: str,
    merchant_id: str,
    scopes: list[str],
    redirect_uri: str | None,
    code_challenge: str | None,
) -> str:
    code = CODE_PREFIX + secrets.token_urlsafe(24)
    conn.execute(
        "INSERT INTO oauth_codes (code_hash, client_id, merchant_id, scopes, redirect_uri, code_challenge, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (digest(code), client_id, merchant_id, json.dumps(scopes), redirect_uri, code_challenge,
         time.time() + CODE_LIFETIME),
    )  # fmt: skip
    return code


def redeem_code(
    conn: sqlite3.Connection,
    client_id: str,
    code: str,
    redirect_uri: str | None,
    secret_ok: bool,
    verifier: str | None,
) -> Grant:
    """The grant a code stands for. A code used twice also ends what the first use issued (RFC 6749 4.1.2)."""
    row = conn.execute("SELECT * FROM oauth_codes WHERE code_hash = ?", (digest(code),)).fetchone()
    if row is None or row["client_id"] != client_id:
        raise not_authorized("Authorization code not found for this application.")
    if row["grant_id"] is not None:
        conn.execute("UPDATE oauth_grants SET revoked = 1 WHERE id = ?", (row["grant_id"],))
        raise not_authorized("Authorization code is already claimed.")
    if row["expires_at"] < time.time():
        raise not_authorized("Authorization code is expired.")
    if row["redirect_uri"] is not None and redirect_uri != row["redirect_uri"]:
        raise bad_request("`redirect_uri` must be the one the authorization request carried.")
    pkce = row["code_challenge"] is not None
    if pkce:
        if not verifier:
            raise bad_request("`code_verifier` is required: the authorization request carried a code_challenge.")
        if not same(s256(verifier), row["code_challenge"]):
            raise not_authorized("The code_verifier does not match the code_challenge.")
    elif not secret_ok:
        raise not_authorized("Not Authorized: the client_secret is missing or wrong.")
    grant = Grant(new_id(), client_id, row["merchant_id"], tuple(json.loads(row["scopes"])), pkce)
    conn.execute(
        "INSERT INTO oauth_grants (id, client_id, merchant_id, scopes, pkce, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (grant.id, client_id, grant.merchant_id, json.dumps(grant.scopes), int(pkce), now()),
    )
    conn.execute("UPDATE oauth_codes SET grant_id = ? WHERE code_hash = ?", (grant.id, digest(code)))
    return grant


def issue_tokens(
    conn: sqlite3.Connection,
    grant: Grant,
    scopes: tuple[str, ...],
    lifetime: float,
    short_lived: bool,
    refresh_token: str | None = None,
) -> JSON:
    """An access token (and, unless `refresh_token` is given to send back, a new refresh token) for `grant`."""
    issued = time.time()
    access = ACCESS_PREFIX + secrets.token_urlsafe(32)
    expires = issued + (min(lifetime, SHORT_LIVED) if short_lived else lifetime)
    conn.execute(
        "INSERT INTO oauth_tokens (token_hash, kind, grant_id, scopes, expires_at) VALUES (?, 'access', ?, ?, ?)",
        (digest(access), grant.id, json.dumps(scopes), expires),
    )
    answer: JSON = {
        "access_token": access,
        "token_type": "bearer",
        "expires_at": rfc3339(expires),
        "merchant_id": grant.merchant_id,
    }
    refresh_expires = issued + PKCE_REFRESH_LIFETIME if grant.pkce else None
    if refresh_token is None:
        refresh_token = REFRESH_PREFIX + secrets.token_urlsafe(32)
        conn.execute(
            "INSERT INTO oauth_tokens (token_hash, kind, grant_id, scopes, expires_at) VALUES (?, 'refresh', ?, ?, ?)",
            (digest(refresh_token), grant.id, json.dumps(grant.scopes), refresh_expires),
        )
    answer |= {"refresh_token": refresh_token, "short_lived": short_lived}
    if refresh_expires is not None:
        answer["refresh_token_expires_at"] = rfc3339(refresh_expires)
    return answer


def _grant(row: sqlite3.Row) -> Grant:
    return Grant(row["id"], row["client_id"], row["merchant_id"], tuple(json.loads(row["scopes"])), bool(row["pkce"]))


def use_refresh_token(conn: sqlite3.Connection, client_id: str, token: str, secret_ok: bool) -> Grant:
    """The grant behind a refresh token; a PKCE one is spent by this use (it rotates)."""
    row = conn.execute(
        "SELECT t.used, t.revoked AS token_revoked, t.expires_at, g.* FROM oauth_tokens t "
        "JOIN oauth_grants g ON g.id = t.grant_id WHERE t.token_hash = ? AND t.kind = 'refresh'",
        (digest(token),),
    ).fetchone()
    if row is None or row["client_id"] != client_id:
        raise not_authorized("Refresh token not found for this application.")
    if row["revoked"] or row["token_revoked"]:
        raise not_authorized("The refresh token was revoked.")
    if row["expires_at"] is not None and row["expires_at"] < time.time():
        raise not_authorized("The refresh token is expired.")
    if row["pkce"]:
        if row["used"]:
            raise not_authorized("This PKCE refresh token was already used; use the one the last refresh returned.")
        conn.execute("UPDATE oauth_tokens SET used = 1 WHERE token_hash = ?", (digest(token),))
    elif not secret_ok:
        raise not_authorized("Not Authorized: the client_secret is missing or wrong.")
    return _grant(row)


def access_token_row(conn: sqlite3.Connection, token: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT t.scopes AS token_scopes, t.expires_at, t.revoked AS token_revoked, g.* FROM oauth_tokens t "
        "JOIN oauth_grants g ON g.id = t.grant_id WHERE t.token_hash = ? AND t.kind = 'access'",
        (digest(token),),
    ).fetchone()
    return row


def token_state(row: sqlite3.Row) -> str:
    """'revoked', 'expired' or 'valid'."""
    if row["revoked"] or row["token_revoked"]:
        return "revoked"
    if row["expires_at"] is not None and row["expires_at"] <= time.time():
        return "expired"
    return "valid"


def principal_of(row: sqlite3.Row) -> Principal:
    return Principal(row["merchant_id"], frozenset(json.loads(row["token_scopes"])))


def status_of(row: sqlite3.Row) -> JSON:
    """RetrieveTokenStatusResponse for a valid access token."""
    return {
        "scopes": json.loads(row["token_scopes"]),
        "expires_at": rfc3339(row["expires_at"]),
        "client_id": row["client_id"],
        "merchant_id": row["merchant_id"],
    }


def revoke(
    conn: sqlite3.Connection, client_id: str, access_token: str | None, merchant_id: str | None, only_access: bool
) -> bool:
    """Revoke as RevokeToken does; False when nothing of this app matched."""
    if access_token is not None:
        row = access_token_row(conn, access_token)
        if row is None or row["client_id"] != client_id:
            return False
        if only_access:
            conn.execute("UPDATE oauth_tokens SET revoked = 1 WHERE token_hash = ?", (digest(access_token),))
            return True
        merchant_id = row["merchant_id"]
    cursor = conn.execute(
        "UPDATE oauth_grants SET revoked = 1 WHERE client_id = ? AND merchant_id = ? AND revoked = 0",
        (client_id, merchant_id),
    )
    return access_token is not None or bool(cursor.rowcount)


def narrowed(grant: Grant, requested: Any) -> tuple[str, ...]:
    """Refresh `scopes`: the intersection of those asked for and those the grant holds, as Square documents."""
    if requested is None:
        return grant.scopes
    return tuple(scope for scope in grant.scopes if scope in set(requested))
