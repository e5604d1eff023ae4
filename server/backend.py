"""Which Square the client talks to: Square's hosts, a URL, or the embedded sandbox in-process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from square_customers_mcp.config import ConfigError, Settings
from square_customers_mcp.square_client import SquareClient

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import ASGIApp

log = logging.getLogger("square_customers_mcp")


@dataclass(frozen=True)
class Backend:
    client: SquareClient
    description: str
    """For the start-up line: which backend and where; never the token."""


class SandboxTransport(httpx.ASGITransport):
    """The in-process sandbox, where a connection the sandbox drops surfaces as it would over TCP."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        from square_customers_mcp.sandbox.faults import DroppedConnection

        try:
            return await super().handle_async_request(request)
        except DroppedConnection as error:
            raise httpx.RemoteProtocolError(str(error), request=request) from None


def local_api(db_path: str | None, fix: str, **options: Any) -> tuple[Starlette, ASGIApp, str]:
    """The sandbox's `served_app`, where a database that can't be opened is a ConfigError saying `fix`."""
    # Imported here so that a server talking to Square never loads the sandbox.
    from square_customers_mcp.sandbox import served_app
    from square_customers_mcp.sandbox.store import StoreOpenError

    try:
        return served_app(db_path, **options)
    except StoreOpenError as error:
        raise ConfigError(f"{error}; {fix}") from None
    except OSError as error:  # the default database folder could not be made
        folder = f" {error.filename}" if error.filename else ""
        raise ConfigError(
            f"cannot create the local API database folder{folder}: {error.strerror or error}; {fix}"
        ) from None


@asynccontextmanager
async def open_backend(settings: Settings) -> AsyncIterator[Backend]:
    if not settings.uses_embedded_sandbox:
        client = SquareClient(settings)
        label = "Square production" if settings.environment == "production" else "Square sandbox"
        if settings.base_url:
            label = f"{settings.environment} API"
        try:
            yield Backend(client, f"{label} at {settings.resolved_base_url}")
        finally:
            await client.aclose()
        return

    app, served, db_path = local_api(
        settings.sandbox_db, "set SQUARE_SANDBOX_DB to a writable file (or :memory:)", faults=settings.sandbox_faults
    )
    faults = f", injecting faults {settings.sandbox_faults}" if settings.sandbox_faults else ""
    client = SquareClient(settings, transport=SandboxTransport(app=served))
    try:
        yield Backend(
            client, f"local API (in-process, no network{faults}), data in {db_path}; {app.state.seeding.describe()}"
        )
    finally:
        await client.aclose()
        app.state.store.close()
