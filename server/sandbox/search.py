"""ListCustomers and SearchCustomers: request parsing, SQL building (parameters only) and keyset paging."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from square_customers_mcp.sandbox import cursors, segments
from square_customers_mcp.sandbox.customer_fields import phone_digits
from square_customers_mcp.sandbox.errors import JSON, SquareError
from square_customers_mcp.sandbox.ids import parse_time
from square_customers_mcp.sandbox.records import fuzzy_tokens, render
from square_customers_mcp.sandbox.validate import (
    check_enum,
    check_limit,
    join,
    opt_bool,
    opt_int,
    opt_object,
    opt_str,
    opt_str_list,
    query_bool,
    query_int,
    reject_unknown,
)

SORT_FIELDS = ("DEFAULT", "CREATED_AT")
SORT_ORDERS = ("ASC", "DESC")
CREATION_SOURCES = (
    "OTHER", "APPOINTMENTS", "COUPON", "DELETION_RECOVERY", "DIRECTORY", "EGIFTING", "EMAIL_COLLECTION",
    "FEEDBACK", "IMPORT", "INVOICES", "LOYALTY", "MARKETING", "MERGE", "ONLINE_STORE", "INSTANT_PROFILE",
    "TERMINAL", "THIRD_PARTY", "THIRD_PARTY_IMPORT", "UNMERGE_RECOVERY",
)  # fmt: skip
FILTER_FIELDS = (
    "created_at", "updated_at", "creation_source", "email_address", "phone_number", "reference_id",
    "group_ids", "segment_ids", "custom_attribute",
)  # fmt: skip
_SORT_COLUMNS = {"DEFAULT": "sort_name", "CREATED_AT": "created_at"}
_FILTER_PREFIX = "query.filter"
MAX_LIMIT = 100
# The local API's own limits (Square documents none). Each fuzzy token and each `all` id is one SQL term and
# SQLite refuses a WHERE deeper than 1,000 terms: these keep every filter combination well below that.
MAX_FILTER_IDS = 1000  # per all/any/none list, as the MCP tool's schema allows
MAX_FUZZY_TOKENS = 100  # far more words than a 254-character email address can hold


@dataclass
class Query:
    """A parsed list or search request: WHERE clauses with their parameters, sort, page size and position."""

    sort_field: str = "DEFAULT"
    order: str = "ASC"
    limit: int = MAX_LIMIT
    cursor: str | None = None
    count: bool = False
    where: list[str] = field(default_factory=list)
    count_where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    group_ids: set[str] = field(default_factory=set)
    segment_ids: dict[str, str] = field(default_factory=dict)  # id -> the filter path that named it first
    fingerprint: str = ""

    def add(self, clause: str, *params: Any, for_count: str | None = None) -> None:
        """A WHERE clause for the page; `for_count` is the same test worded for the unordered count query."""
        self.where.append(clause)
        self.count_where.append(for_count or clause)
        self.params.extend(params)


def parse_list(params: Mapping[str, str]) -> Query:
    query = Query(
        sort_field=check_enum(params.get("sort_field", "DEFAULT"), SORT_FIELDS, "sort_field"),
        order=check_enum(params.get("sort_order", "ASC"), SORT_ORDERS, "sort_order"),
        limit=check_limit(query_int(params, "limit"), "limit", MAX_LIMIT, MAX_LIMIT),
        cursor=params.get("cursor") or None,
        count=query_bool(params, "count"),
    )
    query.fingerprint = cursors.fingerprint(["list", query.sort_field, query.order])
    return query


def parse_search(body: JSON) -> Query:
    reject_unknown(body, ("query", "limit", "cursor", "count"))
    cursor = opt_str(body, "cursor")
    count = opt_bool(body, "count")
    query = Query(
        limit=check_limit(opt_int(body, "limit"), "limit", MAX_LIMIT, MAX_LIMIT),
        cursor=cursor or None,
        count=bool(count),
    )
    spec = opt_object(body, "query") or {}
    reject_unknown(spec, ("filter", "sort"), "query")
    sort = opt_object(spec, "sort", "query") or {}
    reject_unknown(sort, ("field", "order"), "query.sort")
    query.sort_field = check_enum(opt_str(sort, "field", "query.sort") or "DEFAULT", SORT_FIELDS, "query.sort.field")
    query.order = check_enum(opt_str(sort, "order", "query.sort") or "ASC", SORT_ORDERS, "query.sort.order")
    filters = opt_object(spec, "filter", "query") or {}
    _parse_filter(query, filters)
    query.fingerprint = cursors.fingerprint(["search", filters, query.sort_field, query.order])
    return query


def _parse_filter(query: Query, filters: JSON) -> None:
    reject_unknown(filters, FILTER_FIELDS, _FILTER_PREFIX)
    if filters.get("custom_attribute") is not None:
        raise SquareError(
            "BAD_REQUEST",
            "The local API does not hold custom attributes, so it cannot filter by them.",
            field=join(_FILTER_PREFIX, "custom_attribute"),
        )
    for name in ("created_at", "updated_at"):
        _time_range(query, filters, name)
    _creation_source(query, filters)
    _text_filter(query, filters, "email_address", exact_column="email_lower", fuzzy_column="email_fuzzy")
    _text_filter(query, filters, "phone_number", exact_column="phone_e164", fuzzy_column="phone_digits")
    _text_filter(query, filters, "reference_id", exact_column="reference_lower", fuzzy_column="reference_fuzzy")
    for name in ("group_ids", "segment_ids"):
        _membership_filter(query, filters, name)


def _time_range(query: Query, filters: JSON, name: str) -> None:
    """Both ends inclusive, as Square's customer date-time filter documents; either end may be left open."""
    prefix = join(_FILTER_PREFIX, name)
    time_range = opt_object(filters, name, _FILTER_PREFIX)
    if not time_range:
        return
    reject_unknown(time_range, ("start_at", "end_at"), prefix)
    bounds: dict[str, str] = {}
    for end in ("start_at", "end_at"):
        raw = opt_str(time_range, end, prefix)
        if raw:
            parsed = parse_time(raw)
            if parsed is None:
                path = join(prefix, end)
                raise SquareError("INVALID_TIME", f"`{raw}` is not an RFC 3339 timestamp.", field=path)
            bounds[end] = parsed
    if "start_at" in bounds and "end_at" in bounds and bounds["start_at"] > bounds["end_at"]:
        raise SquareError("INVALID_TIME_RANGE", f"`{prefix}.start_at` is after `end_at`.", field=prefix)
    if "start_at" in bounds:
        query.add(f"{name} >= ?", bounds["start_at"])
    if "end_at" in bounds:
        query.add(f"{name} <= ?", bounds["end_at"])


