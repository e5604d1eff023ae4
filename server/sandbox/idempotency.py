"""Idempotency records: a key used again with the same request replays the first answer.

Keys are stored per merchant and per kind of thing made (`customer:k1`, `group:k1`), so a customer and a group
made with the same key don't collide; errors name the key as the caller sent it (`k1`).

Square publishes no retention period for idempotency keys (its developer forum: "We do not publish a retention
period"), so the local API keeps a replay for `RETENTION` (24 hours), the window most APIs that document one
use. An older key counts as new. Old replays are deleted as new ones are written, at most `PRUNE_BATCH` per
write, through an index on their age, so pruning never scans the table and the table holds about one day of
keyed creates. (Card-nonce records, which tie a nonce to the card it made, are not replays and are kept.)
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from square_customers_mcp.sandbox.errors import JSON, SquareError
from square_customers_mcp.sandbox.ids import format_time

RETENTION = timedelta(hours=24)
PRUNE_BATCH = 10  # old replays deleted per new one: more than one, so the table never outgrows the window


def _utc_now() -> datetime:
    return datetime.now(UTC)


# The current time; tests replace it to age a replay.
clock: Callable[[], datetime] = _utc_now


def request_hash(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(
    conn: sqlite3.Connection, merchant_id: str, namespace: str, key: str, digest: str, field: str
) -> JSON | None:
    """The stored response for an idempotency key used before with the same request; an error if not the same.
    Keys are per merchant: two merchants using the same key never see each other's answers. A replay older than
    RETENTION is forgotten here (deleted), so the key makes something new."""
    stored_key = f"{namespace}:{key}"
    row = conn.execute(
        "SELECT request_hash, response, created_at FROM idempotency WHERE merchant_id = ? AND key = ?",
        (merchant_id, stored_key),
    ).fetchone()
    if row is None:
        return None
    if row["created_at"] < format_time(clock() - RETENTION):
        conn.execute("DELETE FROM idempotency WHERE merchant_id = ? AND key = ?", (merchant_id, stored_key))
        return None
    if row["request_hash"] != digest:
        raise SquareError(
            "IDEMPOTENCY_KEY_REUSED",
            f"The idempotency key `{key}` was already used with a different request.",
            field=field,
        )
    stored: JSON = json.loads(row["response"])
    return stored


def remember(conn: sqlite3.Connection, merchant_id: str, namespace: str, key: str, digest: str, response: JSON) -> None:
    """Keep `response` for replays of `key`, and prune a few replays that are past RETENTION."""
    moment = clock()
    prune(conn, moment)
    conn.execute(
        "INSERT INTO idempotency (merchant_id, key, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)",
        (merchant_id, f"{namespace}:{key}", digest, json.dumps(response, separators=(",", ":")), format_time(moment)),
    )


def prune(conn: sqlite3.Connection, moment: datetime, batch: int = PRUNE_BATCH) -> int:
    """Delete up to `batch` of the oldest replays (of any merchant) made before `moment - RETENTION`; how many."""
    deleted = conn.execute(
        "DELETE FROM idempotency WHERE rowid IN (SELECT rowid FROM idempotency INDEXED BY idempotency_replays_by_age "
        "WHERE request_hash != '' AND created_at < ? ORDER BY created_at LIMIT ?)",
        (format_time(moment - RETENTION), batch),
    )
    return deleted.rowcount
