"""The SQLite store and the seed data: file settings, persistence, closing, the data directory, determinism."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sandbox_support import make_client
from starlette.testclient import TestClient

from square_customers_mcp.sandbox import create_app, default_db_path, grams, search
from square_customers_mcp.sandbox.customer_fields import read_create
from square_customers_mcp.sandbox.customers import create
from square_customers_mcp.sandbox.seed import DEFAULT_MERCHANT_ID, SEEDED_GROUPS, generate
from square_customers_mcp.sandbox.store import SCHEMA_VERSION, Store


def test_file_store_uses_wal_and_full_sync(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "nested" / "sandbox.db"))
    try:
        assert store.read_sync(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
        assert store.write_sync(lambda c: c.execute("PRAGMA synchronous").fetchone()[0]) == 2  # FULL
        indexes = store.read_sync(
            lambda c: {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        )
        assert {"customers_by_email", "customers_by_sort_name", "customers_by_created_at"} <= indexes
    finally:
        store.close()
        store.close()  # closing twice is harmless


def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "sandbox.db")
    first = create_app(path, seed=25)
    first.state.store.close()
    again = create_app(path, seed=25)  # seeds only an empty store
    try:
        count = again.state.store.read_sync(lambda c: c.execute("SELECT count(*) FROM customers").fetchone()[0])
        assert count == 25
        groups = again.state.store.read_sync(
            lambda c: c.execute("SELECT id, name FROM customer_groups_defined").fetchall()
        )
        assert {tuple(row) for row in groups} == set(SEEDED_GROUPS)
    finally:
        again.state.store.close()


def test_closed_store_refuses_work() -> None:
    store = Store()
    store.close()
    with pytest.raises(RuntimeError):
        store.read_sync(lambda c: c.execute("SELECT 1").fetchone())


def test_lifespan_shutdown_closes_the_store() -> None:
    app = create_app()
    with TestClient(app) as http:
        assert http.get("/v2/customers", headers={"Authorization": "Bearer x"}).status_code == 200
    with pytest.raises(RuntimeError):
        app.state.store.read_sync(lambda c: None)


def test_default_db_path_is_in_the_user_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = Path(default_db_path())
    assert path.parent == tmp_path / "data" / "square-customers-mcp" and path.parent.is_dir()
    assert path.name == "sandbox.db"


def test_seed_is_deterministic_and_realistic() -> None:
    first, second = generate(300), generate(300)
    assert first == second
    assert len({customer["id"] for customer, _ in first}) == 300
    for customer, _ in first:
        writable = {
            k: v
            for k, v in customer.items()
            if k not in ("id", "creation_source", "version", "created_at", "updated_at")
        }
        assert read_create(writable) == writable  # every seeded customer passes the sandbox's own validation
        assert customer["updated_at"] >= customer["created_at"]
    assert sum(1 for _, groups in first if groups) > 50
    assert sum(1 for customer, _ in first if "reference_id" in customer) > 50
    assert len({customer["creation_source"] for customer, _ in first}) > 3
    assert len({customer["created_at"][:7] for customer, _ in first}) > 24  # spread over years of months


@pytest.mark.anyio
async def test_seeded_customers_are_listed_and_valid() -> None:
    app = create_app(seed=120)
    try:
        async with make_client(app) as http:
            body = (await http.get("/v2/customers", params={"count": "true"})).json()
            assert body["count"] == 120 and len(body["customers"]) == 100 and "cursor" in body
            assert any("group_ids" in c for c in body["customers"])
            assert any("segment_ids" in c for c in body["customers"])
    finally:
        app.state.store.close()


def test_a_version_3_database_gets_the_short_token_index_on_open(tmp_path: Path) -> None:
    """A version-3 database (trigram index, no short-token index) is filled in when opened, then kept in step."""
    path = str(tmp_path / "v3.db")
    create_app(path, seed=60).state.store.close()
    conn = sqlite3.connect(path)
    for trigger in ("insert", "delete", "update"):
        conn.execute(f"DROP TRIGGER {grams.TABLE}_{trigger}")
    conn.executescript(f"DROP TABLE {grams.TABLE}; PRAGMA user_version = 3;")
    conn.close()

    def short_search(store: Store, token: str) -> tuple[set[str], int]:
        body = {"count": True, "limit": 100, "query": {"filter": {"email_address": {"fuzzy": token}}}}
        found = store.read_sync(lambda c: search.run(c, search.parse_search(body), DEFAULT_MERCHANT_ID))
        return {customer["id"] for customer in found.get("customers", [])}, found["count"]

    store = Store(path)
    try:
        assert store.read_sync(lambda c: c.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION
        rows = store.read_sync(lambda c: c.execute("SELECT id, email_fuzzy FROM customers").fetchall())
        for token in ("q", "z", "x", "7", "ex", "qu", "zz"):
            expected = {row["id"] for row in rows if row["email_fuzzy"] and token in row["email_fuzzy"]}
            assert short_search(store, token) == (expected, len(expected)), token
        made = store.write_sync(
            lambda c: create(c, DEFAULT_MERCHANT_ID, read_create({"email_address": "qj@v3.example"}))
        )
        assert short_search(store, "qj") == ({made["id"]}, 1)  # the triggers are back too
        store.write_sync(
            lambda c: c.execute(f"INSERT INTO {grams.TABLE} ({grams.TABLE}, rank) VALUES ('integrity-check', 0)")
        )
    finally:
        store.close()
    Store(path).close()  # opening it again changes nothing
