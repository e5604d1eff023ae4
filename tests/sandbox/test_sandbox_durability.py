"""Durability: every create answered 200 is on disk, even when the server is SIGKILLed mid-stream."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import anyio
import httpx
import pytest
from sandbox_support import AUTH, live_sandbox

pytestmark = pytest.mark.anyio

WORKERS = 8
KILL_AFTER = 300  # customers answered before the kill


async def test_answered_creates_survive_sigkill(tmp_path: Path) -> None:
    db_path = str(tmp_path / "sandbox.db")
    answered: list[str] = []
    enough = anyio.Event()

    def record(ids: list[str]) -> None:
        answered.extend(ids)
        if len(answered) >= KILL_AFTER:
            enough.set()

    with live_sandbox(db_path) as (process, base_url):
        stop = anyio.Event()

        async def worker(n: int, http: httpx.AsyncClient) -> None:
            step = 0
            while not stop.is_set():
                step += 1
                try:
                    if step % 2:
                        body = {"given_name": f"W{n}", "family_name": f"S{step}", "idempotency_key": f"{n}-{step}"}
                        response = await http.post("/v2/customers", json=body)
                        if response.status_code == 200:
                            record([response.json()["customer"]["id"]])
                    else:
                        entries = {f"{n}-{step}-{i}": {"given_name": f"B{n}", "note": str(i)} for i in range(5)}
                        response = await http.post("/v2/customers/bulk-create", json={"customers": entries})
                        if response.status_code == 200:
                            record([r["customer"]["id"] for r in response.json()["responses"].values()])
                except httpx.TransportError:
                    return  # the server is gone

        async def killer() -> None:
            await enough.wait()
            process.send_signal(signal.SIGKILL)  # requests are still in flight
            stop.set()

        async with (
            httpx.AsyncClient(base_url=base_url, headers=AUTH, timeout=10) as http,
            anyio.create_task_group() as tg,
        ):
            for n in range(WORKERS):
                tg.start_soon(worker, n, http)
            tg.start_soon(killer)
        assert process.wait(timeout=10) == -signal.SIGKILL

    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in conn.execute("SELECT id FROM customers")}
    finally:
        conn.close()
    assert len(answered) >= KILL_AFTER
    missing = set(answered) - stored
    assert not missing, f"{len(missing)} customers answered 200 were lost"
