"""ListCustomers and SearchCustomers: request parsing, SQL building (parameters only) and keyset paging."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from square_customers_mcp.sandbox import cursors, fuzzy_index, segments
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
# Membership filter -> its kind in store.member_counts.
_COUNTED_KINDS = {"group_ids": "group", "segment_ids": "segment"}
_MEMBER_FILTERS = {kind: name for name, kind in _COUNTED_KINDS.items()}


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
    # One index term per fuzzy token (fuzzy_index.py), e.g. the phrase `email_fuzzy : "earhart"`.
    index_terms: list[fuzzy_index.Term] = field(default_factory=list)
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
            query.index_terms.append(fuzzy_index.term(token, fuzzy_column))


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
    every = list(dict.fromkeys(opt_str_list(wanted, "all", prefix, MAX_FILTER_IDS) or []))
    if every:
        page, count, params = _all_of(table, column, _COUNTED_KINDS[name], every)
        query.add(page, *params, for_count=count)
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


# The id of an `all` list with the fewest members (from the counters; an id with no counter row has none). It is
# evaluated once per query: both plans below start from it.
_RAREST = (
    "(SELECT wanted.value FROM json_each(?) AS wanted LEFT JOIN member_counts AS counted"
    " ON counted.kind = ? AND counted.set_id = wanted.value ORDER BY coalesce(counted.members, 0) LIMIT 1)"
)
# Up to this many ids, `all` is one membership probe per id (each skipped for the rarest id, known to hold);
# beyond, one count of the customer's memberships among them (one term: one per id would overflow SQLite's
# expression depth), which costs about twice a probe.
_ALL_PROBED = 8


def _all_of(table: str, column: str, kind: str, ids: list[str]) -> tuple[str, str, list[Any]]:
    """`all` of the ids: (the page's test, the count's test, their shared parameters).

    The page tests the rarest id first, so most rows it walks cost one probe; the count walks only the rarest
    id's member list.
    """
    probe, params = _in_all(table, column, kind, ids, "customers.id")
    rarest = f"EXISTS (SELECT 1 FROM {table} WHERE customer_id = customers.id AND {column} = {_RAREST})"  # noqa: S608
    members, _ = _all_members(table, column, kind, ids)
    return f"{rarest} AND {probe}", f"id IN ({members})", [json.dumps(ids), kind, *params]


def _all_members(table: str, column: str, kind: str, ids: list[str]) -> tuple[str, list[Any]]:
    """SELECT customer_id of the customers in every one of `ids`, from the rarest id's member list."""
    probe, params = _in_all(table, column, kind, ids, "member.customer_id")
    sql = f"SELECT customer_id FROM {table} AS member WHERE {column} = {_RAREST} AND {probe}"  # noqa: S608
    return sql, [json.dumps(ids), kind, *params]


def _in_all(table: str, column: str, kind: str, ids: list[str], customer: str) -> tuple[str, list[Any]]:
    """The test that `customer` (an SQL expression) is a member of every one of `ids`, with its parameters."""
    if len(ids) > _ALL_PROBED:
        marks = ", ".join("?" for _ in ids)
        held = f"(SELECT count(*) FROM {table} WHERE customer_id = {customer} AND {column} IN ({marks})) = ?"  # noqa: S608
        return held, [*ids, len(ids)]
    probe = f"({_RAREST} = ? OR EXISTS (SELECT 1 FROM {table} WHERE customer_id = {customer} AND {column} = ?))"  # noqa: S608
    return " AND ".join(probe for _ in ids), [value for one in ids for value in (json.dumps(ids), kind, one, one)]


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
    plan = _Plan(query, merchant_id, position, customer_total(conn, merchant_id))
    rows = _find_rows(conn, plan)
    if rows is None:  # an index holds no match
        return {"count": 0} if query.count else {}
    result: JSON = {}
    if rows:
        page = rows[: query.limit]
        result["customers"] = render(conn, page)
        if len(rows) > query.limit:
            last = page[-1]
            column = _SORT_COLUMNS[query.sort_field]
            result["cursor"] = cursors.encode(conn, cursors.Position(last[column], last["id"]), mark)
    if query.count:
        result["count"] = _count(conn, plan)
    return result


def customer_total(conn: sqlite3.Connection, merchant_id: str) -> int:
    """How many customers the merchant has, from the trigger-kept counter (no scan)."""
    row = conn.execute("SELECT customers FROM customer_counts WHERE merchant_id = ?", (merchant_id,)).fetchone()
    return int(row[0]) if row else 0


