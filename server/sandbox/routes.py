"""Every endpoint of the local API: Square's Customers endpoints, plus the Customer Groups and (read-only)
Customer Segments ones. Each handler reads and checks the request, then runs the store work in one call."""

from __future__ import annotations

import sqlite3

from starlette.requests import Request

from square_customers_mcp.sandbox import cards, customers, groups, search, segments
from square_customers_mcp.sandbox.customer_fields import read_create, read_update
from square_customers_mcp.sandbox.endpoint import json_body
from square_customers_mcp.sandbox.errors import JSON
from square_customers_mcp.sandbox.store import Store
from square_customers_mcp.sandbox.validate import list_entries, map_entries, opt_str, query_int, reject_unknown

# --- The single-customer endpoints, list and search, group membership and cards on file ---


def _path(request: Request, name: str) -> str:
    return str(request.path_params[name])


def _merchant(request: Request) -> str:
    """The merchant the request acts for (endpoint.authorize put its Principal on the request)."""
    return str(request.state.principal.merchant_id)


async def list_customers(request: Request, store: Store) -> JSON:
    query, merchant = search.parse_list(request.query_params), _merchant(request)
    return await store.read(lambda conn: search.run(conn, query, merchant))


async def search_customers(request: Request, store: Store) -> JSON:
    query, merchant = search.parse_search(await json_body(request)), _merchant(request)
    return await store.read(lambda conn: search.run(conn, query, merchant))


async def create_customer(request: Request, store: Store) -> JSON:
    body = await json_body(request)
    fields = read_create(body, extra=("idempotency_key",))
    key = opt_str(body, "idempotency_key")
    merchant = _merchant(request)
    customer = await store.write(lambda conn: customers.create(conn, merchant, fields, key or None))
    return {"customer": customer}


async def retrieve_customer(request: Request, store: Store) -> JSON:
    customer_id, merchant = _path(request, "customer_id"), _merchant(request)
    return {"customer": await store.read(lambda conn: customers.retrieve(conn, merchant, customer_id))}


async def update_customer(request: Request, store: Store) -> JSON:
    customer_id, merchant = _path(request, "customer_id"), _merchant(request)
    changes, version = read_update(await json_body(request))
    customer = await store.write(lambda conn: customers.update(conn, merchant, customer_id, changes, version))
    return {"customer": customer}


async def delete_customer(request: Request, store: Store) -> JSON:
    customer_id, merchant = _path(request, "customer_id"), _merchant(request)
    version = query_int(request.query_params, "version")
    await store.write(lambda conn: customers.delete(conn, merchant, customer_id, version))
    return {}


async def add_group_to_customer(request: Request, store: Store) -> JSON:
    customer_id, group_id, merchant = _path(request, "customer_id"), _path(request, "group_id"), _merchant(request)
    await store.write(lambda conn: customers.add_group(conn, merchant, customer_id, group_id))
    return {}


async def remove_group_from_customer(request: Request, store: Store) -> JSON:
    customer_id, group_id, merchant = _path(request, "customer_id"), _path(request, "group_id"), _merchant(request)
    await store.write(lambda conn: customers.remove_group(conn, merchant, customer_id, group_id))
    return {}


async def create_customer_card(request: Request, store: Store) -> JSON:
    customer_id, merchant = _path(request, "customer_id"), _merchant(request)
    nonce, name, billing = cards.read_request(await json_body(request))
    card = await store.write(lambda conn: cards.create_card(conn, merchant, customer_id, nonce, name, billing))
    return {"card": card}


async def delete_customer_card(request: Request, store: Store) -> JSON:
    customer_id, card_id, merchant = _path(request, "customer_id"), _path(request, "card_id"), _merchant(request)
    await store.write(lambda conn: cards.delete_card(conn, merchant, customer_id, card_id))
    return {}


# --- The four bulk endpoints: one transaction per call, a response per entry, 200 even if some fail ---


async def bulk_create_customers(request: Request, store: Store) -> JSON:
    body = await json_body(request)
    reject_unknown(body, ("customers",))
    entries, merchant = map_entries(body, "customers"), _merchant(request)

    def create_one(conn: sqlite3.Connection, key: str) -> JSON:
        return {"customer": customers.create(conn, merchant, read_create(entries[key], f"customers.{key}"), key)}

    def work(conn: sqlite3.Connection) -> dict[str, JSON]:
        return customers.each_entry(conn, list(entries), lambda key: create_one(conn, key))

    return {"responses": await store.write(work)}


async def bulk_update_customers(request: Request, store: Store) -> JSON:
    body = await json_body(request)
    reject_unknown(body, ("customers",))
    entries, merchant = map_entries(body, "customers"), _merchant(request)

    def update_one(conn: sqlite3.Connection, customer_id: str) -> JSON:
        changes, version = read_update(entries[customer_id], f"customers.{customer_id}")
        return {"customer": customers.update(conn, merchant, customer_id, changes, version)}

    def work(conn: sqlite3.Connection) -> dict[str, JSON]:
        return customers.each_entry(conn, list(entries), lambda key: update_one(conn, key))

    return {"responses": await store.write(work)}


