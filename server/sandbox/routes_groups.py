"""Handlers for Square's Customer Groups endpoints, so groups can be made and found."""

from __future__ import annotations

from starlette.requests import Request

from square_customers_mcp.sandbox import groups
from square_customers_mcp.sandbox.endpoint import json_body
from square_customers_mcp.sandbox.errors import JSON
from square_customers_mcp.sandbox.store import Store


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
