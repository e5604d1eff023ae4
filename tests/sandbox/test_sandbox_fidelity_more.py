"""Fidelity to Square (issue 12, the rest): opaque cursors, built-in groups only in new databases, idempotency
keys reported as sent and kept for a retention window, and start-up lines that say what seeding did."""

from __future__ import annotations

import base64
import binascii
import bz2
import contextlib
import gzip
import json
import logging
import lzma
import os
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from oauth_support import APPS, MERCHANT_A, MERCHANT_B, bearer, token_for
from sandbox_support import BASE_URL, error_of, make_client, make_customer
from starlette.applications import Starlette

from square_customers_mcp.sandbox import create_app, cursors, idempotency
from square_customers_mcp.sandbox.seed import (
    DEFAULT_MERCHANT_ID,
    NEWSLETTER_GROUP_ID,
    VIP_GROUP_ID,
    WHOLESALE_GROUP_ID,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def file_db(tmp_path: Path) -> str:
    return str(tmp_path / "customers.db")


@pytest.fixture
def opened(file_db: str) -> Iterator[Callable[..., Starlette]]:
    """Open the file database as an app (closing every app opened at the end)."""
    apps: list[Starlette] = []

    def open_app(**options: Any) -> Starlette:
        app = create_app(file_db, **options)
        apps.append(app)
        return app

    yield open_app
    for app in apps:
        app.state.store.close()


# --- 1. Opaque cursors ---

# Customers whose sort keys are their name, their company, their email and their phone: each kind of key a cursor
# used to carry.
PEOPLE: list[dict[str, str]] = [
    {"given_name": "Quenby", "family_name": "Zyzzyva", "email_address": "quenby.zyzzyva@example.com"},
    {"company_name": "Xylophagous Widgets", "phone_number": "+1-415-555-0199"},
    {"email_address": "wolfgang.qxj@example.org"},
    {"phone_number": "+1-212-555-0147"},
    {"given_name": "Yvaine", "family_name": "Kettleborough", "reference_id": "CRM-7788"},
]


def _secrets_of(customers: list[dict[str, Any]]) -> set[str]:
    """Every piece of customer data a cursor might leak, as lower-case text (and the digits of phones)."""
    found: set[str] = set()
    for customer in customers:
        for field in ("id", "given_name", "family_name", "company_name", "email_address", "phone_number",
                      "reference_id"):  # fmt: skip
            if field in customer:
                value = str(customer[field]).lower()
                found.add(value)
                found.update(part for part in value.replace("@", " ").replace(".", " ").split() if len(part) >= 4)
        if "phone_number" in customer:
            digits = "".join(ch for ch in customer["phone_number"] if ch.isdigit())
            found.update((digits, digits[-10:], digits[-7:]))
        names = " ".join(customer[f] for f in ("given_name", "family_name") if f in customer)
        if names:
            found.add(names.lower())
    return found


def _readings(cursor: str) -> list[bytes]:
    """The cursor as text and decoded every way we can think of: base64 (both alphabets, any padding), base32,
    base16, base85, ascii85, then each of those decompressed by zlib, gzip, bz2 and lzma where that works."""
    padded = cursor + "=" * (-len(cursor) % 4)
    decoders: list[Callable[[], bytes]] = [
        lambda: base64.urlsafe_b64decode(padded),
        lambda: base64.b64decode(padded.replace("-", "+").replace("_", "/")),
        lambda: base64.b64decode(padded, validate=False),
        lambda: base64.b32decode(cursor.upper() + "=" * (-len(cursor) % 8)),
        lambda: base64.b16decode(cursor.upper()),
        lambda: base64.b85decode(cursor),
        lambda: base64.a85decode(cursor),
    ]
    blobs = [cursor.encode()]
    for decode in decoders:
        with contextlib.suppress(ValueError, binascii.Error):
            blobs.append(decode())
    for blob in list(blobs):
        for decompress in (zlib.decompress, gzip.decompress, bz2.decompress, lzma.decompress):
            try:
                blobs.append(decompress(blob))
            except Exception:  # not that format: nothing to read
                continue
    return blobs


def _texts(blob: bytes) -> list[str]:
    texts = [blob.decode("latin-1").lower(), blob.decode("utf-8", "ignore").lower()]
    for encoding in ("utf-16-le", "utf-16-be"):
        texts.append(blob.decode(encoding, "ignore").lower())
    return texts


def _leaks(cursor: str, secrets: set[str]) -> set[str]:
    return {secret for blob in _readings(cursor) for text in _texts(blob) for secret in secrets if secret in text}


async def _walk(client: httpx.AsyncClient, kind: str, **query: Any) -> tuple[list[str], list[str]]:
    """Every page of a list or search at limit 1: (customer ids in order, cursors)."""
    ids: list[str] = []
    seen_cursors: list[str] = []
    cursor: str | None = None
    while True:
        if kind == "list":
            params = {"limit": 1, **query, **({"cursor": cursor} if cursor else {})}
            body = (await client.get("/v2/customers", params=params)).json()
        else:
            payload = {"limit": 1, **query, **({"cursor": cursor} if cursor else {})}
            body = (await client.post("/v2/customers/search", json=payload)).json()
        ids += [customer["id"] for customer in body.get("customers", [])]
        cursor = body.get("cursor")
        if not cursor:
            return ids, seen_cursors
        seen_cursors.append(cursor)


async def test_a_cursor_carries_no_customer_data_however_it_is_decoded(client: httpx.AsyncClient) -> None:
    made = [await make_customer(client, **person) for person in PEOPLE]
    secrets = _secrets_of(made) | {"quenby.zyzzyva@example.com", "+14155550199"}
    assert "quenby zyzzyva" in secrets and "4155550199" in secrets and made[0]["id"].lower() in secrets
    walks = [
        await _walk(client, "list"),
        await _walk(client, "list", sort_field="CREATED_AT", sort_order="DESC"),
        # The filter's own values were hashed into the cursor: a filter names customer data too.
        await _walk(client, "search", query={"filter": {"email_address": {"fuzzy": "example"}}}),
        await _walk(client, "search", query={"filter": {"phone_number": {"fuzzy": "555"}}}),
    ]
    assert sorted(walks[0][0]) == sorted(c["id"] for c in made)  # the walk still returns everyone once
    every_cursor = [cursor for _, found in walks for cursor in found]
    assert len(every_cursor) == sum(len(ids) - 1 for ids, _ in walks) == 4 + 4 + 1 + 1
    for cursor in every_cursor:
        assert _leaks(cursor, secrets) == set(), cursor


async def test_a_cursors_length_does_not_follow_the_sort_key(client: httpx.AsyncClient) -> None:
    for name in ("Al", "Bartholomew-Maximilian Featherstonehaugh-Cholmondeley"):
        await make_customer(client, given_name=name)
        await make_customer(client, given_name=name + "z")
    short = (await client.get("/v2/customers", params={"limit": 1})).json()["cursor"]
    page = await client.get("/v2/customers", params={"limit": 3})
    long = page.json()["cursor"]  # after the third customer, the long name
    assert len(short) == len(long)


async def test_an_old_style_readable_cursor_is_refused(client: httpx.AsyncClient) -> None:
    """A cursor anyone could write (base64 JSON with the sort key, id and the query's fingerprint) used to work."""
    for i in range(3):
        await make_customer(client, given_name=f"C{i}")
    mark = cursors.fingerprint([cursors.fingerprint(["list", "DEFAULT", "ASC"]), DEFAULT_MERCHANT_ID])
    forged = base64.urlsafe_b64encode(json.dumps(["c0", "0", mark]).encode()).decode().rstrip("=")
    response = await client.get("/v2/customers", params={"cursor": forged})
    assert response.status_code == 400 and error_of(response)["code"] == "INVALID_CURSOR"


async def test_a_tampered_cursor_is_refused(client: httpx.AsyncClient) -> None:
    for i in range(3):
        await make_customer(client, given_name=f"C{i}")
    cursor = (await client.get("/v2/customers", params={"limit": 1})).json()["cursor"]
    middle = len(cursor) // 2
    tampered = cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]
    for bad in (tampered, cursor[:-4], cursor + "AAAA", "x" * 5000, "é" + cursor):
        response = await client.get("/v2/customers", params={"limit": 1, "cursor": bad})
        assert response.status_code == 400 and error_of(response) == {
            "category": "INVALID_REQUEST_ERROR", "code": "INVALID_CURSOR", "detail": "The cursor is not valid.",
            "field": "cursor",
        }  # fmt: skip
    assert (await client.get("/v2/customers", params={"limit": 1, "cursor": cursor})).status_code == 200


