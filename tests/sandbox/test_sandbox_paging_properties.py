"""Property tests: walking every page of list/search returns each matching customer once, in order,
even while customers are added and deleted between pages."""

from __future__ import annotations

from collections import Counter
from typing import Any

import anyio
import httpx
from hypothesis import given, settings
from hypothesis import strategies as st
from sandbox_support import make_client

from square_customers_mcp.sandbox import create_app

NAMES = ["ann", "Ann", "Bob", "émile", "Zoë", "zed"]
SETTINGS = settings(max_examples=30, deadline=None)


@st.composite
def customer_bodies(draw: st.DrawFn) -> dict[str, str]:
    """Customers that exercise every step of the DEFAULT sort rule, with many ties."""
    kind = draw(st.sampled_from(["name", "given", "family", "company", "email", "phone"]))
    body: dict[str, str] = {}
    if kind in ("name", "given"):
        body["given_name"] = draw(st.sampled_from(NAMES))
    if kind in ("name", "family"):
        body["family_name"] = draw(st.sampled_from(NAMES))
    if kind == "company":
        body["company_name"] = draw(st.sampled_from(["Acme", "acme", "Zenith"]))
    if kind == "email" or draw(st.booleans()):
        body["email_address"] = draw(st.sampled_from(["a@example.com", "bob@shop.example.org", "z@test.example"]))
    if kind == "phone":
        body["phone_number"] = draw(st.sampled_from(["+1-212-555-0100", "+44 20 7946 0958"]))
    return body


QUERIES = st.fixed_dictionaries(
    {
        "endpoint": st.sampled_from(["list", "search"]),
        "field": st.sampled_from(["DEFAULT", "CREATED_AT"]),
        "order": st.sampled_from(["ASC", "DESC"]),
        "limit": st.integers(1, 7),
        "fuzzy": st.sampled_from([None, "example", "shop", "a"]),
    }
)


def sort_key(customer: dict[str, Any], field: str) -> tuple[str, str]:
    """The documented order: DEFAULT = case-folded "given family", else company, email, phone; then id."""
    if field == "CREATED_AT":
        return customer["created_at"], customer["id"]
    name = " ".join(part for part in (customer.get("given_name"), customer.get("family_name")) if part)
    for candidate in (name, customer.get("company_name"), customer.get("email_address"), customer.get("phone_number")):
        if candidate:
            return candidate.casefold(), customer["id"]
    raise AssertionError(customer)


def matches(customer: dict[str, Any], fuzzy: str | None) -> bool:
    if fuzzy is None:
        return True
    email = customer.get("email_address") or ""
    return any(fuzzy in token for token in email.replace("@", ".").split("."))


async def fetch_page(http: httpx.AsyncClient, query: dict[str, Any], cursor: str | None) -> dict[str, Any]:
    if query["endpoint"] == "list":
        params: dict[str, Any] = {"sort_field": query["field"], "sort_order": query["order"], "limit": query["limit"]}
        if cursor:
            params["cursor"] = cursor
        response = await http.get("/v2/customers", params=params)
    else:
        body: dict[str, Any] = {
            "limit": query["limit"],
            "query": {"sort": {"field": query["field"], "order": query["order"]}},
        }
        if query["fuzzy"]:
            body["query"]["filter"] = {"email_address": {"fuzzy": query["fuzzy"]}}
        if cursor:
            body["cursor"] = cursor
        response = await http.post("/v2/customers/search", json=body)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def bulk_create(http: httpx.AsyncClient, bodies: list[dict[str, str]], tag: str) -> list[dict[str, Any]]:
    if not bodies:
        return []
    payload = {"customers": {f"{tag}-{i}": body for i, body in enumerate(bodies)}}
    responses = (await http.post("/v2/customers/bulk-create", json=payload)).json()["responses"]
    return [responses[f"{tag}-{i}"]["customer"] for i in range(len(bodies))]


async def walk(
    query: dict[str, Any], initial: list[dict[str, str]], churn: list[tuple[list[dict[str, str]], list[int]]]
) -> None:
    """Walk all pages; before page n+1 apply churn[n] (insert these bodies, delete these picks)."""
    app = create_app(":memory:")
    try:
        async with make_client(app) as http:
            existing = await bulk_create(http, initial, "initial")
            deleted: set[str] = set()
            seen: list[dict[str, Any]] = []
            cursor: str | None = None
            step = 0
            while True:
                page = await fetch_page(http, query, cursor)
                seen += page.get("customers", [])
                cursor = page.get("cursor")
                if cursor is None:
                    break
                if step < len(churn):
                    inserts, picks = churn[step]
                    existing += await bulk_create(http, inserts, f"step{step}")
                    alive = [c for c in existing if c["id"] not in deleted]
                    doomed = {alive[pick % len(alive)]["id"] for pick in picks} if alive else set()
                    if doomed:
                        await http.post("/v2/customers/bulk-delete", json={"customer_ids": sorted(doomed)})
                        deleted |= doomed
                step += 1
    finally:
        app.state.store.close()
    fuzzy = query["fuzzy"] if query["endpoint"] == "search" else None
    counts = Counter(c["id"] for c in seen)
    assert all(n == 1 for n in counts.values()), "a customer was returned twice"
    initial_ids = {c["id"] for c in existing[: len(initial)]}
    survivors = {c["id"] for c in existing if c["id"] in initial_ids and c["id"] not in deleted and matches(c, fuzzy)}
    assert survivors <= set(counts), "a customer present throughout the walk was skipped"
    assert all(matches(c, fuzzy) for c in seen)
    keys = [sort_key(c, query["field"]) for c in seen]
    assert keys == sorted(keys, reverse=query["order"] == "DESC")
    if not churn:
        expected = sorted((c for c in existing if matches(c, fuzzy)), key=lambda c: sort_key(c, query["field"]))
        if query["order"] == "DESC":
            expected.reverse()
        assert [c["id"] for c in seen] == [c["id"] for c in expected]


@SETTINGS
@given(query=QUERIES, initial=st.lists(customer_bodies(), max_size=25))
def test_walking_pages_returns_every_match_once_in_order(query: dict[str, Any], initial: list[dict[str, str]]) -> None:
    anyio.run(walk, query, initial, [])


@SETTINGS
@given(
    query=QUERIES,
    initial=st.lists(customer_bodies(), min_size=1, max_size=25),
    churn=st.lists(
        st.tuples(st.lists(customer_bodies(), max_size=4), st.lists(st.integers(0, 1000), max_size=3)),
        min_size=1,
        max_size=8,
    ),
)
def test_paging_survives_inserts_and_deletes_between_pages(
    query: dict[str, Any], initial: list[dict[str, str]], churn: list[tuple[list[dict[str, str]], list[int]]]
) -> None:
    anyio.run(walk, query, initial, churn)
