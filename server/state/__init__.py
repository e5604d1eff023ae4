"""Shared state for OAuth mode: SQLite by default, PostgreSQL (SQUARE_MCP_STATE_URL) for several replicas."""

from __future__ import annotations

from square_customers_mcp.state.database import Database, PostgresDatabase, SQLiteDatabase, StateOpenError
from square_customers_mcp.state.sealing import Sealer
from square_customers_mcp.state.store import StateStore

__all__ = ["StateOpenError", "StateStore", "open_database", "open_state"]


async def open_database(url: str) -> Database:
    """`sqlite:///path` (or `sqlite:///:memory:`) or `postgresql://user:password@host:port/database`."""
    if url.startswith(("postgresql://", "postgres://")):
        return await PostgresDatabase.connect(url)
    if url.startswith("sqlite:///"):
        return SQLiteDatabase(url.removeprefix("sqlite:///"))
    raise StateOpenError("SQUARE_MCP_STATE_URL must start with sqlite:/// or postgresql://")


async def open_state(url: str, keys: str) -> StateStore:
    """The store, its schema brought up to date."""
    db = await open_database(url)
    try:
        store = StateStore(db, Sealer(keys))
        await store.migrate()
    except BaseException:
        await db.close()
        raise
    return store