async def test_cursors_keep_their_query_and_keyset_guarantees(client: httpx.AsyncClient) -> None:
    """Each customer present throughout is returned once, whatever is added or deleted between pages, and a
    cursor is refused by any other query."""
    present = [await make_customer(client, given_name=f"Keep{i:02d}") for i in range(12)]
    doomed = [await make_customer(client, given_name=f"Keep{i:02d}x") for i in range(0, 12, 3)]
    ids: list[str] = []
    cursor: str | None = None
    step = 0
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/v2/customers", params=params)).json()
        ids += [customer["id"] for customer in body.get("customers", [])]
        cursor = body.get("cursor")
        if not cursor:
            break
        if step < len(doomed):
            assert (await client.delete(f"/v2/customers/{doomed[step]['id']}")).status_code == 200
        await make_customer(client, given_name=f"Keep{step:02d}new")  # lands before and after the position
        other = await client.get("/v2/customers", params={"limit": 4, "cursor": cursor, "sort_field": "CREATED_AT"})
        assert other.status_code == 400 and "different query" in error_of(other)["detail"]
        step += 1
    kept = [customer["id"] for customer in present]
    assert all(ids.count(customer_id) == 1 for customer_id in kept)
    assert len(ids) == len(set(ids))


async def test_another_merchants_cursor_is_refused() -> None:
    app = create_app(":memory:", oauth_apps=APPS)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as plain:
            a = bearer((await token_for(plain, MERCHANT_A))["access_token"])
            b = bearer((await token_for(plain, MERCHANT_B))["access_token"])
        async with make_client(app) as client:
            for merchant in (a, b):
                for i in range(3):
                    created = await client.post("/v2/customers", json={"given_name": f"C{i}"}, headers=merchant)
                    assert created.status_code == 200
            cursor = (await client.get("/v2/customers", params={"limit": 1}, headers=a)).json()["cursor"]
            assert (await client.get("/v2/customers", params={"cursor": cursor}, headers=a)).status_code == 200
            crossed = await client.get("/v2/customers", params={"cursor": cursor}, headers=b)
            assert crossed.status_code == 400 and error_of(crossed)["code"] == "INVALID_CURSOR"
            groups = (await client.get("/v2/customers/segments", params={"limit": 1}, headers=a)).json()["cursor"]
            crossed = await client.get("/v2/customers/segments", params={"cursor": groups}, headers=b)
            assert crossed.status_code == 400 and error_of(crossed)["code"] == "INVALID_CURSOR"
    finally:
        app.state.store.close()


