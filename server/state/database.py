"""The two databases the shared state can live in, behind one tiny interface: SQLite (one instance, nothing to
set up) and PostgreSQL (several replicas). Statements are written once, with `?` placeholders, in the SQL both
understand (INSERT ... ON CONFLICT, UPDATE/DELETE ... RETURNING); each runs as its own transaction, so every
state change the OAuth flow makes is one atomic statement and any replica can make it."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import anyio

Row = tuple[Any, ...]
Migrations = Sequence[Sequence[str]]
"""Schema version N+1 is reached by running migrations[N]'s statements, in one transaction."""


class StateOpenError(Exception):
    """The state database can't be opened or migrated; the message says what to fix."""


class Database(Protocol):
    description: str
    """For the start-up line and /readyz: the kind and where, never a password."""

    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; how many rows it changed."""
        ...

    async def migrate(self, migrations: Migrations) -> int:
        """Bring the schema up to date, safely when several replicas start together; the version reached."""
        ...

    async def close(self) -> None: ...


class SQLiteDatabase:
    """One connection, used from worker threads one statement at a time (sqlite3 is blocking)."""

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: autocommit, so each statement is its own transaction.
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA busy_timeout = 5000")
        except sqlite3.Error as error:
            raise StateOpenError(f"cannot open the state database {path}: {error}") from None
        self._lock = threading.Lock()
        self.description = f"SQLite at {path}"

    def _run(self, sql: str, args: Sequence[Any]) -> tuple[list[Row], int]:
        with self._lock:
            cursor = self._conn.execute(sql, args)
            rows = cursor.fetchall()
            return rows, cursor.rowcount

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        rows, _ = await anyio.to_thread.run_sync(self._run, sql, args)
        return rows

    async def execute(self, sql: str, *args: Any) -> int:
        _, count = await anyio.to_thread.run_sync(self._run, sql, args)
        return count

    def _migrate(self, migrations: Migrations) -> int:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")  # one writer: a second process waits, then sees the new version
            try:
                version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
                for statements in migrations[version:]:
                    for statement in statements:
                        self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {len(migrations)}")
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            return max(version, len(migrations))

    async def migrate(self, migrations: Migrations) -> int:
        try:
            return await anyio.to_thread.run_sync(self._migrate, migrations)
        except sqlite3.Error as error:
            raise StateOpenError(f"cannot prepare the state database ({self.description}): {error}") from None

    async def close(self) -> None:
        self._conn.close()


_PLACEHOLDER = re.compile(r"\?")
_MIGRATION_LOCK = 0x5C0A11  # any constant: the advisory lock all replicas take while migrating


def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...` (our statements have no `?` inside literals)."""
    counter = iter(range(1, 1000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


class PostgresDatabase:
    """A pool of asyncpg connections."""

    def __init__(self, pool: Any, description: str) -> None:
        self._pool = pool
        self.description = description

    @classmethod
    async def connect(cls, url: str) -> PostgresDatabase:
        try:
            import asyncpg
        except ImportError:
            raise StateOpenError(
                "SQUARE_MCP_STATE_URL names PostgreSQL, which needs the `postgres` extra: "
                "pip install 'square-customers-mcp[postgres]'"
            ) from None
        where = _where(url)
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=10, command_timeout=10)
        except (OSError, asyncpg.PostgresError, ValueError) as error:
            raise StateOpenError(f"cannot connect to the state database (PostgreSQL at {where}): {error}") from None
        return cls(pool, f"PostgreSQL at {where}")

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return [tuple(record) for record in await self._pool.fetch(_numbered(sql), *args)]

    async def execute(self, sql: str, *args: Any) -> int:
        status: str = await self._pool.execute(_numbered(sql), *args)
        return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0  # "UPDATE 1", "INSERT 0 1"

    async def migrate(self, migrations: Migrations) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute("CREATE TABLE IF NOT EXISTS mcp_schema (version INTEGER NOT NULL)")
            version = int(await conn.fetchval("SELECT max(version) FROM mcp_schema") or 0)
            for statements in migrations[version:]:
                for statement in statements:
                    await conn.execute(statement)
            if version < len(migrations):
                await conn.execute("INSERT INTO mcp_schema (version) VALUES ($1)", len(migrations))
            return max(version, len(migrations))

    async def close(self) -> None:
        await self._pool.close()


def _where(url: str) -> str:
    """host:port/database of a postgresql:// URL, without user or password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path or '/'}"
