"""Fuzzy tokens of 1 or 2 characters: found through the short-token index (grams.py), with Square's rules.

Square documents no minimum token length, so `q` or `42` is a query like any other: every customer whose field
holds it, wherever it sits (start or end of the field, a field shorter than 3 characters), in the caller's
merchant only, and still after updates and deletes. Each answer here is checked against a brute-force reading of
the rules over every stored customer.
"""

from __future__ import annotations

import itertools
import sqlite3
import string
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette

from square_customers_mcp.sandbox import create_app, grams, search
from square_customers_mcp.sandbox.customer_fields import read_create
from square_customers_mcp.sandbox.customers import create, delete, update
from square_customers_mcp.sandbox.records import fuzzy_tokens
from square_customers_mcp.sandbox.seed import DEFAULT_MERCHANT_ID
from square_customers_mcp.sandbox.store import Store

OTHER = "OTHERMERCHANT01"
FIELDS = ("email_address", "phone_number", "reference_id")
# Short values on purpose: tokens at the very start and end of a field, and fields of 1 and 2 characters.
CUSTOMERS = [
    {"email_address": "q@x.io", "reference_id": "Z9"},
    {"email_address": "ab@cd.ef", "phone_number": "+1 212 555 0142", "reference_id": "a"},
    {"email_address": "zz.top@band.example", "phone_number": "+44 20 7946 0958"},
    {"email_address": "k9@dog.example", "reference_id": "CRM-7 b"},
    {"given_name": "No", "family_name": "Searchable"},
    {"given_name": "Also", "company_name": "Nothing To Search"},
]
# The other merchant holds tokens the default merchant lacks: none of them may leak into its answers.
OTHER_CUSTOMERS = [{"email_address": "jj@vv.example", "phone_number": "+1 999 888 7777", "reference_id": "W"}]


@pytest.fixture
def store() -> Iterator[Store]:
    app: Starlette = create_app(":memory:")
    store: Store = app.state.store

    def fill(conn: sqlite3.Connection) -> None:
        for fields in CUSTOMERS:
            create(conn, DEFAULT_MERCHANT_ID, read_create(fields))
        for fields in OTHER_CUSTOMERS:
            create(conn, OTHER, read_create(fields))

    store.write_sync(fill)
    yield store
    store.close()


def holds(value: str | None, token: str, field: str) -> bool:
    """The documented rule: each token inside one stored token (phone: inside the number's digits)."""
    if value is None:
        return False
    if field == "phone_number":
        return token in "".join(ch for ch in value if ch.isdigit())
    return any(token in own for own in fuzzy_tokens(value))


def expected(store: Store, merchant: str, field: str, token: str) -> set[str]:
    rows = store.read_sync(
        lambda c: c.execute(f"SELECT id, {field} FROM customers WHERE merchant_id = ?", (merchant,)).fetchall()
    )
    return {row["id"] for row in rows if holds(row[field], token, field)}


def found(store: Store, merchant: str, field: str, token: str) -> tuple[set[str], int]:
    body: dict[str, Any] = {"query": {"filter": {field: {"fuzzy": token}}}, "count": True, "limit": 100}
    result = store.read_sync(lambda c: search.run(c, search.parse_search(body), merchant))
    ids = {customer["id"] for customer in result.get("customers", [])}
    return ids, result["count"]


def short_tokens(field: str) -> list[str]:
    """Every 1-character token, and every 2-character one built from the characters the data holds."""
    phone = field == "phone_number"
    alphabet = string.digits if phone else string.digits + string.ascii_lowercase
    pairs = string.digits if phone else "abcdefgijkmoqtvwxz0124579"
    return [*alphabet, *("".join(pair) for pair in itertools.product(pairs, repeat=2))]


def check_every_short_token(store: Store) -> None:
    for merchant in (DEFAULT_MERCHANT_ID, OTHER):
        for field in FIELDS:
            for token in short_tokens(field):
                wanted = expected(store, merchant, field, token)
                assert found(store, merchant, field, token) == (wanted, len(wanted)), (merchant, field, token)


