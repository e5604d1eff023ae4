"""Customer groups (Square's Customer Groups API, the part needed to make and find groups)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from square_customers_mcp.sandbox import cursors
from square_customers_mcp.sandbox.errors import JSON, SquareError, group_not_found
from square_customers_mcp.sandbox.idempotency import remember, replay, request_hash
from square_customers_mcp.sandbox.ids import new_id, now
from square_customers_mcp.sandbox.validate import (
    expect_object,
    opt_object,
    opt_str,
    reject_unknown,
)

MAX_LIMIT = 50
NAME_MAX = 255
_READ_ONLY = ("id", "created_at", "updated_at")  # accepted (a client may send back what it read) and ignored


def group_json(row: sqlite3.Row) -> JSON:
    return {"id": row["id"], "name": row["name"], "created_at": row["created_at"], "updated_at": row["updated_at"]}


def read_group(body: JSON) -> tuple[str, str | None]:
    """(name, idempotency_key) from `{"group": {"name": ...}, "idempotency_key": ...}`."""
    reject_unknown(body, ("group", "idempotency_key"))
    group = opt_object(body, "group")
    if group is None:
        raise SquareError("MISSING_REQUIRED_PARAMETER", "Field `group` is required.", field="group")
    reject_unknown(group, ("name", *_READ_ONLY), "group")
    name = opt_str(group, "name", "group")
    if not isinstance(name, str) or not name.strip():
        raise SquareError("MISSING_REQUIRED_PARAMETER", "Field `group.name` is required.", field="group.name")
    if len(name) > NAME_MAX:
        raise SquareError(
            "VALUE_TOO_LONG", f"`group.name` must be at most {NAME_MAX} characters long.", field="group.name"
        )
    key = opt_str(body, "idempotency_key")
    return name, key if isinstance(key, str) and key else None


def list_groups(conn: sqlite3.Connection, merchant_id: str, params: Mapping[str, str]) -> JSON:
    return cursors.page_by_id(
        conn, "customer_groups_defined", "groups", params, MAX_LIMIT, group_json, merchant_id=merchant_id
    )


def require_group(conn: sqlite3.Connection, merchant_id: str, group_id: str) -> sqlite3.Row:
    """The merchant's group; another merchant's group id is as unknown as one that never existed."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM customer_groups_defined WHERE id = ? AND merchant_id = ?", (group_id, merchant_id)
    ).fetchone()
    if row is None:
        raise group_not_found(group_id)
    return row


def create_group(conn: sqlite3.Connection, merchant_id: str, name: str, idempotency_key: str | None) -> JSON:
    digest = request_hash({"name": name})
    if idempotency_key:  # stored as `group:<key>`, reported as sent
        earlier = replay(conn, merchant_id, "group", idempotency_key, digest, "idempotency_key")
        if earlier is not None:
            return earlier
    group_id, stamp = new_id(), now()
    conn.execute(
        "INSERT INTO customer_groups_defined (id, merchant_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        (group_id, merchant_id, name, stamp, stamp),
    )
    response = {"group": group_json(require_group(conn, merchant_id, group_id))}
    if idempotency_key:
        remember(conn, merchant_id, "group", idempotency_key, digest, response)
    return response


def update_group(conn: sqlite3.Connection, merchant_id: str, group_id: str, name: str) -> JSON:
    require_group(conn, merchant_id, group_id)
    conn.execute("UPDATE customer_groups_defined SET name = ?, updated_at = ? WHERE id = ?", (name, now(), group_id))
    return {"group": group_json(require_group(conn, merchant_id, group_id))}


def delete_group(conn: sqlite3.Connection, merchant_id: str, group_id: str) -> None:
    """Delete the group; its members lose the membership, which (like any membership change) bumps their version."""
    require_group(conn, merchant_id, group_id)
    conn.execute(
        "UPDATE customers SET version = version + 1, updated_at = ? "
        "WHERE id IN (SELECT customer_id FROM customer_groups WHERE group_id = ?)",
        (now(), group_id),
    )
    conn.execute("DELETE FROM customer_groups WHERE group_id = ?", (group_id,))
    conn.execute("DELETE FROM customer_groups_defined WHERE id = ?", (group_id,))


def read_update(body: JSON) -> str:
    expect_object(body, None)
    reject_unknown(body, ("group",))
    name, _ = read_group(body)
    return name
