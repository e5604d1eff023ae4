"""ListCustomers and SearchCustomers: request parsing, SQL building (parameters only) and keyset paging."""

from __future__ import annotations

import json
import math
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
# The trigram index (store.SEARCH_SCHEMA) finds tokens of at least this many characters; shorter ones are checked
# with instr() on the rows found some other way.
TRIGRAM = 3
# Membership filter -> its kind in store.member_counts.
_COUNTED_KINDS = {"group_ids": "group", "segment_ids": "segment"}


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
    # A fuzzy filter with no usable token (email "...", phone "abc"): the query matches no customer.
    matches_nothing: bool = False
    # One trigram-index phrase per fuzzy token of TRIGRAM or more characters, e.g. `email_fuzzy : "earhart"`.
    trigram_terms: list[str] = field(default_factory=list)
    # (kind, all/any/none, ids) for each membership clause in `where`, so a count can use member_counts.
    member_terms: list[tuple[str, str, list[str]]] = field(default_factory=list)

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
        if not tokens:  # nothing to look for: no customer can hold it (it used to match everyone)
            query.matches_nothing = True
            return
        query.add(f"{fuzzy_column} IS NOT NULL")
        for token in tokens:
            query.add(f"instr({fuzzy_column}, ?) > 0", token)
            if len(token) >= TRIGRAM:  # tokens are [0-9a-z]+, so quoting them makes a literal FTS5 phrase
                query.trigram_terms.append(f'{fuzzy_column} : "{token}"')


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
    # The same memberships of the row at hand: one primary-key probe per row.
    own = f"FROM {table} WHERE customer_id = customers.id AND {column}"
    named: list[tuple[str, str]] = []  # (id, filter path), in request order
    # For a page, a correlated test keeps SQLite from driving the query from the member list and sorting every
    # member: it walks the sort index and probes each row's memberships, which stops after one page even for big
    # groups (an uncorrelated `+id IN (members)` would first copy the whole member list, ~5 ms per 15,000).
    # The count has no order, so there driving from the member list (plain `id IN`) is the fast plan.
    # `all` is one term however many ids it names (one term per id would overflow SQLite's expression depth):
    # the customers that are members of as many of the distinct ids as there are.
    every = list(dict.fromkeys(opt_str_list(wanted, "all", prefix, MAX_FILTER_IDS) or []))
    if every:
        marks = ", ".join("?" for _ in every)
        subquery = f"({members} IN ({marks}) GROUP BY customer_id HAVING count(*) = ?)"
        query.add(f"(SELECT count(*) {own} IN ({marks})) = ?", *every, len(every), for_count=f"id IN {subquery}")
        query.member_terms.append((_COUNTED_KINDS[name], "all", every))
        named += [(member_of, join(prefix, "all")) for member_of in every]
    for kind, operator in (("any", "IN"), ("none", "NOT IN")):
        ids = list(dict.fromkeys(opt_str_list(wanted, kind, prefix, MAX_FILTER_IDS) or []))
        if ids:
            marks = ", ".join("?" for _ in ids)
            exists = f"{'NOT ' if kind == 'none' else ''}EXISTS (SELECT 1 {own} IN ({marks}))"
            query.add(exists, *ids, for_count=f"id {operator} ({members} IN ({marks}))")
            query.member_terms.append((_COUNTED_KINDS[name], kind, ids))
            named += [(member_of, join(prefix, kind)) for member_of in ids]
    if name == "group_ids":
        query.group_ids.update(member_of for member_of, _ in named)
    else:
        for member_of, path in named:
            query.segment_ids.setdefault(member_of, path)


