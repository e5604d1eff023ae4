"""The sandbox as one Starlette app: Square's 14 Customers endpoints plus the Customer Groups and Segments ones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import platformdirs
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route

from square_customers_mcp.sandbox import routes_bulk as bulk
from square_customers_mcp.sandbox import routes_customers as one
from square_customers_mcp.sandbox import routes_groups as grp
from square_customers_mcp.sandbox import routes_segments as seg
from square_customers_mcp.sandbox.endpoint import endpoint, http_error
from square_customers_mcp.sandbox.seed import seed_if_empty
from square_customers_mcp.sandbox.store import Store

APP_NAME = "square-customers-mcp"
DB_FILENAME = "sandbox.db"

# Order matters: the fixed paths (groups, segments, search, bulk-*) must win over /v2/customers/{customer_id}, as
# on Square. Segments are read-only: other methods on their paths get 405 (or, on the list path, reach a customer
# route with the id "segments" and its 404, as for groups and search).
ROUTES = (
    ("/v2/customers/segments", "GET", seg.list_customer_segments),
    ("/v2/customers/segments/{segment_id}", "GET", seg.retrieve_customer_segment),
    ("/v2/customers/groups", "GET", grp.list_customer_groups),
    ("/v2/customers/groups", "POST", grp.create_customer_group),
    ("/v2/customers/groups/{group_id}", "GET", grp.retrieve_customer_group),
    ("/v2/customers/groups/{group_id}", "PUT", grp.update_customer_group),
    ("/v2/customers/groups/{group_id}", "DELETE", grp.delete_customer_group),
    ("/v2/customers/search", "POST", one.search_customers),
    ("/v2/customers/bulk-create", "POST", bulk.bulk_create_customers),
    ("/v2/customers/bulk-delete", "POST", bulk.bulk_delete_customers),
    ("/v2/customers/bulk-retrieve", "POST", bulk.bulk_retrieve_customers),
    ("/v2/customers/bulk-update", "POST", bulk.bulk_update_customers),
    ("/v2/customers", "GET", one.list_customers),
    ("/v2/customers", "POST", one.create_customer),
    ("/v2/customers/{customer_id}", "GET", one.retrieve_customer),
    ("/v2/customers/{customer_id}", "PUT", one.update_customer),
    ("/v2/customers/{customer_id}", "DELETE", one.delete_customer),
    ("/v2/customers/{customer_id}/cards", "POST", one.create_customer_card),
    ("/v2/customers/{customer_id}/cards/{card_id}", "DELETE", one.delete_customer_card),
    ("/v2/customers/{customer_id}/groups/{group_id}", "PUT", one.add_group_to_customer),
    ("/v2/customers/{customer_id}/groups/{group_id}", "DELETE", one.remove_group_from_customer),
)


def default_db_path() -> str:
    """`sandbox.db` in the user's data directory for square-customers-mcp (the folder is created)."""
    folder = Path(platformdirs.user_data_dir(APP_NAME))
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / DB_FILENAME)


def create_app(db_path: str = ":memory:", *, token: str | None = None, seed: int = 0) -> Starlette:
    """The Square-compatible Customers API over a SQLite store at `db_path` (`:memory:` for a private one).

    The store is opened here, not in a lifespan handler, so the app works under httpx.ASGITransport (which
    sends no lifespan events). `token`: accept only this bearer token (default: any). `seed`: add that many
    generated customers if the store holds none. Close the store with `app.state.store.close()`; an ASGI
    server that runs the lifespan (uvicorn) also closes it on shutdown.
    """
    store = Store(db_path)
    if seed > 0:
        store.write_sync(lambda conn: seed_if_empty(conn, seed))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        store.close()

    app = Starlette(
        routes=[Route(path, endpoint(handler), methods=[method]) for path, method, handler in ROUTES],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.token = token
    return app
