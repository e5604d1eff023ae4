"""The short-token index: finds fuzzy query tokens of 1 or 2 characters, which the trigram index cannot.

`customers_grams` is a contentless FTS5 table (trigram tokenizer, `detail=none`: rowids only, no positions) over
an encoded copy of the three fuzzy columns, kept in step by triggers in plain SQL. The encoding puts the
column's marker `<m>` (`:` email, `;` phone, `=` reference id) before each word and after each letter or digit:
`ab 7` in the email becomes `:a:b: :7:`. Its trigrams then include `:a:`, `:b:`, `:7:` (one per character
present) and `a:b` (one per pair of adjacent characters in a word); no other trigram has either shape, as
words are split by a space and markers never stand next to each other. So a 1-character token `c` is in the
column exactly when the index holds `<m>c<m>`, and a 2-character token `cd` exactly when it holds `c<m>d`: one
term each, wherever the token sits in the field, and in a field of 1 or 2 characters too.
"""

from __future__ import annotations

import sqlite3

TABLE = "customers_grams"
# The fuzzy columns (search.py's filters) and their markers: one table serves all three.
MARKERS = {"email_fuzzy": ":", "phone_digits": ";", "reference_fuzzy": "="}
# What the fuzzy columns hold: records.fuzzy_text keeps [0-9a-z] and single spaces; phone_digits only digits.
_DIGITS = "0123456789"
_CHARACTERS = _DIGITS + "abcdefghijklmnopqrstuvwxyz"
# SQLite's parser refuses ~30 nested calls, so the 36 replace() calls are split over a subquery and its caller.
_INNER, _OUTER = _CHARACTERS[:18], _CHARACTERS[18:]


def term(token: str, column: str) -> str:
    """The FTS5 query (one quoted trigram) that finds `token`, of 1 or 2 characters of [0-9a-z], in `column`."""
    marker = MARKERS[column]
    gram = f"{marker}{token}{marker}" if len(token) == 1 else f"{token[0]}{marker}{token[1]}"
    return f'"{gram}"'


def _encode(expression: str, marker: str, characters: str) -> str:
    for character in characters:
        expression = f"replace({expression}, '{character}', '{character}{marker}')"
    return expression


def select(row: str) -> str:
    """`SELECT rowid, grams` for the customer row `row`: `new` or `old` in a trigger, `customers` for every row."""
    inner = ", ".join(
        f"{_encode(f'{row}.{column}', marker, _DIGITS if column == 'phone_digits' else _INNER)} AS {column}"
        for column, marker in MARKERS.items()
    )
    outer = " || ' ' || ".join(
        f"coalesce('{marker}' || replace({_encode(column, marker, '' if column == 'phone_digits' else _OUTER)}, "
        f"' ', ' {marker}'), '')"
        for column, marker in MARKERS.items()
    )
    source = " FROM customers" if row == "customers" else ""
    # A customer with no fuzzy field has no row here: no index work for it (as the delete trigger then knows).
    held = " OR ".join(f"{row}.{column} IS NOT NULL" for column in MARKERS)
    return f"SELECT row_id, {outer} FROM (SELECT {row}.rowid AS row_id, {inner}{source} WHERE {held})"  # noqa: S608


# Kept in step like store.SEARCH_SCHEMA's trigram index. A contentless table forgets a row only when told its
# old text ('delete' with the same values), which the triggers recompute from the old row.
SCHEMA = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(
    grams, content='', detail='none', tokenize='trigram'
);
CREATE TRIGGER IF NOT EXISTS {TABLE}_insert AFTER INSERT ON customers BEGIN
    INSERT INTO {TABLE} (rowid, grams) {select("new")};
END;
CREATE TRIGGER IF NOT EXISTS {TABLE}_delete AFTER DELETE ON customers BEGIN
    INSERT INTO {TABLE} ({TABLE}, rowid, grams) SELECT 'delete', * FROM ({select("old")});
END;
CREATE TRIGGER IF NOT EXISTS {TABLE}_update AFTER UPDATE OF email_fuzzy, phone_digits, reference_fuzzy
    ON customers
    WHEN old.email_fuzzy IS NOT new.email_fuzzy OR old.phone_digits IS NOT new.phone_digits
        OR old.reference_fuzzy IS NOT new.reference_fuzzy
BEGIN
    INSERT INTO {TABLE} ({TABLE}, rowid, grams) SELECT 'delete', * FROM ({select("old")});
    INSERT INTO {TABLE} (rowid, grams) {select("new")};
END;
"""  # noqa: S608 (constant names and the encoding only)


def rebuild(conn: sqlite3.Connection) -> None:
    """Fill the index from the stored customers (inside the caller's transaction), replacing what it held."""
    conn.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('delete-all')")  # noqa: S608
    conn.execute(f"INSERT INTO {TABLE} (rowid, grams) {select('customers')}")
