"""Which Square the client talks to: Square's hosts, a URL, or the embedded sandbox in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from server.config import Settings
from server.square_client import SquareClient


@dataclass(frozen=True)
class Backend:
    client: SquareClient
    description: str
    """For the start-up line: which backend and where; never the token."""


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

    # Imported here so that a server talking to Square never loads the sandbox.
    from server.sandbox import create_app, default_db_path

    db_path = settings.sandbox_db or default_db_path()
    app = create_app(db_path)
    client = SquareClient(settings, transport=httpx.ASGITransport(app=app))
    try:
        yield Backend(client, f"local sandbox (in-process, no network), data in {db_path}")
    finally:
        await client.aclose()
        app.state.store.close()
