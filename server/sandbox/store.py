"""The SQLite store: connections, schema, and running work off the event loop.

Writes go through one connection, one at a time (a lock), each in a `BEGIN IMMEDIATE` transaction, so
read-check-write sequences such as version checks are atomic. Reads of a file database borrow a connection
from a small pool (not one per thread: anyio's worker threads come and go) and see the last committed state;
WAL lets them run beside the writer. A `:memory:` database lives in a single connection shared by reads and
writes under the same lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

from square_customers_mcp.sandbox import cursors, grams
from square_customers_mcp.sandbox.ids import now
from square_customers_mcp.sandbox.seed import DEFAULT_MERCHANT_ID, SEEDED_GROUPS, SEEDED_SEGMENTS

T = TypeVar("T")
SCHEMA_VERSION = 4  # 2: every row belongs to a merchant (see _migrate_to_merchants); OAuth tables
# 3: the fuzzy-search index and the customer and member counters (SEARCH_SCHEMA, _build_search_index)
# 4: the index of 1- and 2-character fuzzy tokens (grams.SCHEMA, filled by _build_grams)
# Every merchant-owned table gets this column; rows from before version 2 belong to the default merchant.
MERCHANT_COLUMN = f"merchant_id TEXT NOT NULL DEFAULT '{DEFAULT_MERCHANT_ID}'"

# Merchants and Square OAuth (oauth.py): tokens and codes are kept only as SHA-256 hashes, so the database never
# holds a usable credential. A grant is one authorization (one approval of one app by one merchant); its tokens
# die with it.
OAUTH_SCHEMA = """
CREATE TABLE IF NOT EXISTS merchants (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS oauth_grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    pkce INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS oauth_grants_by_client ON oauth_grants (client_id, merchant_id);
CREATE TABLE IF NOT EXISTS oauth_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    redirect_uri TEXT,
    code_challenge TEXT,
    expires_at REAL NOT NULL,
    grant_id TEXT
);
CREATE TABLE IF NOT EXISTS oauth_tokens (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    expires_at REAL,
    used INTEGER NOT NULL DEFAULT 0,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS oauth_tokens_by_grant ON oauth_tokens (grant_id);
"""

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY,
    {merchant},
    given_name TEXT, family_name TEXT, company_name TEXT, nickname TEXT,
    email_address TEXT, phone_number TEXT, reference_id TEXT, note TEXT, birthday TEXT,
    address TEXT, tax_ids TEXT,
    creation_source TEXT NOT NULL,
    email_unsubscribed INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    sort_name TEXT NOT NULL,
    email_lower TEXT, email_fuzzy TEXT,
    phone_e164 TEXT, phone_digits TEXT,
    reference_lower TEXT, reference_fuzzy TEXT
);
-- The two sort indexes also carry every column a scan filters on (fuzzy text, creation source), so a fuzzy or
-- group search walks one narrow index in sort order and touches the table only for rows that match: at 100,000
-- customers a token found nowhere costs one index pass (~15 ms) instead of 100,000 random row reads (~130 ms).
-- Every query names one merchant, so each index leads with merchant_id: a merchant's rows are one contiguous
-- range, walked in the same order as before.
CREATE INDEX IF NOT EXISTS customers_by_sort_name
    ON customers (merchant_id, sort_name, id, email_fuzzy, phone_digits, reference_fuzzy, creation_source);
CREATE INDEX IF NOT EXISTS customers_by_created_at
    ON customers (merchant_id, created_at, id, email_fuzzy, phone_digits, reference_fuzzy, creation_source);
CREATE INDEX IF NOT EXISTS customers_by_updated_at ON customers (merchant_id, updated_at, id);
CREATE INDEX IF NOT EXISTS customers_by_email ON customers (merchant_id, email_lower);
CREATE INDEX IF NOT EXISTS customers_by_phone ON customers (merchant_id, phone_e164);
CREATE INDEX IF NOT EXISTS customers_by_reference ON customers (merchant_id, reference_lower);
-- A membership filter's count drives from the member list and must check each member's merchant: this keeps
-- that check in an index instead of a table row read per member.
CREATE INDEX IF NOT EXISTS customers_by_id_merchant ON customers (id, merchant_id);

CREATE TABLE IF NOT EXISTS customer_groups_defined (
    id TEXT PRIMARY KEY,
    {merchant},
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS customer_groups_defined_by_merchant ON customer_groups_defined (merchant_id, id);
-- Memberships carry no merchant: a customer and a group of two merchants are never linked (every write checks
-- both under the request's merchant), so the customer's merchant is the membership's.
CREATE TABLE IF NOT EXISTS customer_groups (
    customer_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    PRIMARY KEY (customer_id, group_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS customer_groups_by_group ON customer_groups (group_id, customer_id);

-- Segments are Square's built-in, read-only smart groups: the definitions are seeded on open, memberships by
-- `seed=N`. Same layout as groups, so a segment filter uses the same member-list plans.
CREATE TABLE IF NOT EXISTS customer_segments_defined (
    id TEXT PRIMARY KEY,
    {merchant},
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS customer_segments_defined_by_merchant ON customer_segments_defined (merchant_id, id);
CREATE TABLE IF NOT EXISTS customer_segments (
    customer_id TEXT NOT NULL,
    segment_id TEXT NOT NULL,
    PRIMARY KEY (customer_id, segment_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS customer_segments_by_segment ON customer_segments (segment_id, customer_id);

CREATE TABLE IF NOT EXISTS cards (
    id TEXT PRIMARY KEY,
    {merchant},
    customer_id TEXT NOT NULL,
    card TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cards_by_customer ON cards (customer_id);

CREATE TABLE IF NOT EXISTS idempotency (
    {merchant},
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (merchant_id, key)
);
-- Replays (request_hash not empty) are pruned by age (idempotency.prune); card-nonce records are kept.
CREATE INDEX IF NOT EXISTS idempotency_replays_by_age ON idempotency (created_at) WHERE request_hash != '';

-- Keys the local API makes once per database: `cursor_key` seals cursors (cursors.py).
CREATE TABLE IF NOT EXISTS sandbox_secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
""".replace("{merchant}", MERCHANT_COLUMN)
    + OAUTH_SCHEMA
)

