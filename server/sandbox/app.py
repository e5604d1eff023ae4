"""The sandbox as one Starlette app: Square's 14 Customers endpoints plus the Customer Groups and Segments ones."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import platformdirs
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route
from starlette.types import ASGIApp

from square_customers_mcp.sandbox.endpoint import endpoint, http_error
from square_customers_mcp.sandbox.oauth import OAUTH_ROUTES
from square_customers_mcp.sandbox.oauth_apps import OAuthApp, registry
from square_customers_mcp.sandbox.oauth_tokens import ACCESS_LIFETIME
from square_customers_mcp.sandbox.routes import ROUTES
from square_customers_mcp.sandbox.seed import seed_and_count
from square_customers_mcp.sandbox.store import Store

APP_NAME = "square-customers-mcp"
DB_FILENAME = "sandbox.db"


def default_db_path() -> str:
    """`sandbox.db` in the user's data directory for square-customers-mcp (the folder is created)."""
    folder = Path(platformdirs.user_data_dir(APP_NAME))
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / DB_FILENAME)


def create_app(
    db_path: str = ":memory:",
    *,
    token: str | None = None,
    seed: int = 0,
    oauth_apps: Iterable[OAuthApp | Mapping[str, Any]] = (),
    token_lifetime: float = ACCESS_LIFETIME,
) -> Starlette:
    """The Square-compatible Customers API over a SQLite store at `db_path` (`:memory:` for a private one).

    The store is opened here, not in a lifespan handler, so the app works under httpx.ASGITransport (which
    sends no lifespan events). `token`: accept only this bearer token (default: any) besides the OAuth tokens
    the app issues. `seed`: add that many generated customers if the store holds none (`app.state.seeding`
    says what it did). `oauth_apps`: the applications its emulated Square OAuth knows (OAuthApp or
    {"client_id", "client_secret", "redirect_uris"});
    `token_lifetime`: seconds an access token lasts (Square: 30 days). Close the store with `app.state.store.close()`; an ASGI
    server that runs the lifespan (uvicorn) also closes it on shutdown.
    """
    apps = registry(oauth_apps)  # a bad application fails here, before the database is opened
    store = Store(db_path)
    # What seeding did, and how many customers the database holds, for the start-up line (`Seeding.describe`).
    seeding = (store.write_sync if seed > 0 else store.read_sync)(lambda conn: seed_and_count(conn, seed))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        store.close()

    app = Starlette(
        routes=[
            *(Route(path, endpoint(handler, scope), methods=[method]) for path, method, handler, scope in ROUTES),
            *OAUTH_ROUTES,
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.seeding = seeding
    app.state.token = token
    app.state.oauth_apps = apps
    app.state.token_lifetime = token_lifetime
    return app


def served_app(
    db_path: str | None,
    *,
    token: str | None = None,
    seed: int = 0,
    faults: str | None = None,
    oauth_apps: Iterable[OAuthApp | Mapping[str, Any]] = (),
    token_lifetime: float = ACCESS_LIFETIME,
) -> tuple[Starlette, ASGIApp, str]:
    """The local API as the CLI and the in-process backend both serve it: (the app, whose store is
    `app.state.store`; what to serve: the app, or the app behind the fault injector; the database path).
    `db_path` None: the default file. A bad `faults` SPEC raises FaultSpecError before anything is opened."""
    from square_customers_mcp.sandbox.faults import FaultInjector, FaultSpec

    spec = FaultSpec.parse(faults) if faults else None
    path = db_path or default_db_path()
    app = create_app(path, token=token, seed=seed, oauth_apps=oauth_apps, token_lifetime=token_lifetime)
    return app, (FaultInjector(app, spec) if spec else app), path
