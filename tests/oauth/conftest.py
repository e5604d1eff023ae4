"""Fixtures for OAuth mode's state: a fresh state store on SQLite, and on PostgreSQL when the `postgres` tests run
(`.ci/run` starts a server with .ci/postgres.sh and sets SQUARE_MCP_TEST_POSTGRES_URL; `pytest -m postgres`)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from square_customers_mcp.state import StateStore, open_state
from square_customers_mcp.state.database import Database

POSTGRES_ENV = "SQUARE_MCP_TEST_POSTGRES_URL"
OpenStore = Callable[[], Awaitable[StateStore]]


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "")
    if not url:  # selected on purpose (-m postgres) without a server: a failure, never a silent skip
        pytest.fail(f"the postgres tests need {POSTGRES_ENV} (start a server with .ci/postgres.sh start DIR)")
    return url


async def reset_postgres(url: str) -> None:
    """Drop what a previous test left, so each starts from an empty database."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "DROP TABLE IF EXISTS mcp_schema, mcp_clients, mcp_grants, mcp_tokens, mcp_secrets, mcp_spent CASCADE"
        )
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url = postgres_url()
    await reset_postgres(url)
    return url


@pytest.fixture
def state_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
async def open_store(state_url: str, state_key: str) -> AsyncIterator[OpenStore]:
    """Opens stores ("replicas") on one database; all are closed at teardown."""
    opened: list[Database] = []

    async def open_one() -> StateStore:
        store = await open_state(state_url, state_key)
        opened.append(store.db)
        return store

    yield open_one
    for db in opened:
        await db.close()
