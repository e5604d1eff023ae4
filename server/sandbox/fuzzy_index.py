"""Reading the two fuzzy-search indexes: one index term per query token, size estimates, and matching rowids.

A token of 3 or more characters is a phrase in the trigram index (store.SEARCH_SCHEMA's `customers_fuzzy`), a
shorter one a single term in the short-token index (grams.py). Both find exactly the customers whose column holds
the token (search.py still tests every found row with instr(), so an index only has to miss nothing). Neither
knows merchants: their rowids span every merchant, and the caller keeps to one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from square_customers_mcp.sandbox import grams

TRIGRAM = 3  # the trigram index finds tokens of at least this many characters
TRIGRAM_TABLE = "customers_fuzzy"
# Rowids read to estimate how many customers a term matches (fewer found: that is all of them).
SAMPLE = 32
# Terms sampled per query: the longest tokens, the likeliest to be rare. The rest are left to instr().
MAX_SAMPLED = 8


@dataclass(frozen=True)
class Term:
    """One query token's lookup: its index table, its FTS5 query, and the token's length."""

    table: str
    match: str
    length: int


def term(token: str, column: str) -> Term:
    """The index term for a fuzzy `token` (letters and digits only) searched in the fuzzy `column`."""
    if len(token) >= TRIGRAM:  # quoted, the token is one literal FTS5 phrase: its trigrams in a row
        return Term(TRIGRAM_TABLE, f'{column} : "{token}"', len(token))
    return Term(grams.TABLE, grams.term(token, column), len(token))


@dataclass(frozen=True)
class Estimate:
    """A term's first rowids, its estimated number of matches, and their share of all customers (of every
    merchant); `complete` when those rowids are all of its matches."""

    term: Term
    rowids: list[int]
    matches: float
    share: float

    @property
    def complete(self) -> bool:
        return len(self.rowids) < SAMPLE


def estimate(conn: sqlite3.Connection, terms: Sequence[Term]) -> list[Estimate]:
    """Sample the longest terms, rarest first. The index returns rowids in order, so the rowid of the SAMPLE-th
    match tells its density; rowids are assigned in order of creation, so that is the density overall, unless
    matches cluster by creation (a misestimate costs time, never a wrong answer)."""
    highest = conn.execute("SELECT max(rowid) FROM customers").fetchone()[0] or 1
    found = []
    for each in sorted(terms, key=lambda t: -t.length)[:MAX_SAMPLED]:
        rowids = _rowids(conn, [each], SAMPLE)
        matches = len(rowids) if len(rowids) < SAMPLE else SAMPLE * highest / rowids[-1]
        found.append(Estimate(each, rowids, matches, max(matches, 1) / highest))
    return sorted(found, key=lambda e: e.matches)


def matching(conn: sqlite3.Connection, terms: Sequence[Term], limit: int) -> list[int] | None:
    """The rowids of the customers (of every merchant) matching all `terms` of one table; None if over `limit`."""
    found = _rowids(conn, terms, limit + 1)
    return found if len(found) <= limit else None


def same_table(terms: Sequence[Term], table: str) -> list[Term]:
    return [each for each in terms if each.table == table]


def as_json(rowids: Sequence[int]) -> str:
    """Rowids as one JSON parameter, for `rowid IN (SELECT value FROM json_each(?))`."""
    return json.dumps(list(rowids))


def _rowids(conn: sqlite3.Connection, terms: Sequence[Term], limit: int) -> list[int]:
    table = terms[0].table
    query = " AND ".join(each.match for each in terms)
    sql = f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rowid LIMIT ?"  # noqa: S608 (a constant table name)
    return [row[0] for row in conn.execute(sql, (query, limit))]