def run(conn: sqlite3.Connection, query: Query, merchant_id: str) -> JSON:
    """One page of the merchant's customers (and the total when asked). An empty page is `{}`, as Square answers."""
    mark = cursors.fingerprint([query.fingerprint, merchant_id])  # a cursor works only for its own merchant
    position = cursors.decode(conn, query.cursor, mark) if query.cursor else None
    if query.segment_ids:
        segments.require_known(conn, merchant_id, query.segment_ids)  # Square: an unknown segment id is a 400
    if query.group_ids and _unknown_group(conn, merchant_id, query.group_ids):
        return {"count": 0} if query.count else {}  # Square: a non-existent group id matches nothing
    if query.matches_nothing:
        return {"count": 0} if query.count else {}
    column = _SORT_COLUMNS[query.sort_field]
    direction = "ASC" if query.order == "ASC" else "DESC"
    # merchant_id first: every customer index leads with it, so the walk stays inside this merchant's range.
    scope, scope_params = ["merchant_id = ?"], [merchant_id]
    source = f"customers{_exact_index(query.where)}"
    candidates = _fuzzy_candidates(conn, query, merchant_id)
    if candidates is not None:
        if not candidates:
            return {"count": 0} if query.count else {}
        # The few rows the trigram index found, by rowid; the other filters (short tokens too) still apply.
        source = "customers NOT INDEXED"
        scope, scope_params = (
            ["rowid IN (SELECT value FROM json_each(?))", *scope],
            [json.dumps(candidates), *scope_params],
        )
    where, params = [*scope, *query.where], [*scope_params, *query.params]
    # Few candidates: test each one's memberships (the page's wording) rather than copy whole member lists.
    count_where, count_params = [*scope, *(query.where if candidates is not None else query.count_where)], params[:]
    if position is not None:
        where.append(f"({column}, id) {'>' if direction == 'ASC' else '<'} (?, ?)")
        params += [position.key, position.id]
    sql = f"SELECT * FROM {source} WHERE " + " AND ".join(where)  # noqa: S608
    sql += f" ORDER BY {column} {direction}, id {direction} LIMIT ?"
    rows = conn.execute(sql, [*params, query.limit + 1]).fetchall()
    result: JSON = {}
    if rows:
        page = rows[: query.limit]
        result["customers"] = render(conn, page)
        if len(rows) > query.limit:
            last = page[-1]
            result["cursor"] = cursors.encode(conn, cursors.Position(last[column], last["id"]), mark)
    if query.count:
        counted = _counted(conn, query, merchant_id)
        if counted is None:
            count_source = "customers NOT INDEXED" if candidates is not None else "customers"
            count_sql = f"SELECT count(*) FROM {count_source} WHERE " + " AND ".join(count_where)  # noqa: S608
            counted = conn.execute(count_sql, count_params).fetchone()[0]
        result["count"] = counted
    return result


def customer_total(conn: sqlite3.Connection, merchant_id: str) -> int:
    """How many customers the merchant has, from the trigger-kept counter (no scan)."""
    row = conn.execute("SELECT customers FROM customer_counts WHERE merchant_id = ?", (merchant_id,)).fetchone()
    return int(row[0]) if row else 0


def _fuzzy_candidates(conn: sqlite3.Connection, query: Query, merchant_id: str) -> list[int] | None:
    """The rowids the trigram index finds for the query's fuzzy tokens, when they are few; else None.

    Few matches: fetching them by rowid and sorting them beats any walk. Many: walking the sort index and testing
    each row with instr() finds a page of them after a short walk. The cut-over balances the two costs (rowid
    look-ups ~ matches; walk ~ page size x merchant size / matches), so it grows with the square root of both.
    """
    if not query.trigram_terms:
        return None
    cap = max(256, math.isqrt((query.limit + 1) * customer_total(conn, merchant_id) // 25))
    found = conn.execute(
        "SELECT rowid FROM customers_fuzzy WHERE customers_fuzzy MATCH ? LIMIT ?",
        (" AND ".join(query.trigram_terms), cap + 1),
    ).fetchall()
    return [row[0] for row in found] if len(found) <= cap else None


def _counted(conn: sqlite3.Connection, query: Query, merchant_id: str) -> int | None:
    """The count from the counters when the query allows (no filter, or one group or segment); else None."""
    if not query.where:
        return customer_total(conn, merchant_id)
    if len(query.where) != 1 or len(query.member_terms) != 1:
        return None
    kind, rule, ids = query.member_terms[0]
    if len(ids) != 1:
        return None
    row = conn.execute("SELECT members FROM member_counts WHERE kind = ? AND set_id = ?", (kind, ids[0])).fetchone()
    members = int(row[0]) if row else 0
    return customer_total(conn, merchant_id) - members if rule == "none" else members


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
