"""Optimistic concurrency under real contention: version checks are atomic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from sandbox_support import make_client, make_customer

from square_customers_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("storage", ["memory", "file"])
async def test_fifty_updates_with_one_version_exactly_one_wins(storage: str, tmp_path: Path) -> None:
    app = create_app(":memory:" if storage == "memory" else str(tmp_path / "sandbox.db"))
    try:
        async with make_client(app) as http:
            customer = await make_customer(http)
            statuses: list[int] = []

            async def update(n: int) -> None:
                body: dict[str, Any] = {"note": f"writer {n}", "version": customer["version"]}
                statuses.append((await http.put(f"/v2/customers/{customer['id']}", json=body)).status_code)

            async with anyio.create_task_group() as tg:
                for n in range(50):
                    tg.start_soon(update, n)
            assert sorted(statuses) == [200] + [409] * 49
            final = (await http.get(f"/v2/customers/{customer['id']}")).json()["customer"]
            assert final["version"] == 1
    finally:
        app.state.store.close()


async def test_concurrent_creates_and_reads_on_a_file_store(tmp_path: Path) -> None:
    app = create_app(str(tmp_path / "sandbox.db"))
    try:
        async with make_client(app) as http:

            async def create(n: int) -> None:
                response = await http.post("/v2/customers", json={"given_name": f"C{n:03d}"})
                assert response.status_code == 200

            async def read() -> None:
                assert (await http.get("/v2/customers", params={"limit": 5})).status_code == 200

            async with anyio.create_task_group() as tg:
                for n in range(60):
                    tg.start_soon(create, n)
                    tg.start_soon(read)
            body = (await http.get("/v2/customers", params={"count": "true", "limit": 100})).json()
            assert body["count"] == 60 and len(body["customers"]) == 60
    finally:
        app.state.store.close()


async def test_two_memory_apps_do_not_share_data() -> None:
    first, second = create_app(), create_app()
    try:
        async with make_client(first) as a, make_client(second) as b:
            await make_customer(a)
            assert (await b.get("/v2/customers")).json() == {}
    finally:
        first.state.store.close()
        second.state.store.close()
