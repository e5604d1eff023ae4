"""What OAuth mode shares between replicas: registered clients, sign-ins in progress, authorization codes, access
and refresh tokens, each person's sealed Square credentials, server secrets and spent confirmation approvals.

Tokens and codes are random and stored only as SHA-256 hashes. Every change is one atomic statement, so two
replicas racing (the same code exchanged twice, the same refresh token used twice, one Square refresh) can't
both win."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from square_customers_mcp.state.database import Database, Migrations
from square_customers_mcp.state.sealing import Sealer

Kind = Literal["pending", "code", "access", "refresh"]
"""pending: a sign-in sent to Square, keyed by the `state` we gave it; the others are what we issue."""

MIGRATIONS: Migrations = [
    [
        "CREATE TABLE mcp_clients (client_id TEXT PRIMARY KEY, info TEXT NOT NULL, created_at BIGINT NOT NULL)",
        # One row per sign-in (a token family): who, which client, which Square scopes, sealed Square tokens.
        "CREATE TABLE mcp_grants (grant_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, merchant_id TEXT NOT NULL, "
        "scopes TEXT NOT NULL, square TEXT NOT NULL, square_refreshed_at BIGINT NOT NULL, "
        "created_at BIGINT NOT NULL, revoked_at BIGINT)",
        "CREATE TABLE mcp_tokens (token_hash TEXT PRIMARY KEY, kind TEXT NOT NULL, client_id TEXT NOT NULL, "
        "grant_id TEXT, data TEXT NOT NULL, expires_at BIGINT NOT NULL, used_at BIGINT)",
        "CREATE INDEX mcp_tokens_grant ON mcp_tokens (grant_id)",
        "CREATE INDEX mcp_tokens_client ON mcp_tokens (client_id, kind)",
        "CREATE INDEX mcp_clients_age ON mcp_clients (created_at)",
        "CREATE INDEX mcp_grants_client ON mcp_grants (client_id)",
        "CREATE INDEX mcp_tokens_expiry ON mcp_tokens (expires_at)",
        "CREATE TABLE mcp_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE mcp_spent (nonce TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)",
        "CREATE INDEX mcp_spent_expiry ON mcp_spent (expires_at)",
    ],
]
PRUNE_BATCH = 50
"""Expired rows deleted with each new token: bounded work per request, and the tables stay about as large as
what is live."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Item:
    kind: Kind
    client_id: str
    grant_id: str | None
    data: dict[str, Any]
    expires_at: int


@dataclass(frozen=True)
class Grant:
    grant_id: str
    client_id: str
    merchant_id: str
    scopes: tuple[str, ...]
    square: dict[str, Any]
    """The person's Square credentials, opened: access_token, refresh_token, expires_at (epoch seconds)."""
    square_refreshed_at: int