# Search structures kept in step with the tables by triggers, so no write path has to remember them (search.py).
# - customers_fuzzy: an FTS5 trigram index over the three fuzzy columns (external content: the text stays in
#   `customers`, the index holds trigrams keyed by the customer's rowid). A query token of 3 or more characters
#   is a substring of a stored fuzzy text exactly when the text holds all of the token's trigrams in a row, which
#   is what a trigram phrase query finds, so the index answers the same question as `instr()` without a scan.
#   The rowid is the implicit one (`id` is TEXT); SQLite keeps it unless a VACUUM renumbers the table, which the
#   local API never runs (after a manual VACUUM: INSERT INTO customers_fuzzy(customers_fuzzy) VALUES('rebuild'),
#   and grams.rebuild).
#   Tokens of 1 or 2 characters have their own index (grams.SCHEMA, version 4).
# - customer_counts: customers per merchant, for an unfiltered `count`.
# - member_counts: members per group and per segment, for a `count` filtered by one group or segment.
SEARCH_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS customers_fuzzy USING fts5(
    email_fuzzy, phone_digits, reference_fuzzy, content='customers', content_rowid='rowid', tokenize='trigram'
);
CREATE TRIGGER IF NOT EXISTS customers_fuzzy_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customers_fuzzy (rowid, email_fuzzy, phone_digits, reference_fuzzy)
    VALUES (new.rowid, new.email_fuzzy, new.phone_digits, new.reference_fuzzy);
END;
CREATE TRIGGER IF NOT EXISTS customers_fuzzy_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customers_fuzzy (customers_fuzzy, rowid, email_fuzzy, phone_digits, reference_fuzzy)
    VALUES ('delete', old.rowid, old.email_fuzzy, old.phone_digits, old.reference_fuzzy);
END;
CREATE TRIGGER IF NOT EXISTS customers_fuzzy_update AFTER UPDATE OF email_fuzzy, phone_digits, reference_fuzzy
    ON customers
    WHEN old.email_fuzzy IS NOT new.email_fuzzy OR old.phone_digits IS NOT new.phone_digits
        OR old.reference_fuzzy IS NOT new.reference_fuzzy
BEGIN
    INSERT INTO customers_fuzzy (customers_fuzzy, rowid, email_fuzzy, phone_digits, reference_fuzzy)
    VALUES ('delete', old.rowid, old.email_fuzzy, old.phone_digits, old.reference_fuzzy);
    INSERT INTO customers_fuzzy (rowid, email_fuzzy, phone_digits, reference_fuzzy)
    VALUES (new.rowid, new.email_fuzzy, new.phone_digits, new.reference_fuzzy);
END;

