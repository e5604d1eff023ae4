"""One store per merchant: no read or write of any endpoint crosses from one merchant to another."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from oauth_support import APPS, MERCHANT_A, MERCHANT_B, bearer, token_for
from sandbox_support import BASE_URL, error_of, make_client
from starlette.applications import Starlette

from square_customers_mcp.sandbox import create_app
from square_customers_mcp.sandbox.routes import ROUTES
from square_customers_mcp.sandbox.seed import VIP_GROUP_ID
from square_customers_mcp.sandbox.store import SCHEMA_VERSION, Store

pytestmark = pytest.mark.anyio


@pytest.fixture
def oauth_app() -> Iterator[Starlette]:
    application = create_app(":memory:", oauth_apps=APPS)
    yield application
    application.state.store.close()


@pytest.fixture
async def merchants(oauth_app: Starlette) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], dict[str, str]]]:
    """(a checked client, merchant A's headers, merchant B's headers)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=oauth_app), base_url=BASE_URL) as plain:
        a = bearer((await token_for(plain, MERCHANT_A))["access_token"])
        b = bearer((await token_for(plain, MERCHANT_B))["access_token"])
    async with make_client(oauth_app) as client:
        yield client, a, b


async def _a_world(client: httpx.AsyncClient, a: dict[str, str]) -> dict[str, str]:
    """Merchant A's customer (in A's group, with a card) and group: the ids B will try."""
    customer = (await client.post("/v2/customers", json={"given_name": "Ada", "email_address": "ada@example.com",
                                                         "reference_id": "ref-a"}, headers=a)).json()["customer"]  # fmt: skip
    group = (await client.post("/v2/customers/groups", json={"group": {"name": "A's"}}, headers=a)).json()["group"]
    joined = await client.put(f"/v2/customers/{customer['id']}/groups/{group['id']}", headers=a)
    assert joined.status_code == 200
    card = await client.post(
        f"/v2/customers/{customer['id']}/cards", json={"card_nonce": "cnon:card-nonce-ok"}, headers=a
    )
    return {"customer_id": customer["id"], "group_id": group["id"], "card_id": card.json()["card"]["id"],
            "segment_id": f"{MERCHANT_A}.REACHABLE"}  # fmt: skip


def _attempt(handler: str, ids: dict[str, str]) -> dict[str, Any]:
    """What merchant B sends to each endpoint, aimed at merchant A's ids (bodies that would succeed for A)."""
    customer_id = ids["customer_id"]
    return {
        "list_customer_segments": None,
        "retrieve_customer_segment": None,
        "list_customer_groups": None,
        "create_customer_group": {"group": {"name": "B's"}},
        "retrieve_customer_group": None,
        "update_customer_group": {"group": {"name": "taken over"}},
        "delete_customer_group": None,
        "search_customers": {"query": {"filter": {"email_address": {"fuzzy": "ada"}}}, "count": True},
        "bulk_create_customers": {"customers": {"k1": {"given_name": "B"}}},
        "bulk_delete_customers": {"customer_ids": [customer_id]},
        "bulk_retrieve_customers": {"customer_ids": [customer_id]},
        "bulk_update_customers": {"customers": {customer_id: {"note": "taken over"}}},
        "list_customers": None,
        "create_customer": {"given_name": "B", "idempotency_key": "k1"},
        "retrieve_customer": None,
        "update_customer": {"note": "taken over"},
        "delete_customer": None,
        "create_customer_card": {"card_nonce": "cnon:card-nonce-ok"},
        "delete_customer_card": None,
        "add_group_to_customer": None,
        "remove_group_from_customer": None,
    }[handler]


def _no_trace_of(body: Any, ids: dict[str, str]) -> None:
    text = repr(body)
    for name in ("customer_id", "group_id", "card_id", "segment_id"):
        assert ids[name] not in text, (name, body)
    assert "ada@example.com" not in text


async def test_no_endpoint_crosses_merchants(
    merchants: tuple[httpx.AsyncClient, dict[str, str], dict[str, str]],
) -> None:
    client, a, b = merchants
    ids = await _a_world(client, a)
    before = (await client.get(f"/v2/customers/{ids['customer_id']}", headers=a)).json()["customer"]
    for path, method, handler, _ in ROUTES:
        url = path.format(**ids)
        response = await client.request(method, url, json=_attempt(handler.__name__, ids), headers=b)
        body = response.json()
        if "{" in path:  # aimed at one of A's things: exactly as unknown as a made-up id
            assert response.status_code == 404, (handler.__name__, body)
            assert error_of(response)["code"] == "NOT_FOUND"
        else:
            assert response.status_code == 200, (handler.__name__, body)
            if ids["customer_id"] in body.get("responses", {}):  # a bulk call naming A's id: unknown to B
                assert [entry["errors"][0]["code"] for entry in body["responses"].values()] == ["NOT_FOUND"]
            else:
                _no_trace_of(body, ids)
    after = (await client.get(f"/v2/customers/{ids['customer_id']}", headers=a)).json()["customer"]
    assert after == before  # nothing B did reached A's customer, its group membership or version
    assert (await client.get(f"/v2/customers/groups/{ids['group_id']}", headers=a)).json()["group"]["name"] == "A's"
    card = await client.delete(f"/v2/customers/{ids['customer_id']}/cards/{ids['card_id']}", headers=a)
    assert card.status_code == 200  # still there for A
    listed = (await client.get("/v2/customers", headers=b)).json()
    assert {c["given_name"] for c in listed["customers"]} == {"B"}  # B's own creations only, one per key


