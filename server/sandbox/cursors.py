"""Opaque keyset cursors.

A cursor holds the sort key and id of the last customer on a page, plus a fingerprint of the query (and the
merchant) that made it. The next page starts strictly after that (key, id) pair, so customers added or deleted
between pages never shift the walk: each customer present throughout is returned exactly once. A cursor
presented with a different query (other filter, sort field or order) or by another merchant fails with
INVALID_CURSOR instead of silently returning a page of something else.

The sort key is a customer's name, email or phone, and ListCustomers carries the cursor in its URL, where
access logs keep it. So a cursor is sealed: a Fernet token (AES-128-CBC and HMAC-SHA256, from the `cryptography`
library) under a random key each database makes once and keeps in its `sandbox_secrets` table. It reads as
random bytes, anything altered fails its authentication, and its plaintext is padded to a multiple of
`_BUCKET` bytes so that even its length says next to nothing about the key inside. The token's issue time (in
the clear, as Fernet has it) limits its life to `LIFETIME`. Nothing is stored per cursor, so a read never
writes, and cursors keep working across restarts and processes sharing the database file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from square_customers_mcp.sandbox.errors import JSON, SquareError
from square_customers_mcp.sandbox.validate import check_limit, query_int

# Square documents no cursor lifetime, only that "a page of retrieved records has a limited lifespan".
LIFETIME = 24 * 3600.0  # seconds
_KEY_NAME = "cursor_key"
_BUCKET = 128  # plaintext bytes are padded to a multiple of this
_MAX_CURSOR = 4096  # characters: far longer than any cursor made here; longer is not ours

# The current time in seconds; tests replace it to age a cursor.
clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class Position:
    key: str
    id: str


def fingerprint(query: Any) -> str:
    canonical = json.dumps(query, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def ensure_key(conn: sqlite3.Connection) -> None:
    """Give the database its cursor key if it has none (on the writer, when the store opens)."""
    conn.execute(
        "INSERT OR IGNORE INTO sandbox_secrets (name, value) VALUES (?, ?)", (_KEY_NAME, Fernet.generate_key())
    )


def _sealer(conn: sqlite3.Connection) -> Fernet:
    row = conn.execute("SELECT value FROM sandbox_secrets WHERE name = ?", (_KEY_NAME,)).fetchone()
    if row is None:
        raise RuntimeError("the sandbox database has no cursor key (it was not opened through Store)")
    return _fernet(bytes(row[0]))


@lru_cache(maxsize=16)
def _fernet(key: bytes) -> Fernet:
    return Fernet(key)


def encode(conn: sqlite3.Connection, position: Position, query_fingerprint: str) -> str:
    payload = json.dumps([position.key, position.id, query_fingerprint], separators=(",", ":")).encode()
    padded = payload + b" " * (-len(payload) % _BUCKET)  # JSON ignores trailing blanks
    token = _sealer(conn).encrypt_at_time(padded, int(clock()))
    return token.decode().rstrip("=")


def _invalid(field: str, why: str = "The cursor is not valid.") -> SquareError:
    return SquareError("INVALID_CURSOR", why, field=field)


def decode(conn: sqlite3.Connection, cursor: str, query_fingerprint: str, field: str = "cursor") -> Position:
    if len(cursor) > _MAX_CURSOR or not cursor.isascii():
        raise _invalid(field)
    token = (cursor + "=" * (-len(cursor) % 4)).encode()
    sealer = _sealer(conn)
    try:
        issued = sealer.extract_timestamp(token)  # checks the token's authenticity first
        key, last_id, seen = json.loads(sealer.decrypt(token))
        valid = isinstance(key, str) and isinstance(last_id, str) and isinstance(seen, str)
    except (InvalidToken, ValueError, TypeError):
        valid = False
    if not valid:
        raise _invalid(field)
    if seen != query_fingerprint:
        raise _invalid(field, "The cursor belongs to a different query: repeat the original query with its cursor.")
    if not 0 <= clock() - issued <= LIFETIME:
        raise _invalid(field, "The cursor has expired: start again from the first page.")
    return Position(key, last_id)


def page_by_id(
    conn: sqlite3.Connection,
    table: str,
    key: str,
    params: Mapping[str, str],
    max_limit: int,
    to_json: Callable[[sqlite3.Row], JSON],
    *,
    merchant_id: str,
) -> JSON:
    """One page of a small named list (groups, segments) of one merchant in id order, `{key: [...], "cursor": ...}`
    or `{}`. Keyset paging on the id keeps a cursor valid while rows come and go. `table` is ours, never the
    caller's. A cursor works only for the merchant it was made for."""
    mark = fingerprint([key, merchant_id])
    limit = check_limit(query_int(params, "limit"), "limit", max_limit, max_limit)
    sql, args = f"SELECT * FROM {table} WHERE merchant_id = ?", [merchant_id]  # noqa: S608 - a fixed table name
    if params.get("cursor"):
        sql += " AND id > ?"
        args.append(decode(conn, params["cursor"], mark).id)
    rows = conn.execute(sql + " ORDER BY id LIMIT ?", [*args, limit + 1]).fetchall()
    result: JSON = {}
    if rows:
        result[key] = [to_json(row) for row in rows[:limit]]
        if len(rows) > limit:
            result["cursor"] = encode(conn, Position("", rows[limit - 1]["id"]), mark)
    return result