CREATE TABLE IF NOT EXISTS customer_counts (
    merchant_id TEXT PRIMARY KEY,
    customers INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS customer_counts_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_counts (merchant_id, customers) VALUES (new.merchant_id, 1)
    ON CONFLICT (merchant_id) DO UPDATE SET customers = customers + 1;
END;
CREATE TRIGGER IF NOT EXISTS customer_counts_delete AFTER DELETE ON customers BEGIN
    UPDATE customer_counts SET customers = customers - 1 WHERE merchant_id = old.merchant_id;
END;

-- kind: 'group' or 'segment'; set_id: the group's or segment's id.
CREATE TABLE IF NOT EXISTS member_counts (
    kind TEXT NOT NULL,
    set_id TEXT NOT NULL,
    members INTEGER NOT NULL,
    PRIMARY KEY (kind, set_id)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS member_counts_group_insert AFTER INSERT ON customer_groups BEGIN
    INSERT INTO member_counts (kind, set_id, members) VALUES ('group', new.group_id, 1)
    ON CONFLICT (kind, set_id) DO UPDATE SET members = members + 1;
END;
CREATE TRIGGER IF NOT EXISTS member_counts_group_delete AFTER DELETE ON customer_groups BEGIN
    UPDATE member_counts SET members = members - 1 WHERE kind = 'group' AND set_id = old.group_id;
END;
CREATE TRIGGER IF NOT EXISTS member_counts_segment_insert AFTER INSERT ON customer_segments BEGIN
    INSERT INTO member_counts (kind, set_id, members) VALUES ('segment', new.segment_id, 1)
    ON CONFLICT (kind, set_id) DO UPDATE SET members = members + 1;
END;
CREATE TRIGGER IF NOT EXISTS member_counts_segment_delete AFTER DELETE ON customer_segments BEGIN
    UPDATE member_counts SET members = members - 1 WHERE kind = 'segment' AND set_id = old.segment_id;
END;
"""


def _build_search_index(conn: sqlite3.Connection) -> None:
    """Fill the version-3 search structures from the rows already stored (a no-op's worth of work when new)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("INSERT INTO customers_fuzzy (customers_fuzzy) VALUES ('rebuild')")
        conn.execute("DELETE FROM customer_counts")
        conn.execute(
            "INSERT INTO customer_counts (merchant_id, customers) "
            "SELECT merchant_id, count(*) FROM customers GROUP BY merchant_id"
        )
        conn.execute("DELETE FROM member_counts")
        conn.execute(
            "INSERT INTO member_counts (kind, set_id, members) "
            "SELECT 'group', group_id, count(*) FROM customer_groups GROUP BY group_id"
        )
        conn.execute(
            "INSERT INTO member_counts (kind, set_id, members) "
            "SELECT 'segment', segment_id, count(*) FROM customer_segments GROUP BY segment_id"
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _build_grams(conn: sqlite3.Connection) -> None:
    """Fill the version-4 short-token index from the rows already stored."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        grams.rebuild(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# Index definitions that changed in version 2 (merchant_id first): dropped on migration, made again by SCHEMA.
_REINDEXED = (
    "customers_by_sort_name",
    "customers_by_created_at",
    "customers_by_updated_at",
    "customers_by_email",
    "customers_by_phone",
    "customers_by_reference",
)


def _migrate_to_merchants(conn: sqlite3.Connection) -> None:
    """A version-1 database (one merchant, no merchant_id) becomes the default merchant's store, in place."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(customers)")}
    if not columns or "merchant_id" in columns:
        return  # a new database, or one already migrated
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table in ("customers", "customer_groups_defined", "customer_segments_defined", "cards"):
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {MERCHANT_COLUMN}")
        for index in _REINDEXED:
            conn.execute(f"DROP INDEX IF EXISTS {index}")
        # The key alone was the primary key; now (merchant, key) is, which needs a new table.
        conn.execute("ALTER TABLE idempotency RENAME TO idempotency_v1")
        conn.execute(
            f"CREATE TABLE idempotency ({MERCHANT_COLUMN}, key TEXT NOT NULL, request_hash TEXT NOT NULL, "
            "response TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (merchant_id, key))"
        )
        conn.execute(
            "INSERT INTO idempotency (key, request_hash, response, created_at) "
            "SELECT key, request_hash, response, created_at FROM idempotency_v1"
        )
        conn.execute("DROP TABLE idempotency_v1")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class StoreOpenError(Exception):
    """The database file can't be created, opened or written (a missing or read-only folder, not a database)."""


class Store:
    """The sandbox's database. Close it with `close()` (the app also closes it on ASGI shutdown)."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.in_memory = path == ":memory:"
        self._write_lock = threading.Lock()
        self._readers: list[sqlite3.Connection] = []  # every reader connection made, to close them all
        self._idle_readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self._open()

    def _open(self) -> None:
        """The writer, with the schema in place; a path that can't be a writable database is a StoreOpenError."""
        writer: sqlite3.Connection | None = None
        try:
            if not self.in_memory:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            writer = self._writer = self._connect()
            # A database without the customers table is new: only a new one gets the built-in groups, so a
            # built-in group its user deleted stays deleted when the database is opened again.
            new = writer.execute("SELECT 1 FROM sqlite_master WHERE name = 'customers'").fetchone() is None
            _migrate_to_merchants(writer)
            version = writer.execute("PRAGMA user_version").fetchone()[0]
            writer.executescript(SCHEMA + SEARCH_SCHEMA + grams.SCHEMA)
            if version < 3:
                _build_search_index(writer)
            if version < 4:
                _build_grams(writer)
            writer.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._seed_definitions(new)
        except (OSError, sqlite3.Error) as error:
            if writer is not None:
                writer.close()
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise StoreOpenError(f"cannot open the local API database {self.path}: {reason}") from None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        conn.row_factory = sqlite3.Row
        try:
            if not self.in_memory:
                conn.execute("PRAGMA journal_mode = WAL")
                # FULL, not NORMAL: in WAL mode NORMAL already survives a killed process (the WAL is in the OS
                # cache), but only FULL fsyncs the WAL at every commit, so an answered 200 also survives a power
                # cut or OS crash. The cost is one fsync per write transaction (a bulk call is one transaction).
                conn.execute("PRAGMA synchronous = FULL")
                # 64 MiB of page cache instead of SQLite's 2 MB: at 100,000 customers the table alone is ~40 MB,
                # and a search that reads a few thousand rows by rowid, or a member list, otherwise goes back to
                # the OS for most pages (2-3x slower). It fills only as pages are read.
                conn.execute("PRAGMA cache_size = -65536")
            conn.execute("PRAGMA foreign_keys = OFF")
        except sqlite3.Error:
            conn.close()  # e.g. a file that is not a database: don't leak the handle
            raise
        return conn

    def _seed_definitions(self, new: bool) -> None:
        """The built-in segments (read-only, so always all there), the built-in groups in a `new` database (they
        can be deleted), and the cursor key; INSERT OR IGNORE keeps a reopened file's rows (and their stamps)."""
        stamp = now()
        with self._write_lock:
            self._writer.execute(
                "INSERT OR IGNORE INTO merchants (id, created_at) VALUES (?, ?)", (DEFAULT_MERCHANT_ID, stamp)
            )
            cursors.ensure_key(self._writer)
            builtins: list[tuple[str, tuple[tuple[str, str], ...]]] = [("customer_segments_defined", SEEDED_SEGMENTS)]
            if new:
                builtins.append(("customer_groups_defined", SEEDED_GROUPS))
            for table, seeded in builtins:
                self._writer.executemany(
                    f"INSERT OR IGNORE INTO {table} (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",  # noqa: S608
                    [(row_id, name, stamp, stamp) for row_id, name in seeded],
                )

    def _borrow_reader(self) -> sqlite3.Connection:
        with self._readers_lock:
            if self._idle_readers:
                return self._idle_readers.pop()
        conn = self._connect()
        conn.execute("PRAGMA query_only = ON")
        with self._readers_lock:
            self._readers.append(conn)
        return conn

    def _return_reader(self, conn: sqlite3.Connection) -> None:
        with self._readers_lock:
            if not self._closed:
                self._idle_readers.append(conn)

    # Synchronous forms, for setup code and worker threads.

    def write_sync(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in one write transaction; any exception rolls it back and propagates."""
        with self._write_lock:
            self._check_open()
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

    def read_sync(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in one read transaction (one consistent snapshot)."""
        if self.in_memory:
            with self._write_lock:
                self._check_open()
                return self._in_snapshot(self._writer, work)
        self._check_open()
        conn = self._borrow_reader()
        try:
            return self._in_snapshot(conn, work)
        finally:
            self._return_reader(conn)

    @staticmethod
    def _in_snapshot(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
        conn.execute("BEGIN")
        try:
            return work(conn)
        finally:
            conn.execute("COMMIT")

    # Async forms, for request handlers: the SQLite work runs in a worker thread.

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self.write_sync, work)

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self.read_sync, work)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the sandbox store is closed")

    def close(self) -> None:
        """Close every connection; safe to call twice. Checkpoints the WAL into the main file."""
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            with self._readers_lock:
                readers, self._readers, self._idle_readers = self._readers, [], []
            for conn in readers:
                conn.close()
            if not self.in_memory:
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._writer.close()
