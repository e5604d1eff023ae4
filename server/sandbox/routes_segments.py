"""Handlers for Square's Customer Segments endpoints: list and retrieve only, as segments are read-only."""

from __future__ import annotations

from starlette.requests import Request

from square_customers_mcp.sandbox import segments
from square_customers_mcp.sandbox.errors import JSON
from square_customers_mcp.sandbox.store import Store


async def list_customer_segments(request: Request, store: Store) -> JSON:
    params = request.query_params
    return await store.read(lambda conn: segments.list_segments(conn, params))


async def retrieve_customer_segment(request: Request, store: Store) -> JSON:
    segment_id = str(request.path_params["segment_id"])
    return await store.read(lambda conn: {"segment": segments.segment_json(segments.require_segment(conn, segment_id))})
