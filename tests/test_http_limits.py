"""HTTP that can't be stalled (issue 11): request deadlines, the connection cap that makes room, the in-flight
cap, no endless event stream, and the local API's Host/Origin checks and body limit."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from square_customers_mcp.http_server import InFlightLimit, Limits, guarded, security_settings, uvicorn_config
from square_customers_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio
AUTH = {"Authorization": "Bearer any"}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def local_api(limits: Limits, host: str = "127.0.0.1", seed: int = 0) -> AsyncIterator[str]:
    async with serving(limits, host, seed) as (url, _):
        yield url


@asynccontextmanager
async def serving(limits: Limits, host: str = "127.0.0.1", seed: int = 0) -> AsyncIterator[tuple[str, uvicorn.Server]]:
    """The local API served exactly as `square-customers-mcp sandbox` serves it, with these limits."""
    app = create_app(":memory:", seed=seed)
    port = free_port(host)
    server = uvicorn.Server(uvicorn_config(guarded(app, host, [], 1024 * 1024), host, port, "warning", limits))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no start event
            await anyio.sleep(0.01)
        try:
            yield f"http://{host}:{port}", server
        finally:
            server.should_exit = True
    app.state.store.close()


async def half_open(url: str, count: int, data: bytes = b"POST /v2/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n") -> list:
    host, port = url.removeprefix("http://").split(":")
    streams = []
    for _ in range(count):
        stream = await anyio.connect_tcp(host, int(port))
        await stream.send(data)
        streams.append(stream)
    return streams


async def closed_by_server(stream: anyio.abc.SocketStream, within: float) -> bool:
    with anyio.move_on_after(within):
        try:
            while await stream.receive():
                pass
        except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionResetError):
            return True
    return False


async def test_a_request_that_never_finishes_its_headers_is_closed_at_the_deadline() -> None:
    async with local_api(Limits(request_seconds=0.3)) as url:
        (stream,) = await half_open(url, 1)
        assert await closed_by_server(stream, within=3)


async def test_a_request_whose_body_never_arrives_is_closed_at_the_deadline() -> None:
    head = b"POST /v2/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"
    async with local_api(Limits(request_seconds=0.3)) as url:
        (stream,) = await half_open(url, 1, head)
        assert await closed_by_server(stream, within=3)


async def test_a_complete_request_is_not_cut_by_the_deadline() -> None:
    async with local_api(Limits(request_seconds=0.3)) as url, httpx.AsyncClient() as client:
        for _ in range(3):  # on one kept-alive connection, across more than one deadline
            assert (await client.get(f"{url}/v2/customers", headers=AUTH)).status_code == 200
            await anyio.sleep(0.2)


async def test_a_client_that_never_reads_its_answers_is_closed_at_the_deadline() -> None:
    """Pipelined requests whose answers are never read fill the send buffer: the connection then counts as
    running a request, out of reach of the receive deadline and of eviction, unless writing has one too."""
    request = b"GET /v2/customers?limit=100 HTTP/1.1\r\nHost: localhost:1\r\nAuthorization: Bearer any\r\n\r\n"
    async with serving(Limits(request_seconds=0.5), seed=200) as (url, server):
        host, port = url.removeprefix("http://").split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(2)
        try:
            sock.connect((host, int(port)))
            sock.sendall(request * 400)  # about 12 MB of answers, never read
            while not server.server_state.total_requests:  # noqa: ASYNC110 - uvicorn offers no event
                await anyio.sleep(0.01)
            with anyio.fail_after(5):
                while server.server_state.connections:  # noqa: ASYNC110 - nor one for closing
                    await anyio.sleep(0.1)
        finally:
            sock.close()  # else a server that kept it would wait for it on shutdown


async def test_half_open_connections_over_the_cap_make_room_for_a_complete_request() -> None:
    async with local_api(Limits(max_connections=20, request_seconds=60)) as url:
        streams = await half_open(url, 60)
        async with httpx.AsyncClient() as client:
            with anyio.fail_after(2):
                answer = await client.get(f"{url}/v2/customers", headers=AUTH)
        assert answer.status_code == 200
        assert sum([await closed_by_server(s, within=0.05) for s in streams]) >= 40  # the oldest went first
        for stream in streams:
            await stream.aclose()


async def test_requests_over_the_in_flight_cap_get_503_at_once() -> None:
    release = anyio.Event()

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    client = httpx.AsyncClient(transport=httpx.ASGITransport(InFlightLimit(slow, 2)), base_url="http://t")
    statuses: list[int] = []

    async def get() -> None:
        statuses.append((await client.get("/")).status_code)

    async with anyio.create_task_group() as tg:
        tg.start_soon(get)
        tg.start_soon(get)
        await anyio.sleep(0.05)
        with anyio.fail_after(1):
            third = await client.get("/")
        release.set()
    assert third.status_code == 503
    assert third.headers["retry-after"] == "1"
    assert statuses == [200, 200]


async def test_any_loopback_address_can_be_bound_and_answers() -> None:
    async with local_api(Limits(), host="127.0.0.2") as url, httpx.AsyncClient() as client:
        assert (await client.get(f"{url}/v2/customers", headers=AUTH)).status_code == 200


def test_the_bound_address_is_an_allowed_host() -> None:
    assert "127.0.0.2:*" in security_settings("127.0.0.2", []).allowed_hosts
    assert "[::1]:*" in security_settings("::1", []).allowed_hosts
    assert "0.0.0.0:*" not in security_settings("0.0.0.0", []).allowed_hosts


async def test_the_local_api_checks_host_and_origin_and_caps_bodies() -> None:
    app = create_app(":memory:")
    served = guarded(app, "127.0.0.1", ["sandbox.internal:*"], 1024)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(served), base_url="http://127.0.0.1:8765") as client:
        ok = await client.get("/v2/customers", headers=AUTH)
        rebound = await client.get("/v2/customers", headers={**AUTH, "Host": "attacker.example:8765"})
        foreign = await client.get("/v2/customers", headers={**AUTH, "Origin": "http://attacker.example"})
        extra = await client.get("/v2/customers", headers={**AUTH, "Host": "sandbox.internal:8765"})
        big = await client.post("/v2/customers", headers=AUTH, content=b"x" * 2048)
    app.state.store.close()
    assert (ok.status_code, rebound.status_code, foreign.status_code, extra.status_code) == (200, 421, 403, 200)
    assert big.status_code == 413


async def test_get_on_the_mcp_endpoint_opens_no_endless_stream() -> None:
    from square_customers_mcp.app import build_server
    from square_customers_mcp.dispatcher import Dispatcher
    from square_customers_mcp.transports import build_http_app

    app = build_http_app(build_server(Dispatcher(httpx.AsyncClient())), "127.0.0.1")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1:8000") as client:
        with anyio.fail_after(2):
            answer = await client.get("/mcp", headers={"Accept": "text/event-stream"})
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST, DELETE"


SCRIPT = Path(sys.executable).with_name("square-customers-mcp")
HTTP_TOKEN = "slowloris-test-token-9d41"


def _call(command: str, port: int) -> httpx.Response:
    if command == "serve":
        return httpx.post(
            f"http://127.0.0.1:{port}/mcp",
            headers={
                "Authorization": f"Bearer {HTTP_TOKEN}",
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": "2025-06-18",
            },
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            timeout=2,
        )
    return httpx.get(
        f"http://127.0.0.1:{port}/v2/customers", headers={"Authorization": f"Bearer {HTTP_TOKEN}"}, timeout=2
    )


@pytest.mark.slow
@pytest.mark.parametrize("command", ["serve", "sandbox"])
def test_slowloris_with_1000_half_open_connections(command: str, tmp_path: Path) -> None:
    """The attack from issue 11, bounded and on loopback: 1,000 connections that never finish their headers
    (no token needed for that), then one well-formed authenticated call; it must be answered within 2 s,
    and the log must stay small."""
    port = free_port()
    args = ["serve", "--transport", "http"] if command == "serve" else ["sandbox", "--db", str(tmp_path / "s.db")]
    env = {**os.environ, "SQUARE_MCP_HTTP_TOKEN": HTTP_TOKEN, "SQUARE_SANDBOX_TOKEN": HTTP_TOKEN}
    env.pop("SQUARE_ACCESS_TOKEN", None)
    log_path = tmp_path / "stderr.log"
    with log_path.open("w") as log_file:
        server = subprocess.Popen([str(SCRIPT), *args, "--port", str(port)], env=env, stderr=log_file)
        sockets: list[socket.socket] = []
        try:
            for _ in range(200):
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                time.sleep(0.05)
            for _ in range(1000):
                sock = socket.create_connection(("127.0.0.1", port))
                sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n")
                sockets.append(sock)
            started = time.monotonic()
            answer = _call(command, port)
            elapsed = time.monotonic() - started
            time.sleep(0.5)  # let the server log what it did with the 1,000
        finally:
            for sock in sockets:
                sock.close()
            server.terminate()
            server.wait(timeout=10)
    assert answer.status_code == 200, answer.text
    assert elapsed < 2
    lines = log_path.read_text().splitlines()
    assert len(lines) < 100, lines[:20]


def test_the_local_api_refuses_a_non_loopback_bind_without_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from square_customers_mcp.cli import main

    monkeypatch.delenv("SQUARE_SANDBOX_TOKEN", raising=False)
    assert main(["sandbox", "--host", "0.0.0.0", "--db", ":memory:"]) == 2
    assert "SQUARE_SANDBOX_TOKEN" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["70000", "-1", "80.5", "http"])
def test_a_bad_port_is_one_line_and_exit_2(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    from square_customers_mcp.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["sandbox", "--port", port])
    assert exit_info.value.code == 2
    assert "0 to 65535" in capsys.readouterr().err


def test_the_all_busy_refusal_is_a_well_formed_503() -> None:
    """Written by hand before any request is read, so its framing is checked here: a wrong Content-Length
    would leave a client waiting for a byte or reading one too many."""
    import h11

    from square_customers_mcp.http_server import _BUSY

    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method="GET", target="/", headers=[("Host", "127.0.0.1:1")]))
    client.send(h11.EndOfMessage())
    client.receive_data(_BUSY)
    response, body, end = client.next_event(), client.next_event(), client.next_event()
    assert isinstance(response, h11.Response) and response.status_code == 503
    assert isinstance(body, h11.Data) and body.data == b"too many connections, retry"
    assert isinstance(end, h11.EndOfMessage)
