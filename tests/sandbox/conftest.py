"""Fixtures for the sandbox tests: a private in-memory sandbox and a client that checks every response."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sandbox_support import make_client
from starlette.applications import Starlette

from square_customers_mcp.sandbox import create_app


@pytest.fixture
def app() -> Iterator[Starlette]:
    application = create_app(":memory:")
    yield application
    application.state.store.close()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the in-memory sandbox; every response is validated against the spec's response schema."""
    async with make_client(app) as http:
        yield http
