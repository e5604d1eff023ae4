"""Customer operations on an open write/read transaction: create, retrieve, update, delete, group membership.

Each function takes the connection the store handed out, so it runs inside one transaction; the store's single
writer makes every read-check-write (idempotency, version checks) atomic.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from square_customers_mcp.sandbox.customer_fields import apply_changes, require_identity
from square_customers_mcp.sandbox.errors import JSON, SquareError, customer_not_found, version_conflict
from square_customers_mcp.sandbox.groups import require_group
from square_customers_mcp.sandbox.idempotency import remember, replay, request_hash
from square_customers_mcp.sandbox.ids import new_id, now
from square_customers_mcp.sandbox.records import (
    COLUMNS,
    UPDATE_SQL,
    customer_json,
    render_one,
    row_to_customer,
    row_values,
    update_values,
)

CREATION_SOURCE = "THIRD_PARTY"
# records.INSERT_SQL plus the owning merchant (constant column names and placeholders only).
INSERT_SQL = f"INSERT INTO customers (merchant_id, {', '.join(COLUMNS)}) VALUES (?, {', '.join('?' for _ in COLUMNS)})"  # noqa: S608


def create(
    conn: sqlite3.Connection, merchant_id: str, fields: dict[str, Any], idempotency_key: str | None = None
) -> JSON:
    """A new customer of `merchant_id` from checked `fields`; with a key, the same key and data replay the first
    answer."""
    digest = request_hash(fields)
    if idempotency_key:  # stored as `customer:<key>`, reported as sent
        earlier = replay(conn, merchant_id, "customer", idempotency_key, digest, "idempotency_key")
        if earlier is not None:
            return earlier
    stamp = now()
    customer = {
        **fields,
        "id": new_id(),
        "creation_source": CREATION_SOURCE,
        "email_unsubscribed": False,
        "version": 0,
        "created_at": stamp,
        "updated_at": stamp,
    }
    conn.execute(INSERT_SQL, (merchant_id, *row_values(customer)))
    rendered = customer_json(customer)
    if idempotency_key:
        remember(conn, merchant_id, "customer", idempotency_key, digest, rendered)
    return rendered


def require(conn: sqlite3.Connection, merchant_id: str, customer_id: str) -> dict[str, Any]:
    """The merchant's customer; another merchant's id is as unknown as an id that never existed."""
    row = conn.execute(
        "SELECT * FROM customers WHERE id = ? AND merchant_id = ?", (customer_id, merchant_id)
    ).fetchone()
    if row is None:
        raise customer_not_found(customer_id)
    return row_to_customer(row)


def retrieve(conn: sqlite3.Connection, merchant_id: str, customer_id: str) -> JSON:
    return render_one(conn, require(conn, merchant_id, customer_id))


def _check_version(customer: dict[str, Any], version: int | None) -> None:
    if version is not None and version != customer["version"]:
        raise version_conflict(customer["id"], version, customer["version"])


def update(
    conn: sqlite3.Connection, merchant_id: str, customer_id: str, changes: dict[str, Any], version: int | None
) -> JSON:
    """A sparse update. Every committed update bumps `version` and `updated_at`, even one that changes nothing."""
    current = require(conn, merchant_id, customer_id)
    _check_version(current, version)
    merged = apply_changes(current, changes)
    require_identity(merged)
    merged["version"] = current["version"] + 1
    merged["updated_at"] = now()
    conn.execute(UPDATE_SQL, update_values(merged))
    return render_one(conn, merged)


def delete(conn: sqlite3.Connection, merchant_id: str, customer_id: str, version: int | None) -> None:
    """Delete the customer with its group and segment memberships and cards on file."""
    _check_version(require(conn, merchant_id, customer_id), version)
    conn.execute("DELETE FROM customers WHERE id = ?", (customer_id,))
    conn.execute("DELETE FROM customer_groups WHERE customer_id = ?", (customer_id,))
    conn.execute("DELETE FROM customer_segments WHERE customer_id = ?", (customer_id,))
    conn.execute("DELETE FROM cards WHERE customer_id = ?", (customer_id,))


def _touch(conn: sqlite3.Connection, customer_id: str) -> None:
    """Group membership is part of the profile: Square bumps the version for every change but segment ones."""
    conn.execute(
        "UPDATE customers SET version = version + 1, updated_at = ? WHERE id = ?",
        (now(), customer_id),
    )


def add_group(conn: sqlite3.Connection, merchant_id: str, customer_id: str, group_id: str) -> None:
    require(conn, merchant_id, customer_id)
    require_group(conn, merchant_id, group_id)
    cursor = conn.execute(
        "INSERT OR IGNORE INTO customer_groups (customer_id, group_id) VALUES (?, ?)", (customer_id, group_id)
    )
    if cursor.rowcount:
        _touch(conn, customer_id)


def remove_group(conn: sqlite3.Connection, merchant_id: str, customer_id: str, group_id: str) -> None:
    require(conn, merchant_id, customer_id)
    require_group(conn, merchant_id, group_id)
    cursor = conn.execute("DELETE FROM customer_groups WHERE customer_id = ? AND group_id = ?", (customer_id, group_id))
    if cursor.rowcount:
        _touch(conn, customer_id)


@contextmanager
def _savepoint(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("SAVEPOINT bulk_entry")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK TO bulk_entry")
        conn.execute("RELEASE bulk_entry")
        raise
    conn.execute("RELEASE bulk_entry")


def each_entry(conn: sqlite3.Connection, keys: list[str], work: Callable[[str], JSON]) -> dict[str, JSON]:
    """Run `work` for every key of a bulk call, isolating failures: one entry's error never undoes another's."""
    responses: dict[str, JSON] = {}
    for key in keys:
        try:
            with _savepoint(conn):
                responses[key] = work(key)
        except SquareError as error:
            responses[key] = {"errors": [error.to_json()]}
    return responses
