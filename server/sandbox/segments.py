"""Customer segments (Square's Customer Segments API): read-only, built-in smart groups.

Square computes segment membership itself and offers no call to change it, so the sandbox has no write
routes: the definitions are seeded when a store opens and memberships when `seed=N` fills a store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping

from square_customers_mcp.sandbox import cursors
from square_customers_mcp.sandbox.errors import JSON, SquareError, segment_not_found

MAX_LIMIT = 50


def segment_json(row: sqlite3.Row) -> JSON:
    return {"id": row["id"], "name": row["name"], "created_at": row["created_at"], "updated_at": row["updated_at"]}


def list_segments(conn: sqlite3.Connection, merchant_id: str, params: Mapping[str, str]) -> JSON:
    return cursors.page_by_id(
        conn, "customer_segments_defined", "segments", params, MAX_LIMIT, segment_json, merchant_id=merchant_id
    )


def require_segment(conn: sqlite3.Connection, merchant_id: str, segment_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM customer_segments_defined WHERE id = ? AND merchant_id = ?", (segment_id, merchant_id)
    ).fetchone()
    if row is None:
        raise segment_not_found(segment_id)
    return row


def require_known(conn: sqlite3.Connection, merchant_id: str, fields: Mapping[str, str]) -> None:
    """Square stops a search at a segment id it doesn't know (400, naming it); `fields` maps id -> filter path."""
    ids = list(fields)
    marks = ", ".join("?" for _ in ids)
    sql = f"SELECT id FROM customer_segments_defined WHERE merchant_id = ? AND id IN ({marks})"  # noqa: S608
    known = {row[0] for row in conn.execute(sql, [merchant_id, *ids])}
    for segment_id, field in fields.items():
        if segment_id not in known:
            raise SquareError("BAD_REQUEST", f"Customer segment with ID `{segment_id}` not found.", field=field)


def add_members(conn: sqlite3.Connection, pairs: Iterable[tuple[str, str]]) -> None:
    """Put (customer_id, segment_id) pairs into segments. Never touches a customer's `version`, as on Square."""
    conn.executemany("INSERT OR IGNORE INTO customer_segments (customer_id, segment_id) VALUES (?, ?)", pairs)