def _creation_source(query: Query, filters: JSON) -> None:
    prefix = join(_FILTER_PREFIX, "creation_source")
    source = opt_object(filters, "creation_source", _FILTER_PREFIX)
    if not source:
        return
    reject_unknown(source, ("values", "rule"), prefix)
    rule = check_enum(opt_str(source, "rule", prefix) or "INCLUDE", ("INCLUDE", "EXCLUDE"), join(prefix, "rule"))
    values = list(dict.fromkeys(opt_str_list(source, "values", prefix) or []))  # repeats add nothing
    for value in values:
        check_enum(value, CREATION_SOURCES, join(prefix, "values"))
    if values:
        marks = ", ".join("?" for _ in values)
        query.add(f"creation_source {'IN' if rule == 'INCLUDE' else 'NOT IN'} ({marks})", *values)


def _text_filter(query: Query, filters: JSON, name: str, *, exact_column: str, fuzzy_column: str) -> None:
    prefix = join(_FILTER_PREFIX, name)
    text = opt_object(filters, name, _FILTER_PREFIX)
    if not text:
        return
    reject_unknown(text, ("exact", "fuzzy"), prefix)
    exact, fuzzy = opt_str(text, "exact", prefix), opt_str(text, "fuzzy", prefix)
    if exact and fuzzy:
        raise SquareError("CONFLICTING_PARAMETERS", f"`{prefix}` can be exact or fuzzy, but not both.", field=prefix)
    if exact:
        query.add(f"{exact_column} = ?", _exact_value(name, exact, join(prefix, "exact")))
    elif fuzzy:
        tokens = fuzzy_tokens(fuzzy)
        if len(tokens) > MAX_FUZZY_TOKENS:
            path = join(prefix, "fuzzy")
            raise SquareError(
                "VALUE_TOO_LONG",
                f"`{path}` must have at most {MAX_FUZZY_TOKENS} words; got {len(tokens)}.",
                field=path,
            )
        if name == "phone_number":
            tokens = [phone_digits(token) for token in tokens if phone_digits(token)]
        tokens = list(dict.fromkeys(tokens))
        query.add(f"{fuzzy_column} IS NOT NULL")
        for token in tokens:
            query.add(f"instr({fuzzy_column}, ?) > 0", token)


def _exact_value(name: str, value: str, path: str) -> str:
    if name != "phone_number":
        return value.lower()  # email and reference_id filters are case-insensitive
    digits = phone_digits(value)
    if not value.strip().startswith("+") or not 9 <= len(digits) <= 16 or any(c.isalpha() for c in value):
        raise SquareError(
            "INVALID_PHONE_NUMBER",
            f"`{value}` is not an E.164 phone number: start with `+` and the country code.",
            field=path,
        )
    return "+" + digits


# filter name -> (membership table, member column); constants only, formatted into SQL below.
_MEMBERSHIPS = {"group_ids": ("customer_groups", "group_id"), "segment_ids": ("customer_segments", "segment_id")}