@dataclass
class _Plan:
    """How one request finds its rows: by walking the sort order, or through the rowids an index found.

    The costs behind the thresholds, per row at 100,000 customers: walking the sort index and testing the fuzzy
    text ~0.25 us; reading a match from an index and then its row ~3 us.
    """

    query: Query
    merchant_id: str
    position: cursors.Position | None
    total: int  # the merchant's customers
    estimates: list[fuzzy_index.Estimate] = field(default_factory=list)  # the fuzzy tokens', rarest first
    candidates: list[int] | None = None  # every match is among these rowids (None: walk the sort order)

    @property
    def few(self) -> int:
        """At most this many matches are fetched by rowid and sorted rather than found by a walk. Fetching costs
        ~ matches, a walk ~ page size x customers / matches, so the cut-over grows with the square root of both."""
        return max(256, math.isqrt((self.query.limit + 1) * self.total // 25))

    @property
    def enumerable(self) -> int:
        """Up to this many matches, fetching them beats a walk over all of the merchant's customers."""
        return max(self.few, self.total // 12)

    @property
    def walk_budget(self) -> int:
        """Sort-order rows a walk may test before the plan fetches the matches instead: twice the walk the rarest
        token's density predicts, at least 8 x `few`, at most what fetching its matches would cost (12 x)."""
        rarest = self.estimates[0]
        expected = (self.query.limit + 1) / rarest.share
        return int(min(max(8 * (self.few + 1), 2 * expected), 12 * rarest.matches))

    @property
    def rarest_index_terms(self) -> list[fuzzy_index.Term]:
        """Every term in the rarest token's index, to look up together."""
        return [term for term in self.query.index_terms if term.table == self.estimates[0].term.table]

    @property
    def joint_matches(self) -> float:
        """The matches of all sampled tokens in the rarest token's index, estimated as if independent."""
        rarest = self.estimates[0]
        return rarest.matches * math.prod(e.share for e in self.estimates[1:] if e.term.table == rarest.term.table)


def _find_rows(conn: sqlite3.Connection, plan: _Plan) -> list[sqlite3.Row] | None:
    """The page's rows, one more than the page when another follows; None when an index shows there are none."""
    query = plan.query
    if query.index_terms and not _exact_index(query.where):  # an exact filter's index finds fewer rows still
        plan.estimates = fuzzy_index.estimate(conn, query.index_terms)
        plan.candidates = _index_candidates(conn, plan)
        if plan.candidates is None:
            rows = _bounded_walk(conn, plan)
            if rows is not None:
                return rows
            plan.candidates = _all_matches(conn, plan)
        if plan.candidates == []:
            return None
    if plan.candidates is not None:
        return _rows_from_candidates(conn, plan)
    return conn.execute(*_page_sql(plan)).fetchall()


def _index_candidates(conn: sqlite3.Connection, plan: _Plan) -> list[int] | None:
    """Rowids holding every match (a superset), when fetching and sorting them beats a walk; else None."""
    rarest = plan.estimates[0]
    if rarest.complete:
        return rarest.rowids
    if rarest.matches <= 2 * plan.few:
        return fuzzy_index.matching(conn, [rarest.term], plan.few)
    if plan.joint_matches <= plan.few:  # each token common, together rare ("amelia earhart")
        return fuzzy_index.matching(conn, plan.rarest_index_terms, plan.few)
    return None


def _all_matches(conn: sqlite3.Connection, plan: _Plan) -> list[int] | None:
    """After a walk found no page near the position (the matches are few, or far along the sort order): all the
    matches, unless there are too many to beat walking on."""
    if plan.joint_matches > 2 * plan.enumerable:
        return None
    return fuzzy_index.matching(conn, plan.rarest_index_terms, plan.enumerable)


def _bounded_walk(conn: sqlite3.Connection, plan: _Plan) -> list[sqlite3.Row] | None:
    """The page, when a walk finds it within the walk budget from the position; else None.

    The estimate can be wrong (matches clustered by creation time), and many matches can sit far along the sort
    order (a given name, when the sort is by name): the budget bounds what such a walk wastes.
    """
    bound = _walk_bound(conn, plan)
    rows = conn.execute(*_page_sql(plan, bound)).fetchall()
    return rows if bound is None or len(rows) > plan.query.limit else None


def _walk_bound(conn: sqlite3.Connection, plan: _Plan) -> tuple[str, str] | None:
    """The sort key of the customer `walk_budget` rows past the position; None if fewer remain."""
    column, direction, after = _order(plan.query)
    where, params = ["merchant_id = ?"], [plan.merchant_id]
    if plan.position is not None:
        where.append(f"({column}, id) {after} (?, ?)")
        params += [plan.position.key, plan.position.id]
    sql = f"SELECT {column}, id FROM customers WHERE {' AND '.join(where)} "  # noqa: S608
    sql += f"ORDER BY {column} {direction}, id {direction} LIMIT 1 OFFSET ?"
    row = conn.execute(sql, [*params, plan.walk_budget]).fetchone()
    return None if row is None else (row[0], row[1])


def _order(query: Query) -> tuple[str, str, str]:
    """(sort column, ASC or DESC, the comparison that selects the rows after a position)."""
    ascending = query.order == "ASC"
    return _SORT_COLUMNS[query.sort_field], "ASC" if ascending else "DESC", ">" if ascending else "<"


def _scope(plan: _Plan, candidates: list[int] | None) -> tuple[str, list[str], list[Any]]:
    """(FROM, WHERE clauses, parameters) that keep to the merchant and, when given, to the candidate rowids."""
    if candidates is None:
        # merchant_id first: every customer index leads with it, so the walk stays inside this merchant's range.
        return f"customers{_exact_index(plan.query.where)}", ["merchant_id = ?"], [plan.merchant_id]
    # The rows an index found, read by rowid in the index's (rowid) order; the other filters, every fuzzy token
    # too, still apply. CROSS JOIN keeps SQLite from walking the customers instead.
    found = "(SELECT value AS found_rowid FROM json_each(?)) AS found CROSS JOIN customers"
    source = f"{found} ON customers.rowid = found.found_rowid"
    return source, ["merchant_id = ?"], [fuzzy_index.as_json(candidates), plan.merchant_id]


def _page_sql(
    plan: _Plan, bound: tuple[str, str] | None = None, selected: str = "customers.*"
) -> tuple[str, list[Any]]:
    """The page query (one row more than the page, to know whether another follows), up to `bound` if given."""
    query = plan.query
    column, direction, after = _order(query)
    source, where, params = _scope(plan, plan.candidates)
    where, params = [*where, *query.where], [*params, *query.params]
    if plan.position is not None:
        where.append(f"({column}, id) {after} (?, ?)")
        params += [plan.position.key, plan.position.id]
    if bound is not None:
        where.append(f"({column}, id) {'<=' if after == '>' else '>='} (?, ?)")
        params += list(bound)
    sql = f"SELECT {selected} FROM {source} WHERE " + " AND ".join(where)  # noqa: S608
    return sql + f" ORDER BY {column} {direction}, id {direction} LIMIT ?", [*params, query.limit + 1]


def _rows_from_candidates(conn: sqlite3.Connection, plan: _Plan) -> list[sqlite3.Row]:
    """The page from the candidate rowids: the sort keys alone are sorted (SQLite would sort whole rows), then
    the page's rows read."""
    sql, params = _page_sql(plan, selected="customers.rowid")
    chosen = [row[0] for row in conn.execute(sql, params)]
    page = "SELECT rowid AS found_rowid, * FROM customers WHERE rowid IN (SELECT value FROM json_each(?))"
    by_rowid = {row["found_rowid"]: row for row in conn.execute(page, (fuzzy_index.as_json(chosen),))}
    return [by_rowid[rowid] for rowid in chosen]


def _count(conn: sqlite3.Connection, plan: _Plan) -> int:
    """The count: from the counters when they answer it, else over an index's matches when they are not too
    many, else a walk over the merchant's customers."""
    query = plan.query
    counted = _counted(conn, query, plan.merchant_id)
    if counted is not None:
        return counted
    candidates = plan.candidates if plan.candidates is not None else _countable_matches(conn, plan)
    source, where, params = _scope(plan, candidates)
    # Few candidates: test each one's memberships (the page's wording) rather than copy whole member lists.
    where += query.where if candidates is not None else query.count_where
    sql = f"SELECT count(*) FROM {source} WHERE " + " AND ".join(where)  # noqa: S608
    return int(conn.execute(sql, [*params, *query.params]).fetchone()[0])


def _countable_matches(conn: sqlite3.Connection, plan: _Plan) -> list[int] | None:
    """The rarest fuzzy token's matches, when reading them beats a walk over the merchant's customers."""
    if not plan.estimates or plan.estimates[0].matches > 2 * plan.enumerable:
        return None
    rarest = plan.estimates[0]
    return rarest.rowids if rarest.complete else fuzzy_index.matching(conn, [rarest.term], plan.enumerable)


def _counted(conn: sqlite3.Connection, query: Query, merchant_id: str) -> int | None:
    """The count without the customers table when the query allows: no filter, one group or segment (the
    counters), or `all` of several (their member lists); else None. A group or segment id that reaches here is
    the merchant's, and so are its members."""
    if not query.where:
        return customer_total(conn, merchant_id)
    if len(query.where) != 1 or len(query.member_terms) != 1:
        return None
    kind, rule, ids = query.member_terms[0]
    if rule == "all" and len(ids) > 1:
        sql, params = _all_members(*_MEMBERSHIPS[_MEMBER_FILTERS[kind]], kind, ids)
        return int(conn.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0])  # noqa: S608
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