class StateStore:
    def __init__(self, db: Database, sealer: Sealer, clock: Callable[[], float] = time.time) -> None:
        self.db, self._sealer, self._clock = db, sealer, clock

    def now(self) -> int:
        return int(self._clock())

    async def migrate(self) -> int:
        return await self.db.migrate(MIGRATIONS)

    async def ping(self) -> None:
        await self.db.fetch("SELECT 1")

    # Registered clients (RFC 7591): their metadata as JSON, a client secret sealed like Square's tokens.
    async def save_client(self, client_id: str, info: dict[str, Any], *, unused_for: int) -> None:
        """Store a new client, and forget up to PRUNE_BATCH that registered over `unused_for` seconds ago and never
        completed a sign-in (registration needs no token, so abandoned ones must not pile up)."""
        now = self.now()
        await self.db.execute(
            "DELETE FROM mcp_clients WHERE client_id IN (SELECT c.client_id FROM mcp_clients c WHERE c.created_at < ? "
            "AND NOT EXISTS (SELECT 1 FROM mcp_grants g WHERE g.client_id = c.client_id) LIMIT ?)",
            now - unused_for, PRUNE_BATCH,
        )  # fmt: skip
        if info.get("client_secret"):
            info = info | {"client_secret": self._sealer.seal({"value": info["client_secret"]})}
        await self.db.execute(
            "INSERT INTO mcp_clients (client_id, info, created_at) VALUES (?, ?, ?)",
            client_id, json.dumps(info, separators=(",", ":")), now,
        )  # fmt: skip

    async def client(self, client_id: str) -> dict[str, Any] | None:
        rows = await self.db.fetch("SELECT info FROM mcp_clients WHERE client_id = ?", client_id)
        if not rows:
            return None
        info: dict[str, Any] = json.loads(rows[0][0])
        if info.get("client_secret"):
            info["client_secret"] = self._sealer.open(info["client_secret"])["value"]
        return info

    async def live(self, kind: Kind, client_id: str) -> int:
        """How many unexpired `kind` items a client has (to bound sign-ins in progress per client)."""
        rows = await self.db.fetch(
            "SELECT count(*) FROM mcp_tokens WHERE kind = ? AND client_id = ? AND expires_at > ?",
            kind, client_id, self.now(),
        )  # fmt: skip
        return int(rows[0][0])

    async def update(self, kind: Kind, token: str, data: dict[str, Any]) -> bool:
        """Replace a live item's data (e.g. bind a sign-in in progress to the browser that consented)."""
        changed = await self.db.execute(
            "UPDATE mcp_tokens SET data = ? WHERE token_hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ?",
            json.dumps(data, separators=(",", ":")), digest(token), kind, self.now(),
        )  # fmt: skip
        return changed > 0

    # Codes, tokens and sign-ins in progress.
    async def put(
        self, kind: Kind, token: str, *, client_id: str, data: dict[str, Any], lifetime: int, grant_id: str | None
    ) -> int:
        """Store `token` (as its hash); when it expires."""
        now = self.now()
        await self._prune(now)
        expires_at = now + lifetime
        await self.db.execute(
            "INSERT INTO mcp_tokens (token_hash, kind, client_id, grant_id, data, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            digest(token), kind, client_id, grant_id, json.dumps(data, separators=(",", ":")), expires_at,
        )  # fmt: skip
        return expires_at

    async def get(self, kind: Kind, token: str) -> Item | None:
        """A live, unused item of a grant that is not revoked."""
        rows = await self.db.fetch(
            "SELECT t.client_id, t.grant_id, t.data, t.expires_at FROM mcp_tokens t "
            "LEFT JOIN mcp_grants g ON g.grant_id = t.grant_id "
            "WHERE t.token_hash = ? AND t.kind = ? AND t.used_at IS NULL AND t.expires_at > ? "
            "AND (t.grant_id IS NULL OR g.revoked_at IS NULL)",
            digest(token), kind, self.now(),
        )  # fmt: skip
        return _item(kind, rows[0]) if rows else None

    async def use(self, kind: Kind, token: str) -> Item | None:
        """Use up a single-use item (a code, a refresh token), atomically: of two replicas racing, one gets it.

        Presenting one that was already used means it leaked (OAuth 2.1 4.3.1, 4.14.2): the whole grant it
        belongs to is revoked, so whoever holds what its first use issued loses it too."""
        now = self.now()
        rows = await self.db.fetch(
            "UPDATE mcp_tokens SET used_at = ? WHERE token_hash = ? AND kind = ? AND used_at IS NULL "
            "AND expires_at > ? RETURNING client_id, grant_id, data, expires_at",
            now, digest(token), kind, now,
        )  # fmt: skip
        if rows:
            item = _item(kind, rows[0])
            if item.grant_id is None or await self.grant(item.grant_id) is not None:
                return item
            return None
        await self._revoke_if_used(kind, token)
        return None

    async def find(self, kind: Kind, token: str) -> Item | None:
        """A live single-use item, left unused (to check it before `use`); like `use`, finding instead one that
        was already used revokes its grant."""
        item = await self.get(kind, token)
        if item is None:
            await self._revoke_if_used(kind, token)
        return item

    async def _revoke_if_used(self, kind: Kind, token: str) -> None:
        replayed = await self.db.fetch(
            "SELECT grant_id FROM mcp_tokens WHERE token_hash = ? AND kind = ? AND used_at IS NOT NULL",
            digest(token), kind,
        )  # fmt: skip
        if replayed and replayed[0][0]:
            await self.revoke_grant(str(replayed[0][0]))

    async def take(self, kind: Kind, token: str) -> Item | None:
        """Remove and return a live item (a sign-in in progress): only its first use finds it."""
        rows = await self.db.fetch(
            "DELETE FROM mcp_tokens WHERE token_hash = ? AND kind = ? AND expires_at > ? "
            "RETURNING client_id, grant_id, data, expires_at",
            digest(token), kind, self.now(),
        )  # fmt: skip
        return _item(kind, rows[0]) if rows else None

    async def _prune(self, now: int) -> None:
        await self.db.execute(
            "DELETE FROM mcp_tokens WHERE token_hash IN "
            "(SELECT token_hash FROM mcp_tokens WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)",
            now, PRUNE_BATCH,
        )  # fmt: skip

    # Grants: one per sign-in at Square.
    async def new_grant(self, client_id: str, merchant_id: str, scopes: list[str], square: dict[str, Any]) -> str:
        grant_id = secrets.token_urlsafe(16)
        now = self.now()
        await self.db.execute(
            "INSERT INTO mcp_grants (grant_id, client_id, merchant_id, scopes, square, square_refreshed_at, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            grant_id, client_id, merchant_id, " ".join(scopes), self._sealer.seal(square), now, now,
        )  # fmt: skip
        return grant_id

    async def grant(self, grant_id: str) -> Grant | None:
        rows = await self.db.fetch(
            "SELECT client_id, merchant_id, scopes, square, square_refreshed_at FROM mcp_grants "
            "WHERE grant_id = ? AND revoked_at IS NULL",
            grant_id,
        )
        if not rows:
            return None
        client_id, merchant_id, scopes, sealed, refreshed_at = rows[0]
        return Grant(
            grant_id, client_id, merchant_id, tuple(scopes.split()), self._sealer.open(sealed), int(refreshed_at)
        )

    async def revoke_grant(self, grant_id: str) -> bool:
        """Ends a sign-in: every code and token of it stops working at once, on every replica."""
        changed = await self.db.execute(
            "UPDATE mcp_grants SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL", self.now(), grant_id
        )
        return changed > 0

    async def claim_square_refresh(self, grant_id: str, seen_refreshed_at: int) -> bool:
        """Whether this replica is the one to refresh the grant's Square token now (a compare-and-set on the
        time of the last refresh): Square's PKCE refresh tokens work once, so two replicas must not both try."""
        changed = await self.db.execute(
            "UPDATE mcp_grants SET square_refreshed_at = ? WHERE grant_id = ? AND square_refreshed_at = ? "
            "AND revoked_at IS NULL",
            self.now(), grant_id, seen_refreshed_at,
        )  # fmt: skip
        return changed > 0

    async def save_square(self, grant_id: str, square: dict[str, Any]) -> None:
        await self.db.execute(
            "UPDATE mcp_grants SET square = ? WHERE grant_id = ?", self._sealer.seal(square), grant_id
        )

    # Server secrets shared by the replicas (e.g. the key that signs confirmation requests).
    async def secret(self, name: str) -> str:
        await self.db.execute(
            "INSERT INTO mcp_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            name, self._sealer.seal({"value": secrets.token_urlsafe(32)}),
        )  # fmt: skip
        rows = await self.db.fetch("SELECT value FROM mcp_secrets WHERE name = ?", name)
        return str(self._sealer.open(rows[0][0])["value"])

    async def spend(self, nonce: str, expires_at: int) -> bool:
        """Whether this is the first time `nonce` is spent (by any replica)."""
        now = self.now()
        await self.db.execute(
            "DELETE FROM mcp_spent WHERE nonce IN (SELECT nonce FROM mcp_spent WHERE expires_at <= ? LIMIT ?)",
            now, PRUNE_BATCH,
        )  # fmt: skip
        changed = await self.db.execute(
            "INSERT INTO mcp_spent (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING", nonce, expires_at
        )
        return changed > 0


def _item(kind: Kind, row: tuple[Any, ...]) -> Item:
    client_id, grant_id, data, expires_at = row
    return Item(kind, client_id, grant_id, json.loads(data), int(expires_at))
