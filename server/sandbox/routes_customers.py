"""Handlers for the single-customer endpoints, list and search, group membership and cards on file."""

from __future__ import annotations

from starlette.requests import Request

from square_customers_mcp.sandbox import cards, customers, search
from square_customers_mcp.sandbox.customer_fields import read_create, read_update
from square_customers_mcp.sandbox.endpoint import json_body
from square_customers_mcp.sandbox.errors import JSON
from square_customers_mcp.sandbox.store import Store
from square_customers_mcp.sandbox.validate import opt_str, query_int


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