def test_every_short_token_is_found_exactly_where_it_is(store: Store) -> None:
    check_every_short_token(store)
    # Spot checks of the cases the brute force covers, so a broken brute force can't hide them.
    email = next(iter(expected(store, DEFAULT_MERCHANT_ID, "email_address", "q")))
    assert found(store, DEFAULT_MERCHANT_ID, "email_address", "q") == ({email}, 1)  # a 1-character field start
    assert found(store, DEFAULT_MERCHANT_ID, "email_address", "ef")[1] == 1  # at the field's end
    assert found(store, DEFAULT_MERCHANT_ID, "reference_id", "z9")[1] == 1  # a 2-character field
    assert found(store, DEFAULT_MERCHANT_ID, "reference_id", "a")[1] == 1  # a 1-character field
    assert found(store, DEFAULT_MERCHANT_ID, "email_address", "jj") == (set(), 0)  # only the other merchant's
    assert found(store, OTHER, "email_address", "jj")[1] == 1


def test_short_tokens_follow_updates_and_deletes(store: Store) -> None:
    ids = store.read_sync(
        lambda c: [
            row[0]
            for row in c.execute(
                "SELECT id FROM customers WHERE merchant_id = ? ORDER BY rowid", (DEFAULT_MERCHANT_ID,)
            )
        ]
    )

    def change(conn: sqlite3.Connection) -> None:
        update(conn, DEFAULT_MERCHANT_ID, ids[0], {"email_address": "yq@n.example", "reference_id": "77"}, None)
        update(conn, DEFAULT_MERCHANT_ID, ids[1], {"note": "the searched fields stay as they were"}, None)
        delete(conn, DEFAULT_MERCHANT_ID, ids[3], None)
        update(conn, DEFAULT_MERCHANT_ID, ids[4], {"email_address": "nq@x.example"}, None)  # its first field
        delete(conn, DEFAULT_MERCHANT_ID, ids[5], None)  # never had a searchable field

    store.write_sync(change)
    check_every_short_token(store)
    assert found(store, DEFAULT_MERCHANT_ID, "email_address", "yq")[1] == 1
    assert found(store, DEFAULT_MERCHANT_ID, "reference_id", "z9") == (set(), 0)
    assert found(store, DEFAULT_MERCHANT_ID, "email_address", "k9") == (set(), 0)  # deleted
    assert found(store, DEFAULT_MERCHANT_ID, "email_address", "nq") == ({ids[4]}, 1)
    # Every searchable field cleared (a name keeps the customer valid): it leaves the index.
    store.write_sync(
        lambda conn: update(
            conn,
            DEFAULT_MERCHANT_ID,
            ids[1],
            {"given_name": "Kept", "email_address": None, "phone_number": None, "reference_id": None},
            None,
        )
    )
    check_every_short_token(store)
    assert found(store, DEFAULT_MERCHANT_ID, "email_address", "ef") == (set(), 0)
    # FTS5's own check of the short-token index (raises if it is inconsistent).
    store.write_sync(
        lambda c: c.execute(f"INSERT INTO {grams.TABLE} ({grams.TABLE}, rank) VALUES ('integrity-check', 0)")
    )


def test_the_index_term_names_its_field() -> None:
    """`q` in the email is not `q` in the reference id: each field has its own marker."""
    assert len({grams.term("q", column) for column in grams.MARKERS}) == 3
    assert len({grams.term("12", column) for column in grams.MARKERS}) == 3
    assert grams.term("q", "email_fuzzy") != grams.term("qq", "email_fuzzy")


@pytest.mark.parametrize("text", ["a", "ab", "abc", "ab cd", "q 1 zz9", "a b"])
def test_the_encoding_holds_exactly_the_grams_of_the_text(text: str) -> None:
    """Every 1- and 2-character token of the text has its term in the encoded text, and no other does."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE customers (email_fuzzy TEXT, phone_digits TEXT, reference_fuzzy TEXT)")
    conn.execute("INSERT INTO customers VALUES (?, NULL, NULL)", (text,))
    encoded = conn.execute(grams.select("customers")).fetchone()[1]
    conn.close()
    trigrams = {encoded[i : i + 3] for i in range(len(encoded) - 2)}
    words = text.split()
    for token in short_tokens("email_address"):
        present = any(token in word for word in words)
        assert (grams.term(token, "email_fuzzy").strip('"') in trigrams) == present, token
