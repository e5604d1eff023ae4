"""Fuzzy search through the trigram index, and counts from the counters: the same answers as the plain rules.

The rules (docs/local-api.md): a fuzzy email or reference_id filter lower-cases the text and splits it at every
character that is not a letter or digit; each query token must appear inside one stored token. A fuzzy phone
filter matches each token's digits anywhere in the number's digits. A filter with no usable token matches
nothing. These tests hold the local API to a brute-force reading of those rules, on both query plans (a few
matches fetched through the index, many found by walking the sort order) and on every counter.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sandbox_support import make_client, make_customer
from starlette.applications import Starlette

from square_customers_mcp.sandbox import create_app, search
from square_customers_mcp.sandbox.customers import create, delete
from square_customers_mcp.sandbox.seed import (
    DEFAULT_MERCHANT_ID,
    NEWSLETTER_GROUP_ID,
    REACHABLE_SEGMENT_ID,
    REGULARS_SEGMENT_ID,
    VIP_GROUP_ID,
    WHOLESALE_GROUP_ID,
)
from square_customers_mcp.sandbox.store import SCHEMA_VERSION, Store

pytestmark = pytest.mark.anyio
SEEDED = 400  # enough that a common token ("example") takes the walk plan and a rare one the index plan
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def tokens(text: str) -> list[str]:
    return [token for token in _NON_ALNUM.split(text.lower()) if token]


def fuzzy_match(stored: str | None, query: str, *, phone: bool = False) -> bool:
    """The documented rule, read literally."""
    if phone:
        wanted = ["".join(ch for ch in token if ch.isdigit()) for token in tokens(query)]
        wanted = [token for token in wanted if token]
        digits = "".join(ch for ch in stored or "" if ch.isdigit())
        return bool(wanted) and stored is not None and all(token in digits for token in wanted)
    wanted = tokens(query)
    have = tokens(stored or "")
    return bool(wanted) and stored is not None and all(any(token in own for own in have) for token in wanted)


@pytest.fixture
def seeded_app() -> Iterator[Starlette]:
    application = create_app(":memory:", seed=SEEDED)
    yield application
    application.state.store.close()


def stored_customers(app: Starlette) -> list[sqlite3.Row]:
    store: Store = app.state.store
    return store.read_sync(
        lambda conn: conn.execute("SELECT id, email_address, phone_number, reference_id FROM customers").fetchall()
    )


async def every_match(client: httpx.AsyncClient, filters: dict[str, Any]) -> tuple[set[str], int]:
    """Every id a search returns, over all its pages, and the count it reports."""
    body: dict[str, Any] = {"query": {"filter": filters}, "count": True, "limit": 100}
    found: list[str] = []
    counted: int | None = None
    while True:
        response = await client.post("/v2/customers/search", json=body)
        assert response.status_code == 200, response.text
        page = response.json()
        counted = page["count"] if counted is None else counted
        found += [c["id"] for c in page.get("customers", [])]
        if "cursor" not in page:
            break
        body["cursor"] = page["cursor"]
    assert len(found) == len(set(found)), "a customer came back twice"
    return set(found), counted


def queries(rows: list[sqlite3.Row], field: str, count: int, seed: int) -> list[str]:
    """Pieces of stored values (1 to 9 characters, one or two of them), some changed so they match nothing."""
    rng = random.Random(seed)
    values = [row[field] for row in rows if row[field]]
    made = ["example", "example com", "zzz", "a", "12", "co"]
    for _ in range(count):
        pieces = []
        for _ in range(rng.choice((1, 1, 2))):
            value = rng.choice(values)
            start = rng.randrange(len(value))
            pieces.append(value[start : start + rng.randint(1, 9)])
        query = " ".join(pieces)
        made.append(query.upper() if rng.random() < 0.2 else query + ("q" if rng.random() < 0.1 else ""))
    return made


@pytest.mark.parametrize(
    ("field", "column"),
    [("email_address", "email_address"), ("phone_number", "phone_number"), ("reference_id", "reference_id")],
)
async def test_fuzzy_search_finds_exactly_what_the_rules_say(seeded_app: Starlette, field: str, column: str) -> None:
    rows = stored_customers(seeded_app)
    async with make_client(seeded_app) as client:
        for query in queries(rows, column, 25, seed=len(field)):
            expected = {row["id"] for row in rows if fuzzy_match(row[column], query, phone=field == "phone_number")}
            found, counted = await every_match(client, {field: {"fuzzy": query}})
            assert found == expected, query
            assert counted == len(expected), query


def plans_taken(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record which plan each search takes: `index` (few matches, fetched by rowid), `walk` (a page found by a
    bounded walk of the sort order), `fetched` (no page near the position: every match fetched), `full walk`."""
    taken: list[str] = []

    def spy(name: str, found: str, missed: str | None) -> None:
        real = getattr(search, name)

        def traced(*args: Any) -> Any:
            result = real(*args)
            if result is not None:
                taken.append(found)
            elif missed:
                taken.append(missed)
            return result

        monkeypatch.setattr(search, name, traced)

    spy("_index_candidates", "index", None)
    spy("_bounded_walk", "walk", None)
    spy("_all_matches", "fetched", "full walk")
    return taken


