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


async def list_customers(request: Request, store: Store) -> JSON:
    query = search.parse_list(request.query_params)
    return await store.read(lambda conn: search.run(conn, query))


async def search_customers(request: Request, store: Store) -> JSON:
    query = search.parse_search(await json_body(request))
    return await store.read(lambda conn: search.run(conn, query))


async def create_customer(request: Request, store: Store) -> JSON:
    body = await json_body(request)
    fields = read_create(body, extra=("idempotency_key",))
    key = opt_str(body, "idempotency_key")
    customer = await store.write(lambda conn: customers.create(conn, fields, key or None))
    return {"customer": customer}


async def retrieve_customer(request: Request, store: Store) -> JSON:
    customer_id = _path(request, "customer_id")
    return {"customer": await store.read(lambda conn: customers.retrieve(conn, customer_id))}


async def update_customer(request: Request, store: Store) -> JSON:
    customer_id = _path(request, "customer_id")
    changes, version = read_update(await json_body(request))
    customer = await store.write(lambda conn: customers.update(conn, customer_id, changes, version))
    return {"customer": customer}


async def delete_customer(request: Request, store: Store) -> JSON:
    customer_id = _path(request, "customer_id")
    version = query_int(request.query_params, "version")
    await store.write(lambda conn: customers.delete(conn, customer_id, version))
    return {}


async def add_group_to_customer(request: Request, store: Store) -> JSON:
    customer_id, group_id = _path(request, "customer_id"), _path(request, "group_id")
    await store.write(lambda conn: customers.add_group(conn, customer_id, group_id))
    return {}


async def remove_group_from_customer(request: Request, store: Store) -> JSON:
    customer_id, group_id = _path(request, "customer_id"), _path(request, "group_id")
    await store.write(lambda conn: customers.remove_group(conn, customer_id, group_id))
    return {}


async def create_customer_card(request: Request, store: Store) -> JSON:
    customer_id = _path(request, "customer_id")
    nonce, name, billing = cards.read_request(await json_body(request))
    card = await store.write(lambda conn: cards.create_card(conn, customer_id, nonce, name, billing))
    return {"card": card}


async def delete_customer_card(request: Request, store: Store) -> JSON:
    customer_id, card_id = _path(request, "customer_id"), _path(request, "card_id")
    await store.write(lambda conn: cards.delete_card(conn, customer_id, card_id))
    return {}


# --- The four bulk endpoints: one transaction per call, a response per entry, 200 even if some fail ---


async def bulk_create_customers(request: Request, store: Store) -> JSON:
    body = await json_body(request)
    reject_unknown(body, ("customers",))
    entries = map_entries(body, "customers")

    def create_one(conn: sqlite3.Connection, key: str) -> JSON:
        return {"customer": customers.create(conn, read_create(entries[key], f"customers.{key}"), key)}

    def work(conn: sqlite3.Connection) -> dict[str, JSON]:
        return customers.each_entry(conn, list(entries), lambda key: create_one(conn, key))

    return {"responses": await store.write(work)}


async def bulk_update_customers(request: Request, store: Store) -> JSON:
    body = await json_body(request)
    reject_unknown(body, ("customers",))
    entries = map_entries(body, "customers")

    def update_one(conn: sqlite3.Connection, customer_id: str) -> JSON:
        changes, version = read_update(entries[customer_id], f"customers.{customer_id}")
        return {"customer": customers.update(conn, customer_id, changes, version)}

    def work(conn: sqlite3.Connection) -> dict[str, JSON]:
        return customers.each_entry(conn, list(entries), lambda key: update_one(conn, key))

    return {"responses": await store.write(work)}


async def bulk_retrieve_customers(request: Request, store: Store) -> JSON:
    body = await json_body(request)
    reject_unknown(body, ("customer_ids",))
    ids = list(dict.fromkeys(list_entries(body, "customer_ids")))

    def work(conn: sqlite3.Connection) -> dict[str, JSON]:
        return customers.each_entry(conn, ids, lambda key: {"customer": customers.retrieve(conn, key)})

    return {"responses": await store.read(work)}


