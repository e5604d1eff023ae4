"""Handlers for the four bulk endpoints: one transaction per call, a response per entry, 200 even if some fail."""

from __future__ import annotations

import sqlite3

from starlette.requests import Request

from square_customers_mcp.sandbox import customers
from square_customers_mcp.sandbox.customer_fields import read_create, read_update
from square_customers_mcp.sandbox.endpoint import json_body
from square_customers_mcp.sandbox.errors import JSON
from square_customers_mcp.sandbox.store import Store
from square_customers_mcp.sandbox.validate import list_entries, map_entries, reject_unknown


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