def small_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut-overs sized for 100,000 customers, scaled down to the test's few hundred, so every plan runs here."""
    monkeypatch.setattr(search._Plan, "few", property(lambda self: 2))


async def test_both_plans_are_taken(seeded_app: Starlette, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index plan for a rare token, the walk for a common one (so the tests above cover both)."""
    taken = plans_taken(monkeypatch)
    rare = next(row["email_address"] for row in stored_customers(seeded_app) if row["email_address"])
    async with make_client(seeded_app) as client:
        await every_match(client, {"email_address": {"fuzzy": rare.split("@")[0]}})
        assert taken == ["index"]
        taken.clear()
        await client.post("/v2/customers/search", json={"query": {"filter": {"email_address": {"fuzzy": "example"}}}})
        assert taken == ["walk"]  # every seeded email has it: far more than the cut-over


def sort_keys(app: Starlette, sort: dict[str, str]) -> dict[str, tuple[str, str]]:
    column = "created_at" if sort.get("field") == "CREATED_AT" else "sort_name"
    store: Store = app.state.store
    rows = store.read_sync(lambda c: c.execute(f"SELECT id, {column} FROM customers").fetchall())
    return {row[0]: (row[1], row[0]) for row in rows}


async def ordered_matches(client: httpx.AsyncClient, filters: dict[str, Any], sort: dict[str, str]) -> list[str]:
    """Every id a search returns over all its pages (of 7, so there are many), in order; its count checked."""
    body: dict[str, Any] = {"query": {"filter": filters, "sort": sort}, "count": True, "limit": 7}
    found: list[str] = []
    while True:
        page = (await client.post("/v2/customers/search", json=body)).json()
        found += [c["id"] for c in page.get("customers", [])]
        if "cursor" not in page:
            assert page.get("count", 0) == len(found)
            return found
        body["cursor"] = page["cursor"]


@pytest.mark.parametrize(
    "sort", [{}, {"order": "DESC"}, {"field": "CREATED_AT"}, {"field": "CREATED_AT", "order": "DESC"}]
)
async def test_every_plan_finds_the_same_customers_in_order(
    seeded_app: Starlette, monkeypatch: pytest.MonkeyPatch, sort: dict[str, str]
) -> None:
    """Small cut-overs make these searches take every plan; each answer, page by page, is the brute force's in
    the requested order. `mid` customers sit together mid-way along the sort by name, `yak` ones at its end: a
    walk from either end meets none of them for a while."""

    def add(conn: sqlite3.Connection) -> None:
        for i in range(40):
            create(conn, DEFAULT_MERCHANT_ID, {"given_name": f"Mm{i}", "email_address": f"mid{i}@mid.example"})
        for i in range(120):
            create(conn, DEFAULT_MERCHANT_ID, {"given_name": f"Zz{i}", "email_address": f"yak{i}@yak.example"})

    store: Store = seeded_app.state.store
    store.write_sync(add)
    small_thresholds(monkeypatch)
    taken = plans_taken(monkeypatch)
    rows = stored_customers(seeded_app)
    keys = sort_keys(seeded_app, sort)
    given = tokens(next(row["email_address"] for row in rows if row["email_address"]))[0]  # a few, by name
    async with make_client(seeded_app) as client:
        for text in ("example", "mid", "yak", given, f"{given} e", "q", "mid 1", "a", "e x", "mid yak"):
            expected = sorted(
                (row["id"] for row in rows if fuzzy_match(row["email_address"], text)),
                key=keys.__getitem__,
                reverse=sort.get("order") == "DESC",
            )
            assert await ordered_matches(client, {"email_address": {"fuzzy": text}}, sort) == expected, text
    assert {"index", "walk"} <= set(taken), taken
    if not sort:  # by name, from the start: `mid` is fetched after the walk, `yak` too many to fetch
        assert {"fetched", "full walk"} <= set(taken), taken


async def test_fuzzy_and_other_filters_combine(seeded_app: Starlette) -> None:
    rows = stored_customers(seeded_app)
    async with make_client(seeded_app) as client:
        vip, _ = await every_match(client, {"group_ids": {"any": [VIP_GROUP_ID]}})
        rare = next(row["email_address"] for row in rows if row["email_address"])[:5]  # a name: a few dozen
        for query in (rare, "example", f"{rare} e"):
            expected = {row["id"] for row in rows if fuzzy_match(row["email_address"], query)} & vip
            found, counted = await every_match(
                client, {"email_address": {"fuzzy": query}, "group_ids": {"any": [VIP_GROUP_ID]}}
            )
            assert (found, counted) == (expected, len(expected)), query


@pytest.mark.parametrize(
    "filters",
    [
        {"email_address": {"fuzzy": "..."}},
        {"email_address": {"fuzzy": " @ - "}},
        {"phone_number": {"fuzzy": "abc"}},
        {"phone_number": {"fuzzy": "(--)"}},
        {"reference_id": {"fuzzy": "#/"}},
        {"email_address": {"fuzzy": "example"}, "phone_number": {"fuzzy": "abc"}},
    ],
)
async def test_a_fuzzy_filter_with_no_usable_token_matches_nothing(seeded_app: Starlette, filters: Any) -> None:
    """It used to match every customer with the field set. Square documents no error for it: an empty result."""
    async with make_client(seeded_app) as client:
        body = {"query": {"filter": filters}}
        assert (await client.post("/v2/customers/search", json=body)).json() == {}
        assert (await client.post("/v2/customers/search", json={**body, "count": True})).json() == {"count": 0}


async def test_the_index_follows_creates_updates_and_deletes(app: Starlette, client: httpx.AsyncClient) -> None:
    ada = await make_customer(client, given_name="Ada", email_address="ada.lovelace@engines.example")
    grace = await make_customer(client, given_name="Grace", phone_number="+1 212 555 0199", reference_id="NAVY-1906")

    async def ids(filters: dict[str, Any]) -> set[str]:
        found, counted = await every_match(client, filters)
        assert counted == len(found)
        return found

    assert await ids({"email_address": {"fuzzy": "lovelace"}}) == {ada["id"]}
    assert await ids({"phone_number": {"fuzzy": "5550199"}}) == {grace["id"]}
    assert await ids({"reference_id": {"fuzzy": "navy 190"}}) == {grace["id"]}

    changed = await client.put(
        f"/v2/customers/{ada['id']}",
        json={"email_address": "countess@analytical.example", "phone_number": "2125550199"},
    )
    assert changed.status_code == 200, changed.text
    assert await ids({"email_address": {"fuzzy": "lovelace"}}) == set()
    assert await ids({"email_address": {"fuzzy": "analytic"}}) == {ada["id"]}
    assert await ids({"phone_number": {"fuzzy": "5550199"}}) == {ada["id"], grace["id"]}
    # An update that leaves the searched fields alone keeps the customer findable.
    assert (await client.put(f"/v2/customers/{grace['id']}", json={"note": "admiral"})).status_code == 200
    assert await ids({"reference_id": {"fuzzy": "navy"}}) == {grace["id"]}

    assert (await client.delete(f"/v2/customers/{grace['id']}")).status_code == 200
    assert await ids({"phone_number": {"fuzzy": "5550199"}}) == {ada["id"]}
    assert await ids({"reference_id": {"fuzzy": "navy"}}) == set()
    bulk = await client.post("/v2/customers/bulk-delete", json={"customer_ids": [ada["id"]]})
    assert bulk.status_code == 200, bulk.text
    assert await ids({"email_address": {"fuzzy": "analytic"}}) == set()
    # FTS5's own check of the index against the customers table (raises if they disagree).
    store: Store = app.state.store
    store.write_sync(
        lambda c: c.execute("INSERT INTO customers_fuzzy (customers_fuzzy, rank) VALUES ('integrity-check', 1)")
    )


async def test_counts_follow_every_change(client: httpx.AsyncClient) -> None:
    async def count(filters: dict[str, Any] | None = None) -> int:
        body: dict[str, Any] = {"count": True, "query": {"filter": filters}} if filters else {"count": True}
        answer: int = (await client.post("/v2/customers/search", json=body)).json()["count"]
        return answer

    made = [await make_customer(client, given_name=f"C{i}") for i in range(5)]
    assert (await client.get("/v2/customers", params={"count": "true"})).json()["count"] == 5
    for customer in made[:3]:
        assert (await client.put(f"/v2/customers/{customer['id']}/groups/{VIP_GROUP_ID}")).status_code == 200
    await client.put(f"/v2/customers/{made[0]['id']}/groups/{VIP_GROUP_ID}")  # already a member: no change
    await client.put(f"/v2/customers/{made[0]['id']}/groups/{NEWSLETTER_GROUP_ID}")
    assert await count({"group_ids": {"any": [VIP_GROUP_ID]}}) == 3
    assert await count({"group_ids": {"all": [VIP_GROUP_ID]}}) == 3
    assert await count({"group_ids": {"none": [VIP_GROUP_ID]}}) == 2
    assert await count({"group_ids": {"all": [VIP_GROUP_ID, NEWSLETTER_GROUP_ID]}}) == 1
    assert await count({"group_ids": {"any": [VIP_GROUP_ID], "none": [NEWSLETTER_GROUP_ID]}}) == 2

    await client.delete(f"/v2/customers/{made[1]['id']}/groups/{VIP_GROUP_ID}")
    await client.delete(f"/v2/customers/{made[2]['id']}")
    assert await count() == 4
    assert await count({"group_ids": {"any": [VIP_GROUP_ID]}}) == 1
    assert await count({"group_ids": {"none": [VIP_GROUP_ID]}}) == 3
    group = (await client.post("/v2/customers/groups", json={"group": {"name": "Fresh"}})).json()["group"]
    assert await count({"group_ids": {"any": [group["id"]]}}) == 0
    await client.put(f"/v2/customers/{made[3]['id']}/groups/{group['id']}")
    assert await count({"group_ids": {"any": [group["id"]]}}) == 1
    assert (await client.delete(f"/v2/customers/groups/{VIP_GROUP_ID}")).status_code == 200
    assert await count({"group_ids": {"any": [VIP_GROUP_ID]}}) == 0  # an unknown group now: nothing


async def test_all_of_several_groups_matches_the_member_lists(seeded_app: Starlette) -> None:
    """`all`: the page (walked from the rarest id) and the count (over its member list) equal the brute force, for
    2 and 3 groups, more ids than are probed one by one, an id with no members, and segments."""
    store: Store = seeded_app.state.store
    async with make_client(seeded_app) as client:
        extra = [
            (await client.post("/v2/customers/groups", json={"group": {"name": f"G{i}"}})).json()["group"]["id"]
            for i in range(9)
        ]
        everyone = [row["id"] for row in stored_customers(seeded_app)]
        for customer_id in everyone[:40:3]:  # 14 customers in every extra group, some also in VIP
            for group_id in extra:
                assert (await client.put(f"/v2/customers/{customer_id}/groups/{group_id}")).status_code == 200
        empty = (await client.post("/v2/customers/groups", json={"group": {"name": "Empty"}})).json()["group"]["id"]

        def members(table: str, column: str, ids: list[str]) -> set[str]:
            rows = store.read_sync(lambda c: c.execute(f"SELECT customer_id, {column} FROM {table}").fetchall())
            held: dict[str, set[str]] = {}
            for customer_id, member_of in rows:
                held.setdefault(customer_id, set()).add(member_of)
            return {customer_id for customer_id, sets in held.items() if set(ids) <= sets}

        cases = [
            ("group_ids", [VIP_GROUP_ID, NEWSLETTER_GROUP_ID]),
            ("group_ids", [NEWSLETTER_GROUP_ID, VIP_GROUP_ID, WHOLESALE_GROUP_ID]),
            ("group_ids", extra),  # 9 ids: the one-count test
            ("group_ids", [*extra, VIP_GROUP_ID]),
            ("group_ids", [VIP_GROUP_ID, empty]),
            ("segment_ids", [REACHABLE_SEGMENT_ID, REGULARS_SEGMENT_ID]),
        ]
        for name, ids in cases:
            table, column = (
                ("customer_groups", "group_id") if name == "group_ids" else ("customer_segments", "segment_id")
            )
            expected = members(table, column, ids)
            for extra_filter in ({}, {"email_address": {"fuzzy": "example"}}):  # the counters' plan, then a walk
                found, counted = await every_match(client, {name: {"all": ids}, **extra_filter})
                rows = {row["id"]: row for row in stored_customers(seeded_app)}
                wanted = {i for i in expected if not extra_filter or fuzzy_match(rows[i]["email_address"], "example")}
                assert (found, counted) == (wanted, len(wanted)), (name, len(ids), extra_filter)


async def test_counts_and_fuzzy_search_stay_inside_the_merchant(seeded_app: Starlette) -> None:
    """A second merchant's customers (the same data again) change neither its counts nor its fuzzy results."""
    store: Store = seeded_app.state.store
    other = "OTHERMERCHANT01"
    rows = stored_customers(seeded_app)

    def copy_customers(conn: sqlite3.Connection) -> None:
        for row in rows[:150]:
            fields = {k: row[k] for k in ("email_address", "phone_number", "reference_id") if row[k]}
            create(conn, other, fields or {"given_name": "x"})

    store.write_sync(copy_customers)
    rare = next(row["email_address"] for row in rows if row["email_address"]).split("@")[0]

    def counted(merchant: str, body: dict[str, Any]) -> int:
        result = store.read_sync(lambda conn: search.run(conn, search.parse_search(body), merchant))
        answer: int = result["count"]
        return answer

    for merchant, in_merchant in ((DEFAULT_MERCHANT_ID, rows), (other, rows[:150])):
        assert counted(merchant, {"count": True}) == len(in_merchant)
        for text in (rare, "example"):
            body = {"count": True, "query": {"filter": {"email_address": {"fuzzy": text}}}}
            assert counted(merchant, body) == sum(fuzzy_match(row["email_address"], text) for row in in_merchant)
    assert counted(other, {"count": True, "query": {"filter": {"group_ids": {"any": [VIP_GROUP_ID]}}}}) == 0

    def remove_one(conn: sqlite3.Connection) -> None:
        victim = conn.execute("SELECT id FROM customers WHERE merchant_id = ? LIMIT 1", (other,)).fetchone()[0]
        delete(conn, other, victim, None)

    store.write_sync(remove_one)
    assert counted(other, {"count": True}) == 149
    assert counted(DEFAULT_MERCHANT_ID, {"count": True}) == SEEDED


def test_an_older_database_gets_its_index_and_counters_on_open(tmp_path: Any) -> None:
    """A version-2 database (no trigram index, no counters) is filled in when opened, then kept in step."""
    path = str(tmp_path / "v2.db")
    app = create_app(path, seed=50)
    app.state.store.close()
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TABLE customers_fuzzy; DROP TABLE customer_counts; DROP TABLE member_counts;PRAGMA user_version = 2;"
    )
    conn.close()
    store = Store(path)
    try:
        assert store.read_sync(lambda c: c.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION
        rows = store.read_sync(lambda c: c.execute("SELECT id, email_address FROM customers").fetchall())
        name = next(row["email_address"] for row in rows if row["email_address"]).split("@")[0]
        body = {"count": True, "query": {"filter": {"email_address": {"fuzzy": name}}}}
        found = store.read_sync(lambda c: search.run(c, search.parse_search(body), DEFAULT_MERCHANT_ID))
        expected = {row["id"] for row in rows if fuzzy_match(row["email_address"], name)}
        assert {c["id"] for c in found["customers"]} == expected
        assert found["count"] == len(expected) >= 1
        assert store.read_sync(lambda c: search.run(c, search.parse_search({"count": True}), DEFAULT_MERCHANT_ID))[
            "count"
        ] == len(rows)
        vip = {"count": True, "query": {"filter": {"group_ids": {"any": [VIP_GROUP_ID]}}}}
        members = store.read_sync(
            lambda c: c.execute("SELECT count(*) FROM customer_groups WHERE group_id = ?", (VIP_GROUP_ID,)).fetchone()
        )[0]
        assert (
            store.read_sync(lambda c: search.run(c, search.parse_search(vip), DEFAULT_MERCHANT_ID))["count"] == members
        )
        # FTS5's own check of the index against the customers table (raises if they disagree).
        store.write_sync(
            lambda c: c.execute("INSERT INTO customers_fuzzy (customers_fuzzy, rank) VALUES ('integrity-check', 1)")
        )
    finally:
        store.close()