async def bulk_delete_customers(request: Request, store: Store) -> JSON:
    body = await json_body(request)
    reject_unknown(body, ("customer_ids",))
    ids = list(dict.fromkeys(list_entries(body, "customer_ids")))

    def delete_one(conn: sqlite3.Connection, customer_id: str) -> JSON:
        customers.delete(conn, customer_id, None)
        return {}

    def work(conn: sqlite3.Connection) -> dict[str, JSON]:
        return customers.each_entry(conn, ids, lambda key: delete_one(conn, key))

    return {"responses": await store.write(work)}


# --- Square's Customer Groups endpoints, so groups can be made and found ---


async def list_customer_groups(request: Request, store: Store) -> JSON:
    params = request.query_params
    return await store.read(lambda conn: groups.list_groups(conn, params))


async def create_customer_group(request: Request, store: Store) -> JSON:
    name, key = groups.read_group(await json_body(request))
    return await store.write(lambda conn: groups.create_group(conn, name, key))


async def retrieve_customer_group(request: Request, store: Store) -> JSON:
    group_id = str(request.path_params["group_id"])
    return await store.read(lambda conn: {"group": groups.group_json(groups.require_group(conn, group_id))})


async def update_customer_group(request: Request, store: Store) -> JSON:
    group_id = str(request.path_params["group_id"])
    name = groups.read_update(await json_body(request))
    return await store.write(lambda conn: groups.update_group(conn, group_id, name))


async def delete_customer_group(request: Request, store: Store) -> JSON:
    group_id = str(request.path_params["group_id"])
    await store.write(lambda conn: groups.delete_group(conn, group_id))
    return {}


# --- Square's Customer Segments endpoints: list and retrieve only, as segments are read-only ---


async def list_customer_segments(request: Request, store: Store) -> JSON:
    params = request.query_params
    return await store.read(lambda conn: segments.list_segments(conn, params))


async def retrieve_customer_segment(request: Request, store: Store) -> JSON:
    segment_id = str(request.path_params["segment_id"])
    return await store.read(lambda conn: {"segment": segments.segment_json(segments.require_segment(conn, segment_id))})


# Order matters: the fixed paths (groups, segments, search, bulk-*) must win over /v2/customers/{customer_id}, as
# on Square. Segments are read-only: other methods on their paths get 405 (or, on the list path, reach a customer
# route with the id "segments" and its 404, as for groups and search).
ROUTES = (
    ("/v2/customers/segments", "GET", list_customer_segments),
    ("/v2/customers/segments/{segment_id}", "GET", retrieve_customer_segment),
    ("/v2/customers/groups", "GET", list_customer_groups),
    ("/v2/customers/groups", "POST", create_customer_group),
    ("/v2/customers/groups/{group_id}", "GET", retrieve_customer_group),
    ("/v2/customers/groups/{group_id}", "PUT", update_customer_group),
    ("/v2/customers/groups/{group_id}", "DELETE", delete_customer_group),
    ("/v2/customers/search", "POST", search_customers),
    ("/v2/customers/bulk-create", "POST", bulk_create_customers),
    ("/v2/customers/bulk-delete", "POST", bulk_delete_customers),
    ("/v2/customers/bulk-retrieve", "POST", bulk_retrieve_customers),
    ("/v2/customers/bulk-update", "POST", bulk_update_customers),
    ("/v2/customers", "GET", list_customers),
    ("/v2/customers", "POST", create_customer),
    ("/v2/customers/{customer_id}", "GET", retrieve_customer),
    ("/v2/customers/{customer_id}", "PUT", update_customer),
    ("/v2/customers/{customer_id}", "DELETE", delete_customer),
    ("/v2/customers/{customer_id}/cards", "POST", create_customer_card),
    ("/v2/customers/{customer_id}/cards/{card_id}", "DELETE", delete_customer_card),
    ("/v2/customers/{customer_id}/groups/{group_id}", "PUT", add_group_to_customer),
    ("/v2/customers/{customer_id}/groups/{group_id}", "DELETE", remove_group_from_customer),
)