async def test_a_filter_on_another_merchants_group_or_segment_matches_nothing(
    merchants: tuple[httpx.AsyncClient, dict[str, str], dict[str, str]],
) -> None:
    client, a, b = merchants
    ids = await _a_world(client, a)
    await client.post("/v2/customers", json={"given_name": "Bea"}, headers=b)
    by_group = {"query": {"filter": {"group_ids": {"any": [ids["group_id"]]}}}, "count": True}
    assert (await client.post("/v2/customers/search", json=by_group, headers=b)).json() == {"count": 0}
    assert (await client.post("/v2/customers/search", json=by_group, headers=a)).json()["count"] == 1
    by_segment = {"query": {"filter": {"segment_ids": {"all": [ids["segment_id"]]}}}}
    refused = await client.post("/v2/customers/search", json=by_segment, headers=b)
    assert refused.status_code == 400 and ids["segment_id"] in error_of(refused)["detail"]
    segments = (await client.get("/v2/customers/segments", headers=b)).json()["segments"]
    assert all(segment["id"].startswith(f"{MERCHANT_B}.") for segment in segments) and len(segments) == 4


async def test_idempotency_keys_are_per_merchant(
    merchants: tuple[httpx.AsyncClient, dict[str, str], dict[str, str]],
) -> None:
    client, a, b = merchants
    body = {"given_name": "Same", "idempotency_key": "shared-key"}
    made_a = (await client.post("/v2/customers", json=body, headers=a)).json()["customer"]
    made_b = (await client.post("/v2/customers", json=body, headers=b)).json()["customer"]
    assert made_a["id"] != made_b["id"]
    other = await client.post("/v2/customers", json=body | {"given_name": "Different"}, headers=b)
    assert error_of(other)["code"] == "IDEMPOTENCY_KEY_REUSED"  # B's key is B's
    group = {"group": {"name": "G"}, "idempotency_key": "shared-key"}
    group_a = (await client.post("/v2/customers/groups", json=group, headers=a)).json()["group"]
    group_b = (await client.post("/v2/customers/groups", json=group, headers=b)).json()["group"]
    assert group_a["id"] != group_b["id"]


async def test_any_other_token_is_the_default_merchant_which_sees_no_oauth_merchant(
    merchants: tuple[httpx.AsyncClient, dict[str, str], dict[str, str]],
) -> None:
    client, a, _ = merchants
    ids = await _a_world(client, a)
    assert (await client.get(f"/v2/customers/{ids['customer_id']}")).status_code == 404
    groups = (await client.get("/v2/customers/groups")).json()["groups"]
    assert VIP_GROUP_ID in {group["id"] for group in groups} and ids["group_id"] not in {g["id"] for g in groups}
    assert ids["segment_id"] not in repr((await client.get("/v2/customers/segments")).json())


# The schema of version 1 (one merchant), as databases made before merchants hold it.
V1_SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY,
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
CREATE INDEX IF NOT EXISTS customers_by_sort_name
    ON customers (sort_name, id, email_fuzzy, phone_digits, reference_fuzzy, creation_source);
CREATE INDEX IF NOT EXISTS customers_by_created_at
    ON customers (created_at, id, email_fuzzy, phone_digits, reference_fuzzy, creation_source);
CREATE INDEX IF NOT EXISTS customers_by_updated_at ON customers (updated_at, id);
CREATE INDEX IF NOT EXISTS customers_by_email ON customers (email_lower);
CREATE INDEX IF NOT EXISTS customers_by_phone ON customers (phone_e164);
CREATE INDEX IF NOT EXISTS customers_by_reference ON customers (reference_lower);

CREATE TABLE IF NOT EXISTS customer_groups_defined (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS customer_groups (
    customer_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    PRIMARY KEY (customer_id, group_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS customer_groups_by_group ON customer_groups (group_id, customer_id);

CREATE TABLE IF NOT EXISTS customer_segments_defined (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS customer_segments (
    customer_id TEXT NOT NULL,
    segment_id TEXT NOT NULL,
    PRIMARY KEY (customer_id, segment_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS customer_segments_by_segment ON customer_segments (segment_id, customer_id);

CREATE TABLE IF NOT EXISTS cards (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    card TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cards_by_customer ON cards (customer_id);

CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""


def test_a_version_1_database_becomes_the_default_merchants(tmp_path: Path) -> None:
    path = str(tmp_path / "v1.db")
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA)
    conn.execute(
        "INSERT INTO customers (id, given_name, creation_source, version, created_at, updated_at, sort_name) "
        "VALUES ('OLDCUSTOMER00000000000001', 'Old', 'THIRD_PARTY', 0, '2024-01-01T00:00:00Z', "
        "'2024-01-01T00:00:00Z', 'old')"
    )
    conn.execute(
        "INSERT INTO idempotency (key, request_hash, response, created_at) VALUES ('customer:k', 'h', '{}', 'now')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()

    store = Store(path)
    try:
        rows = store.read_sync(lambda c: c.execute("SELECT id, merchant_id FROM customers").fetchall())
        assert [tuple(row) for row in rows] == [("OLDCUSTOMER00000000000001", "SANDBOXMERCH1")]
        keys = store.read_sync(lambda c: c.execute("SELECT merchant_id, key FROM idempotency").fetchall())
        assert [tuple(row) for row in keys] == [("SANDBOXMERCH1", "customer:k")]
        version = store.read_sync(lambda c: c.execute("PRAGMA user_version").fetchone()[0])
        assert version == SCHEMA_VERSION
        plan = store.read_sync(
            lambda c: " ".join(
                row[3]
                for row in c.execute(
                    "EXPLAIN QUERY PLAN SELECT id FROM customers WHERE merchant_id = ? ORDER BY sort_name, id",
                    ("SANDBOXMERCH1",),
                )
            )
        )
        assert "customers_by_sort_name (merchant_id=?)" in plan  # the index was made again, merchant first
    finally:
        store.close()
    Store(path).close()  # opening a migrated file again changes nothing