async def bulk_retrieve_customers(request: Request, store: Store) -> JSON:
    body = await json_body(request)
    reject_unknown(body, ("customer_ids",))
    ids, merchant = list(dict.fromkeys(list_entries(body, "customer_ids"))), _merchant(request)

    def work(conn: sqlite3.Connection) -> dict[str, JSON]:
        return customers.each_entry(conn, ids, lambda key: {"customer": customers.retrieve(conn, merchant, key)})

    return {"responses": await store.read(work)}


async def bulk_delete_customers(request: Request, store: Store) -> JSON:
    body = await json_body(request)
    reject_unknown(body, ("customer_ids",))
    ids, merchant = list(dict.fromkeys(list_entries(body, "customer_ids"))), _merchant(request)

    def delete_one(conn: sqlite3.Connection, customer_id: str) -> JSON:
        customers.delete(conn, merchant, customer_id, None)
        return {}

    def work(conn: sqlite3.Connection) -> dict[str, JSON]:
        return customers.each_entry(conn, ids, lambda key: delete_one(conn, key))

    return {"responses": await store.write(work)}


# --- Square's Customer Groups endpoints, so groups can be made and found ---


async def list_customer_groups(request: Request, store: Store) -> JSON:
    params, merchant = request.query_params, _merchant(request)
    return await store.read(lambda conn: groups.list_groups(conn, merchant, params))


async def create_customer_group(request: Request, store: Store) -> JSON:
    (name, key), merchant = groups.read_group(await json_body(request)), _merchant(request)
    return await store.write(lambda conn: groups.create_group(conn, merchant, name, key))


async def retrieve_customer_group(request: Request, store: Store) -> JSON:
    group_id, merchant = _path(request, "group_id"), _merchant(request)
    return await store.read(lambda conn: {"group": groups.group_json(groups.require_group(conn, merchant, group_id))})


async def update_customer_group(request: Request, store: Store) -> JSON:
    group_id, merchant = _path(request, "group_id"), _merchant(request)
    name = groups.read_update(await json_body(request))
    return await store.write(lambda conn: groups.update_group(conn, merchant, group_id, name))


async def delete_customer_group(request: Request, store: Store) -> JSON:
    group_id, merchant = _path(request, "group_id"), _merchant(request)
    await store.write(lambda conn: groups.delete_group(conn, merchant, group_id))
    return {}


# --- Square's Customer Segments endpoints: list and retrieve only, as segments are read-only ---


async def list_customer_segments(request: Request, store: Store) -> JSON:
    params, merchant = request.query_params, _merchant(request)
    return await store.read(lambda conn: segments.list_segments(conn, merchant, params))


async def retrieve_customer_segment(request: Request, store: Store) -> JSON:
    segment_id, merchant = _path(request, "segment_id"), _merchant(request)

    def work(conn: sqlite3.Connection) -> JSON:
        return {"segment": segments.segment_json(segments.require_segment(conn, merchant, segment_id))}

    return await store.read(work)


# Order matters: the fixed paths (groups, segments, search, bulk-*) must win over /v2/customers/{customer_id}, as
# on Square. Segments are read-only: other methods on their paths get 405 (or, on the list path, reach a customer
# route with the id "segments" and its 404, as for groups and search).
# The last column is the OAuth scope Square's spec requires for the operation (`security: oauth2: [...]`): a token
# without it gets 403 INSUFFICIENT_SCOPES. Square files bulk-retrieve and search, though POSTs, under CUSTOMERS_READ.
READ, WRITE = "CUSTOMERS_READ", "CUSTOMERS_WRITE"
ROUTES = (
    ("/v2/customers/segments", "GET", list_customer_segments, READ),
    ("/v2/customers/segments/{segment_id}", "GET", retrieve_customer_segment, READ),
    ("/v2/customers/groups", "GET", list_customer_groups, READ),
    ("/v2/customers/groups", "POST", create_customer_group, WRITE),
    ("/v2/customers/groups/{group_id}", "GET", retrieve_customer_group, READ),
    ("/v2/customers/groups/{group_id}", "PUT", update_customer_group, WRITE),
    ("/v2/customers/groups/{group_id}", "DELETE", delete_customer_group, WRITE),
    ("/v2/customers/search", "POST", search_customers, READ),
    ("/v2/customers/bulk-create", "POST", bulk_create_customers, WRITE),
    ("/v2/customers/bulk-delete", "POST", bulk_delete_customers, WRITE),
    ("/v2/customers/bulk-retrieve", "POST", bulk_retrieve_customers, READ),
    ("/v2/customers/bulk-update", "POST", bulk_update_customers, WRITE),
    ("/v2/customers", "GET", list_customers, READ),
    ("/v2/customers", "POST", create_customer, WRITE),
    ("/v2/customers/{customer_id}", "GET", retrieve_customer, READ),
    ("/v2/customers/{customer_id}", "PUT", update_customer, WRITE),
    ("/v2/customers/{customer_id}", "DELETE", delete_customer, WRITE),
    ("/v2/customers/{customer_id}/cards", "POST", create_customer_card, WRITE),
    ("/v2/customers/{customer_id}/cards/{card_id}", "DELETE", delete_customer_card, WRITE),
    ("/v2/customers/{customer_id}/groups/{group_id}", "PUT", add_group_to_customer, WRITE),
    ("/v2/customers/{customer_id}/groups/{group_id}", "DELETE", remove_group_from_customer, WRITE),
)
