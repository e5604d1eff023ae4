"""Idempotency records: a key used again with the same request replays the first answer."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from square_customers_mcp.sandbox.errors import JSON, SquareError
from square_customers_mcp.sandbox.ids import now


def request_hash(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(conn: sqlite3.Connection, merchant_id: str, key: str, digest: str, field: str) -> JSON | None:
    """The stored response for an idempotency key used before with the same request; an error if not the same.
    Keys are per merchant: two merchants using the same key never see each other's answers."""
    row = conn.execute(
        "SELECT request_hash, response FROM idempotency WHERE merchant_id = ? AND key = ?", (merchant_id, key)
    ).fetchone()
    if row is None:
        return None
    if row["request_hash"] != digest:
        raise SquareError(
            "IDEMPOTENCY_KEY_REUSED",
            f"The idempotency key `{key}` was already used with a different request.",
            field=field,
        )
    stored: JSON = json.loads(row["response"])
    return stored


def remember(conn: sqlite3.Connection, merchant_id: str, key: str, digest: str, response: JSON) -> None:
    conn.execute(
        "INSERT INTO idempotency (merchant_id, key, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)",
        (merchant_id, key, digest, json.dumps(response, separators=(",", ":")), now()),
    )
