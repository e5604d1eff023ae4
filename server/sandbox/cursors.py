"""Opaque keyset cursors.

A cursor holds the sort key and id of the last customer on a page, plus a fingerprint of the query that made
it. The next page starts strictly after that (key, id) pair, so customers added or deleted between pages
never shift the walk: each customer present throughout is returned exactly once. A cursor presented with a
different query (other filter, sort field or order) fails with INVALID_CURSOR instead of silently
returning a page of something else.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from square_customers_mcp.sandbox.errors import JSON, SquareError
from square_customers_mcp.sandbox.validate import check_limit, query_int


@dataclass(frozen=True)
class Position:
    key: str
    id: str


def fingerprint(query: Any) -> str:
    canonical = json.dumps(query, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode(position: Position, query_fingerprint: str) -> str:
    payload = json.dumps([position.key, position.id, query_fingerprint], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode(cursor: str, query_fingerprint: str, field: str = "cursor") -> Position:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key, last_id, seen = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        valid = isinstance(key, str) and isinstance(last_id, str) and isinstance(seen, str)
    except (ValueError, TypeError, UnicodeDecodeError):
        valid = False
    if not valid:
        raise SquareError("INVALID_CURSOR", "The cursor is not valid.", field=field)
    if seen != query_fingerprint:
        raise SquareError(
            "INVALID_CURSOR",
            "The cursor belongs to a different query: repeat the original query with its cursor.",
            field=field,
        )
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
        args.append(decode(params["cursor"], mark).id)
    rows = conn.execute(sql + " ORDER BY id LIMIT ?", [*args, limit + 1]).fetchall()
    result: JSON = {}
    if rows:
        result[key] = [to_json(row) for row in rows[:limit]]
        if len(rows) > limit:
            result["cursor"] = encode(Position("", rows[limit - 1]["id"]), mark)
    return result