def _membership_filter(query: Query, filters: JSON, name: str) -> None:
    """`group_ids` / `segment_ids`: all, any and none of the given ids, as membership subqueries."""
    prefix = join(_FILTER_PREFIX, name)
    wanted = opt_object(filters, name, _FILTER_PREFIX)
    if not wanted:
        return
    reject_unknown(wanted, ("all", "any", "none"), prefix)
    table, column = _MEMBERSHIPS[name]
    members = f"SELECT customer_id FROM {table} WHERE {column}"  # noqa: S608 (constant names only)
    named: list[tuple[str, str]] = []  # (id, filter path), in request order
    # For a page, `+id` keeps SQLite from driving the query from the member list and sorting every member: it
    # walks the sort index and checks membership per row, which stops after one page even for big groups. The
    # count has no order, so there driving from the member list (plain `id`) is the fast plan.
    # `all` is one term however many ids it names (one term per id would overflow SQLite's expression depth):
    # the customers that are members of as many of the distinct ids as there are.
    every = list(dict.fromkeys(opt_str_list(wanted, "all", prefix, MAX_FILTER_IDS) or []))
    if every:
        marks = ", ".join("?" for _ in every)
        subquery = f"({members} IN ({marks}) GROUP BY customer_id HAVING count(*) = ?)"
        query.add(f"+id IN {subquery}", *every, len(every), for_count=f"id IN {subquery}")
        named += [(member_of, join(prefix, "all")) for member_of in every]
    for kind, operator in (("any", "IN"), ("none", "NOT IN")):
        ids = list(dict.fromkeys(opt_str_list(wanted, kind, prefix, MAX_FILTER_IDS) or []))
        if ids:
            subquery = f"({members} IN ({', '.join('?' for _ in ids)}))"
            query.add(f"+id {operator} {subquery}", *ids, for_count=f"id {operator} {subquery}")
            named += [(member_of, join(prefix, kind)) for member_of in ids]
    if name == "group_ids":
        query.group_ids.update(member_of for member_of, _ in named)
    else:
        for member_of, path in named:
            query.segment_ids.setdefault(member_of, path)


def run(conn: sqlite3.Connection, query: Query, merchant_id: str) -> JSON:
    """One page of the merchant's customers (and the total when asked). An empty page is `{}`, as Square answers."""
    mark = cursors.fingerprint([query.fingerprint, merchant_id])  # a cursor works only for its own merchant
    position = cursors.decode(query.cursor, mark) if query.cursor else None
    if query.segment_ids:
        segments.require_known(conn, merchant_id, query.segment_ids)  # Square: an unknown segment id is a 400
    if query.group_ids and _unknown_group(conn, merchant_id, query.group_ids):
        return {"count": 0} if query.count else {}  # Square: a non-existent group id matches nothing
    column = _SORT_COLUMNS[query.sort_field]
    direction = "ASC" if query.order == "ASC" else "DESC"
    # merchant_id first: every customer index leads with it, so the walk stays inside this merchant's range.
    where, params = ["merchant_id = ?", *query.where], [merchant_id, *query.params]
    if position is not None:
        where.append(f"({column}, id) {'>' if direction == 'ASC' else '<'} (?, ?)")
        params += [position.key, position.id]
    sql = f"SELECT * FROM customers{_exact_index(query.where)} WHERE " + " AND ".join(where)  # noqa: S608
    sql += f" ORDER BY {column} {direction}, id {direction} LIMIT ?"
    rows = conn.execute(sql, [*params, query.limit + 1]).fetchall()
    result: JSON = {}
    if rows:
        page = rows[: query.limit]
        result["customers"] = render(conn, page)
        if len(rows) > query.limit:
            last = page[-1]
            result["cursor"] = cursors.encode(cursors.Position(last[column], last["id"]), mark)
    if query.count:
        count_where = " AND ".join(["merchant_id = ?", *query.count_where])
        count_sql = "SELECT count(*) FROM customers WHERE " + count_where  # noqa: S608 (constants and ? only)
        result["count"] = conn.execute(count_sql, [merchant_id, *query.params]).fetchone()[0]
    return result


# Exact filters and the index that finds their few rows. With merchant_id leading every index, SQLite (with no
# statistics) would rather walk the merchant's whole range in sort order than sort a handful of matches.
_EXACT_INDEXES = {
    "email_lower = ?": "customers_by_email",
    "phone_e164 = ?": "customers_by_phone",
    "reference_lower = ?": "customers_by_reference",
}


def _exact_index(where: list[str]) -> str:
    for clause in where:
        if clause in _EXACT_INDEXES:
            return f" INDEXED BY {_EXACT_INDEXES[clause]}"
    return ""


def _unknown_group(conn: sqlite3.Connection, merchant_id: str, group_ids: set[str]) -> bool:
    """True when any id is not one of the merchant's groups (another merchant's group is unknown here)."""
    ids = sorted(group_ids)
    marks = ", ".join("?" for _ in ids)
    sql = f"SELECT count(*) FROM customer_groups_defined WHERE merchant_id = ? AND id IN ({marks})"  # noqa: S608
    found = conn.execute(sql, [merchant_id, *ids]).fetchone()[0]
    return bool(found != len(ids))
