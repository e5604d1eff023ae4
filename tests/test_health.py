"""/healthz and /readyz: outside the bearer token, probes as data, cached, and safe to show anyone."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import anyio
import httpx
import pytest
from fakes import MakeFakeSquare, json_response

from square_customers_mcp.app import build_server
from square_customers_mcp.backend import open_backend
from square_customers_mcp.config import Settings
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.health import Probe, ProbeFailed, Readiness, backend_probe
from square_customers_mcp.square_client import SquareClient
from square_customers_mcp.transports import build_http_app

pytestmark = pytest.mark.anyio
TOKEN = "http-test-token-5f2c"  # one of tests/leak_scan.py's canaries


async def passes() -> None:
    pass


async def refuses() -> None:
    raise ProbeFailed("state store is read-only")


async def get(
    path: str, *, token: str | None = None, probes: Sequence[Probe] = (), host: str = "127.0.0.1:8000"
) -> httpx.Response:
    async with open_backend(Settings.from_env({"SQUARE_SANDBOX_DB": ":memory:"})) as backend:
        app = build_http_app(build_server(Dispatcher(backend.client)), "127.0.0.1", token=token, probes=probes)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as client:
            return await client.get(path)


@pytest.mark.parametrize("token", [None, TOKEN])
async def test_healthz_answers_without_a_token(token: str | None) -> None:
    response = await get("/healthz", token=token)
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"
    if token:  # while /mcp does need it
        assert (await get("/mcp", token=token)).status_code == 401


async def test_readyz_answers_without_a_token_and_any_host() -> None:
    # A load balancer's Host (an instance address) is not one of the allowed hosts the /mcp checks accept.
    response = await get("/readyz", token=TOKEN, probes=[Probe("ok-probe", passes)], host="10.0.0.7:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "probes": {"ok-probe": {"status": "ok"}}}


async def test_readyz_is_503_naming_the_failed_probe_and_why() -> None:
    response = await get("/readyz", probes=[Probe("backend", passes), Probe("state", refuses)])
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "probes": {
            "backend": {"status": "ok"},
            "state": {"status": "failed", "reason": "state store is read-only"},
        },
    }


async def test_a_failure_shows_its_type_only_and_a_slow_probe_times_out() -> None:
    async def leaks() -> None:
        raise RuntimeError(f"could not reach postgresql://admin:{TOKEN}@db.internal/state")

    async def hangs() -> None:
        await anyio.sleep(30)

    with anyio.fail_after(5):
        results = await Readiness([Probe("db", leaks), Probe("slow", hangs, timeout=0.05)]).results()
    assert results == {"db": "RuntimeError", "slow": "no answer within 0.05 s"}


async def test_results_are_cached_and_shared_by_concurrent_requests() -> None:
    runs = 0

    async def counted() -> None:
        nonlocal runs
        runs += 1
        await anyio.sleep(0.01)

    now = [100.0]
    readiness = Readiness([Probe("counted", counted)], cache_seconds=2.0, clock=lambda: now[0])
    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(readiness.results)
    assert runs == 1
    now[0] += 1.9
    await readiness.results()
    assert runs == 1
    now[0] += 0.2
    await readiness.results()
    assert runs == 2


def test_probe_names_are_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        Readiness([Probe("a", passes), Probe("a", refuses)])


async def test_backend_probe_reaches_the_embedded_local_api() -> None:
    async with open_backend(Settings.from_env({"SQUARE_SANDBOX_DB": ":memory:"})) as backend:
        assert await Readiness([backend_probe(backend.client)]).results() == {"backend": None}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


async def test_backend_probe_fails_on_an_unreachable_port() -> None:
    client = SquareClient(Settings.from_env({"SQUARE_BASE_URL": f"http://127.0.0.1:{closed_port()}"}))
    try:
        results = await Readiness([backend_probe(client)]).results()
    finally:
        await client.aclose()
    assert results == {"backend": "unreachable (ConnectError)"}


@pytest.mark.parametrize("status", [200, 401, 404, 503])
async def test_any_http_answer_is_reachable_and_no_token_is_sent(fake_square: MakeFakeSquare, status: int) -> None:
    square = fake_square(json_response({"errors": []}, status))
    results = await Readiness([backend_probe(square.client())]).results()
    assert results == {"backend": None}
    (sent,) = square.requests
    assert sent.method == "GET" and sent.url.path == "/" and "authorization" not in sent.headers


async def test_a_square_that_does_not_answer_in_time_is_not_ready(fake_square: MakeFakeSquare) -> None:
    def slow(request: httpx.Request) -> Any:
        raise httpx.ConnectTimeout("no answer", request=request)

    square = fake_square(slow)
    assert await Readiness([backend_probe(square.client())]).results() == {"backend": "no answer within 2 s"}