async def test_a_cursor_expires_after_its_lifetime(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(3):
        await make_customer(client, given_name=f"C{i}")
    cursor = (await client.get("/v2/customers", params={"limit": 1})).json()["cursor"]
    issued = time.time()
    monkeypatch.setattr(cursors, "clock", lambda: issued + cursors.LIFETIME - 60)
    assert (await client.get("/v2/customers", params={"cursor": cursor})).status_code == 200
    monkeypatch.setattr(cursors, "clock", lambda: issued + cursors.LIFETIME + 60)
    expired = await client.get("/v2/customers", params={"cursor": cursor})
    assert expired.status_code == 400
    assert error_of(expired)["code"] == "INVALID_CURSOR" and "expired" in error_of(expired)["detail"]


async def test_a_cursor_outlives_a_restart_but_not_a_change_of_database(
    opened: Callable[..., Starlette], tmp_path: Path
) -> None:
    async with make_client(opened()) as client:
        for i in range(4):
            await make_customer(client, given_name=f"C{i}")
        cursor = (await client.get("/v2/customers", params={"limit": 2})).json()["cursor"]
    async with make_client(opened()) as client:  # the same file, opened again: the same cursor key
        page = await client.get("/v2/customers", params={"limit": 2, "cursor": cursor})
        assert [c["given_name"] for c in page.json()["customers"]] == ["C2", "C3"]
    other = create_app(str(tmp_path / "other.db"))
    try:
        async with make_client(other) as client:
            response = await client.get("/v2/customers", params={"cursor": cursor})
            assert response.status_code == 400 and error_of(response)["code"] == "INVALID_CURSOR"
    finally:
        other.state.store.close()


# --- 2. Built-in groups only in new databases ---


async def _group_ids(app: Starlette) -> set[str]:
    async with make_client(app) as client:
        return {group["id"] for group in (await client.get("/v2/customers/groups")).json().get("groups", [])}


async def test_a_deleted_built_in_group_stays_deleted_after_a_restart(opened: Callable[..., Starlette]) -> None:
    first = opened()
    assert await _group_ids(first) >= {VIP_GROUP_ID, NEWSLETTER_GROUP_ID, WHOLESALE_GROUP_ID}
    async with make_client(first) as client:
        assert (await client.delete(f"/v2/customers/groups/{VIP_GROUP_ID}")).status_code == 200
    first.state.store.close()
    again = opened()
    assert await _group_ids(again) == {NEWSLETTER_GROUP_ID, WHOLESALE_GROUP_ID}
    again.state.store.close()
    assert await _group_ids(opened()) == {NEWSLETTER_GROUP_ID, WHOLESALE_GROUP_ID}


async def test_the_built_in_segments_are_still_there_after_a_restart(opened: Callable[..., Starlette]) -> None:
    opened().state.store.close()
    async with make_client(opened()) as client:
        assert len((await client.get("/v2/customers/segments")).json()["segments"]) == 4


# --- 3. Idempotency keys reported as sent ---


async def test_a_reused_key_is_reported_as_the_caller_sent_it(client: httpx.AsyncClient) -> None:
    assert (await client.post("/v2/customers", json={"given_name": "A", "idempotency_key": "k1"})).status_code == 200
    reused = await client.post("/v2/customers", json={"given_name": "B", "idempotency_key": "k1"})
    error = error_of(reused)
    assert error["code"] == "IDEMPOTENCY_KEY_REUSED" and error["field"] == "idempotency_key"
    assert error["detail"] == "The idempotency key `k1` was already used with a different request."

    bulk = await client.post("/v2/customers/bulk-create", json={"customers": {"k1": {"given_name": "C"}}})
    assert bulk.json()["responses"]["k1"]["errors"][0]["detail"] == (
        "The idempotency key `k1` was already used with a different request."
    )

    body = {"group": {"name": "Regulars"}, "idempotency_key": "g1"}
    assert (await client.post("/v2/customers/groups", json=body)).status_code == 200
    reused = await client.post("/v2/customers/groups", json={**body, "group": {"name": "Other"}})
    assert error_of(reused)["detail"] == "The idempotency key `g1` was already used with a different request."


# --- 4. Idempotency retention ---


def _at(monkeypatch: pytest.MonkeyPatch, offset: timedelta) -> None:
    moment = datetime.now(UTC) + offset
    monkeypatch.setattr(idempotency, "clock", lambda: moment)


async def test_a_key_replays_within_the_retention_window_and_is_new_after_it(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"given_name": "Ada", "idempotency_key": "day-one"}
    first = (await client.post("/v2/customers", json=body)).json()["customer"]
    _at(monkeypatch, idempotency.RETENTION - timedelta(minutes=5))
    assert (await client.post("/v2/customers", json=body)).json()["customer"] == first
    _at(monkeypatch, idempotency.RETENTION + timedelta(minutes=5))
    other = await client.post("/v2/customers", json={**body, "given_name": "Grace"})  # no longer "reused"
    assert other.status_code == 200 and other.json()["customer"]["id"] != first["id"]


def _idempotency_rows(app: Starlette) -> list[tuple[str, str]]:
    rows = app.state.store.read_sync(lambda c: c.execute("SELECT key, created_at FROM idempotency").fetchall())
    return [(row[0], row[1]) for row in rows]


async def test_old_replays_are_pruned_a_bounded_batch_per_write(app: Starlette, client: httpx.AsyncClient) -> None:
    old = (datetime.now(UTC) - idempotency.RETENTION - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def backdate(conn: Any) -> None:
        conn.executemany(
            "INSERT INTO idempotency (merchant_id, key, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)",
            [(DEFAULT_MERCHANT_ID, f"customer:old{i}", "h", "{}", old) for i in range(25)]
            + [(DEFAULT_MERCHANT_ID, "card-nonce:C:cnon:card-nonce-ok", "", '{"card_id": "x"}', old)],
        )

    app.state.store.write_sync(backdate)
    counts = []
    for i in range(4):
        created = await client.post("/v2/customers", json={"given_name": f"N{i}", "idempotency_key": f"new{i}"})
        assert created.status_code == 200
        counts.append(sum(1 for key, _ in _idempotency_rows(app) if key.startswith("customer:old")))
    assert idempotency.PRUNE_BATCH == 10
    assert counts == [15, 5, 0, 0]
    keys = {key for key, _ in _idempotency_rows(app)}
    assert keys == {f"customer:new{i}" for i in range(4)} | {"card-nonce:C:cnon:card-nonce-ok"}


def test_pruning_walks_the_age_index_not_the_table(app: Starlette) -> None:
    plan = app.state.store.read_sync(
        lambda c: " ".join(
            row[3]
            for row in c.execute(
                "EXPLAIN QUERY PLAN SELECT rowid FROM idempotency INDEXED BY idempotency_replays_by_age "
                "WHERE request_hash != '' AND created_at < ? ORDER BY created_at LIMIT 100",
                ("2025-01-01T00:00:00.000Z",),
            )
        )
    )
    assert "idempotency_replays_by_age" in plan and "TEMP B-TREE" not in plan


# --- 5. Start-up lines that say what seeding did ---


def test_seeding_says_what_it_did_and_what_the_database_holds(opened: Callable[..., Starlette]) -> None:
    first = opened(seed=5)
    assert first.state.seeding.describe() == "seeded 5 customers; the database holds 5 customers"
    first.state.store.close()
    again = opened(seed=200)
    assert again.state.seeding.describe() == (
        "seeded no customers: the database already holds 5 customers; --seed fills only an empty one; "
        "use --db to start a new one"
    )
    again.state.store.close()
    assert opened().state.seeding.describe() == "the database holds 5 customers"


@pytest.fixture
def sandbox_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Callable[[list[str]], int], list[logging.LogRecord]]]:
    """`cli.main` for the `sandbox` command, which opens the database and logs its start-up line but serves nothing;
    the records logged."""
    from square_customers_mcp import cli, http_server

    for name in [name for name in os.environ if name.startswith("SQUARE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)

    async def no_serving(*args: object) -> None:
        return None

    monkeypatch.setattr(http_server, "serve_http", no_serving)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("square_customers_mcp")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield cli.main, records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_the_sandbox_command_says_how_many_it_seeded_or_why_none(
    sandbox_lines: tuple[Callable[[list[str]], int], list[logging.LogRecord]], file_db: str
) -> None:
    main, records = sandbox_lines
    assert main(["sandbox", "--db", file_db, "--seed", "3"]) == 0
    line = records[-1]
    assert line.levelno == logging.INFO
    assert line.getMessage().endswith(f"data in {file_db}; seeded 3 customers; the database holds 3 customers")
    assert main(["sandbox", "--db", file_db, "--seed", "200"]) == 0
    line = records[-1]
    assert line.levelno == logging.WARNING
    assert line.getMessage().endswith(
        "seeded no customers: the database already holds 3 customers; --seed fills only an empty one; "
        "use --db to start a new one"
    )
    assert main(["sandbox", "--db", file_db]) == 0
    assert records[-1].getMessage().endswith("; the database holds 3 customers")


async def test_the_mcp_servers_local_api_says_how_many_customers_it_holds(file_db: str) -> None:
    from square_customers_mcp.backend import open_backend
    from square_customers_mcp.config import Settings

    create_app(file_db, seed=1).state.store.close()
    async with open_backend(Settings.from_env({"SQUARE_SANDBOX_DB": file_db})) as backend:
        assert backend.description.endswith(f"data in {file_db}; the database holds 1 customer")
