"""How a customer is stored: the row columns, the derived search columns, and the Square JSON it renders to."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from typing import Any

from square_customers_mcp.sandbox.customer_fields import TEXT_FIELDS, phone_digits, to_e164
from square_customers_mcp.sandbox.errors import JSON

# Columns written from a customer's fields; the derived ones exist only to make search indexable.
COLUMNS = (
    "id",
    *TEXT_FIELDS,
    "address",
    "tax_ids",
    "creation_source",
    "email_unsubscribed",
    "version",
    "created_at",
    "updated_at",
    "sort_name",
    "email_lower",
    "email_fuzzy",
    "phone_e164",
    "phone_digits",
    "reference_lower",
    "reference_fuzzy",
)
# Only constant column names and `?` placeholders are formatted into SQL here; every value is a bound parameter.
INSERT_SQL = f"INSERT INTO customers ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"  # noqa: S608
UPDATE_SQL = f"UPDATE customers SET {', '.join(f'{c} = ?' for c in COLUMNS[1:])} WHERE id = ?"  # noqa: S608

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
JSON_ORDER = (
    "id",
    "created_at",
    "updated_at",
    "given_name",
    "family_name",
    "nickname",
    "company_name",
    "email_address",
    "address",
    "phone_number",
    "birthday",
    "reference_id",
    "note",
)


def fuzzy_text(value: str) -> str:
    """Lower-cased tokens separated by single spaces, punctuation removed, as Square tokenises for fuzzy search.

    A query token (which holds no space) is then a substring of some stored token exactly when it is a
    substring of this text, so one `instr()` per query token implements "every token matches somewhere".
    """
    return " ".join(token for token in _NON_ALNUM.split(value.lower()) if token)


def fuzzy_tokens(query: str) -> list[str]:
    return [token for token in _NON_ALNUM.split(query.lower()) if token]


def sort_name(fields: dict[str, Any]) -> str:
    """The DEFAULT sort key: "given family", else company, else email, else phone; case-folded."""
    name = " ".join(part for part in (fields.get("given_name"), fields.get("family_name")) if part)
    for candidate in (name, fields.get("company_name"), fields.get("email_address"), fields.get("phone_number")):
        if candidate:
            return str(candidate).casefold()
    return ""


def row_values(customer: dict[str, Any]) -> tuple[Any, ...]:
    """The INSERT parameters for `customer` (its fields plus id, version, timestamps, creation_source)."""
    email = customer.get("email_address")
    phone = customer.get("phone_number")
    reference = customer.get("reference_id")
    values: list[Any] = [customer["id"]]
    values += [customer.get(name) for name in TEXT_FIELDS]
    values += [_dump(customer.get("address")), _dump(customer.get("tax_ids"))]
    values += [
        customer["creation_source"],
        int(customer.get("email_unsubscribed", False)),
        customer["version"],
        customer["created_at"],
        customer["updated_at"],
        sort_name(customer),
        email.lower() if email else None,
        fuzzy_text(email) if email else None,
        to_e164(phone) if phone else None,
        phone_digits(phone) if phone else None,
        reference.lower() if reference else None,
        fuzzy_text(reference) if reference else None,
    ]
    return tuple(values)


def update_values(customer: dict[str, Any]) -> tuple[Any, ...]:
    values = row_values(customer)
    return (*values[1:], values[0])


def _dump(value: dict[str, Any] | None) -> str | None:
    return json.dumps(value, separators=(",", ":"), sort_keys=True) if value else None


def row_to_customer(row: sqlite3.Row) -> dict[str, Any]:
    """The stored customer as a plain dict of set fields (the inverse of `row_values`)."""
    customer: dict[str, Any] = {
        "id": row["id"],
        "creation_source": row["creation_source"],
        "email_unsubscribed": bool(row["email_unsubscribed"]),
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    for name in TEXT_FIELDS:
        if row[name] is not None:
            customer[name] = row[name]
    for name in ("address", "tax_ids"):
        if row[name]:
            customer[name] = json.loads(row[name])
    return customer


def customer_json(customer: dict[str, Any], group_ids: Sequence[str] = (), segment_ids: Sequence[str] = ()) -> JSON:
    """Square's Customer object: set fields only, never nulls; `preferences` always present."""
    out: JSON = {key: customer[key] for key in JSON_ORDER if key in customer}
    out["preferences"] = {"email_unsubscribed": bool(customer.get("email_unsubscribed", False))}
    out["creation_source"] = customer["creation_source"]
    if group_ids:
        out["group_ids"] = list(group_ids)
    if segment_ids:
        out["segment_ids"] = list(segment_ids)
    if "tax_ids" in customer:
        out["tax_ids"] = customer["tax_ids"]
    out["version"] = customer["version"]
    return out


# The two membership tables: (table, member column). Constant names only, formatted into SQL below.
_GROUPS = ("customer_groups", "group_id")
_SEGMENTS = ("customer_segments", "segment_id")


def _members_for(conn: sqlite3.Connection, kind: tuple[str, str], customer_ids: Sequence[str]) -> dict[str, list[str]]:
    """Memberships (group or segment ids, sorted) of several customers in one query per 500."""
    table, column = kind
    found: dict[str, list[str]] = {customer_id: [] for customer_id in customer_ids}
    for start in range(0, len(customer_ids), 500):  # stay far below SQLite's bound-parameter limit
        chunk = list(customer_ids[start : start + 500])
        marks = ", ".join("?" for _ in chunk)
        rows = conn.execute(
            f"SELECT customer_id, {column} FROM {table} WHERE customer_id IN ({marks}) "  # noqa: S608
            f"ORDER BY customer_id, {column}",
            chunk,
        )
        for customer_id, member_of in rows:
            found[customer_id].append(member_of)
    return found


def render(conn: sqlite3.Connection, rows: Sequence[sqlite3.Row]) -> list[JSON]:
    ids = [row["id"] for row in rows]
    groups, segments = _members_for(conn, _GROUPS, ids), _members_for(conn, _SEGMENTS, ids)
    return [customer_json(row_to_customer(row), groups[row["id"]], segments[row["id"]]) for row in rows]


def render_one(conn: sqlite3.Connection, customer: dict[str, Any]) -> JSON:
    """One stored customer as Square's JSON, with its group and segment ids."""
    ids = [customer["id"]]
    return customer_json(customer, _members_for(conn, _GROUPS, ids)[ids[0]], _members_for(conn, _SEGMENTS, ids)[ids[0]])


def load(conn: sqlite3.Connection, customer_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
    return None if row is None else row_to_customer(row)
