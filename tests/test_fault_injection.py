"""Under injected faults (rate limits, 5xx, latency, dropped connections before and after the write),
create_customer through MCP loses nothing and duplicates nothing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client

from square_customers_mcp.app import build_server
from square_customers_mcp.backend import SandboxTransport
from square_customers_mcp.config import ConfigError, Settings
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.retry import RetryPolicy
from square_customers_mcp.sandbox import create_app
from square_customers_mcp.sandbox.faults import FaultInjector, FaultSpec, FaultSpecError
from square_customers_mcp.square_client import SquareClient

pytestmark = pytest.mark.anyio
CALLS = 500
# 30% of requests fail, 6% in each way, and 10% are slowed down.
SPEC = "429=0.06,500=0.06,503=0.06,drop_before=0.06,drop_after=0.06,latency=0.1,latency_ms=5,retry_after=0,seed=7"


async def _all_customers(app: httpx.ASGITransport) -> list[dict[str, object]]:
    customers: list[dict[str, object]] = []
    async with httpx.AsyncClient(transport=app, base_url="http://s", headers={"Authorization": "Bearer t"}) as http:
        cursor = None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            body = (await http.get("/v2/customers", params=params)).json()
            customers += body.get("customers", [])
            cursor = body.get("cursor")
            if not cursor:
                return customers


async def test_500_creates_under_30_percent_faults_make_exactly_500_customers() -> None:
    app = create_app(":memory:")
    injector = FaultInjector(app, FaultSpec.parse(SPEC))
    policy = RetryPolicy(max_attempts=15, deadline_seconds=30, base_delay=0.001, max_delay=0.01)
    square = SquareClient(Settings(), transport=SandboxTransport(app=injector), retry=policy)
    server = build_server(Dispatcher(square))
    outcomes: list[bool] = []
    started = time.monotonic()
    async with Client(server, raise_exceptions=True) as client:
        limiter = anyio.CapacityLimiter(10)

        async def create(i: int) -> None:
            async with limiter:
                result = await client.call_tool("create_customer", {"given_name": f"Fault{i:04d}"})
            if result.is_error:  # allowed only as a clear error after the deadline
                assert result.content[0].text.split(":")[0] in {"NETWORK_ERROR", "RATE_LIMITED", "SERVICE_UNAVAILABLE"}
            outcomes.append(not result.is_error)

        async with anyio.create_task_group() as tg:
            for i in range(CALLS):
                tg.start_soon(create, i)
    elapsed = time.monotonic() - started
    customers = await _all_customers(httpx.ASGITransport(app=app))
    names = [c["given_name"] for c in customers]
    counts = injector.counts
    injected = sum(counts[k] for k in ("429", "500", "503", "drop_before", "drop_after"))
    report = {
        "calls": CALLS,
        "succeeded": sum(outcomes),
        "requests": counts["requests"],
        "faults_injected": injected,
        "by_kind": {k: counts[k] for k in ("429", "500", "503", "drop_before", "drop_after", "latency")},
        "retries": counts["requests"] - CALLS,
        "customers_created": len(customers),
        "duplicates": len(names) - len(set(names)),
        "seconds": round(elapsed, 2),
    }
    print("\nfault injection:", json.dumps(report))
    app.state.store.close()
    assert all(outcomes), "with 15 attempts per call every call must get through"
    assert len(customers) == CALLS
    assert sorted(names) == sorted(f"Fault{i:04d}" for i in range(CALLS))
    assert counts["drop_after"] > 0 and counts["drop_before"] > 0 and counts["429"] > 0
    assert 0.2 < injected / counts["requests"] < 0.4


async def test_without_idempotency_keys_a_lost_answer_would_duplicate() -> None:
    """The control experiment: the same fault, resent by hand without a key, makes two customers."""
    app = create_app(":memory:")
    injector = FaultInjector(app, FaultSpec.parse("drop_after=1"))
    async with httpx.AsyncClient(transport=SandboxTransport(app=injector), base_url="http://s") as http:
        for _ in range(2):
            with pytest.raises(httpx.RemoteProtocolError):
                await http.post("/v2/customers", json={"given_name": "Twice"}, headers={"Authorization": "Bearer t"})
    assert [c["given_name"] for c in await _all_customers(httpx.ASGITransport(app=app))] == ["Twice", "Twice"]
    app.state.store.close()


async def test_in_process_sandbox_takes_faults_from_the_environment() -> None:
    from square_customers_mcp.backend import open_backend

    settings = Settings.from_env({"SQUARE_SANDBOX_DB": ":memory:", "SQUARE_SANDBOX_FAULTS": "503=1"})
    settings = settings.with_overrides(retry_policy=RetryPolicy(max_attempts=2, base_delay=0.001))
    async with open_backend(settings) as backend:
        result = await Dispatcher(backend.client).call("list_customers", {})
    assert "injecting faults 503=1" in backend.description
    assert result.is_error and result.content[0].text.startswith("SERVICE_UNAVAILABLE")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("429=2", "probability"),
        ("teapot=0.1", "unknown fault setting"),
        ("500=0.7,503=0.7", "more than 1"),
        # Every number is range-checked: these were taken, then slept forever or crashed int().
        ("latency=1,latency_ms=1e308", "latency_ms must be milliseconds from 0 to 60000, got '1e308'"),
        ("latency=1,latency_ms=inf", "latency_ms must be milliseconds from 0 to 60000, got 'inf'"),
        ("latency_ms=nan", "latency_ms must be milliseconds"),
        ("latency_ms=-1", "latency_ms must be milliseconds"),
        ("retry_after=1e9", "retry_after must be seconds from 0 to 3600"),
        ("retry_after=inf", "retry_after must be seconds"),
        ("seed=inf", "seed must be a whole number from 0 to 4294967295"),
        ("seed=nan", "seed must be a whole number"),
        ("seed=1.5", "seed must be a whole number"),
        ("503=nan", "probability"),
        ("latency=inf", "probability"),
    ],
)
def test_bad_fault_specs_are_refused_clearly(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        FaultSpec.parse(spec)
    with pytest.raises(ConfigError, match="SQUARE_SANDBOX_FAULTS"):
        Settings.from_env({"SQUARE_SANDBOX_FAULTS": spec})


def test_the_largest_fault_settings_are_taken() -> None:
    spec = FaultSpec.parse("latency=1,latency_ms=60000,retry_after=3600,seed=4294967295,429=1")
    assert (spec.latency_ms, spec.retry_after, spec.seed, spec.rates) == (60000, 3600, 4294967295, {"429": 1})


@pytest.mark.parametrize(
    ("argv", "env", "words"),
    [
        (["sandbox", "--port", "0", "--faults", "latency=1,latency_ms=1e308"], {}, "--faults: latency_ms must be"),
        ([], {"SQUARE_SANDBOX_FAULTS": "latency=1,latency_ms=inf"}, "SQUARE_SANDBOX_FAULTS: latency_ms must be"),
    ],
)
def test_an_out_of_range_fault_setting_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    env: dict[str, str],
    words: str,
) -> None:
    from square_customers_mcp import cli

    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)  # leave the process's logging alone
    monkeypatch.setenv("SQUARE_SANDBOX_DB", ":memory:")
    monkeypatch.delenv("SQUARE_SANDBOX_FAULTS", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err


async def test_sandbox_command_injects_faults_over_real_tcp(tmp_path: Path) -> None:
    """`square-customers-mcp sandbox --faults`: dropped connections are real TCP drops, and still
    no create is lost or duplicated."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("square-customers-mcp")), "sandbox", "--port", str(port),
        "--db", str(tmp_path / "faults.db"), "--log-level", "ERROR",
        "--faults", "429=0.1,503=0.1,drop_before=0.1,drop_after=0.1,retry_after=0,seed=3",
    ]  # fmt: skip
    async with await anyio.open_process(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        try:
            await wait_for_port(port)
            settings = Settings.from_env({"SQUARE_BASE_URL": f"http://127.0.0.1:{port}"})
            policy = RetryPolicy(max_attempts=20, deadline_seconds=30, base_delay=0.001, max_delay=0.01)
            dispatcher = Dispatcher(SquareClient(settings, retry=policy))
            for i in range(40):
                result = await dispatcher.call("create_customer", {"given_name": f"Tcp{i:02d}"})
                assert not result.is_error, result.content
            # One page: 25 a page by default, Square's 100 when asked.
            listed = await dispatcher.call("list_customers", {"count": True, "fields": ["given_name"], "limit": 100})
            assert listed.structured_content is not None and "next_cursor" not in listed.structured_content
            names = sorted(c["given_name"] for c in listed.structured_content["customers"])
            assert listed.structured_content["count"] == 40
            assert names == [f"Tcp{i:02d}" for i in range(40)]
        finally:
            proc.terminate()


@pytest.mark.slow  # a subprocess
async def test_sandbox_command_takes_its_token_from_the_environment(tmp_path: Path) -> None:
    """SQUARE_SANDBOX_TOKEN: the token stays out of the process list, and only that token opens the local API."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("square-customers-mcp")), "sandbox", "--port", str(port),
        "--db", str(tmp_path / "token.db"), "--log-level", "ERROR",
    ]  # fmt: skip
    env = {**os.environ, "SQUARE_SANDBOX_TOKEN": "sandbox-env-token-7f3a"}
    async with await anyio.open_process(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env) as proc:
        try:
            await wait_for_port(port)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                wrong = await http.get("/v2/customers", headers={"Authorization": "Bearer another-token"})
                right = await http.get("/v2/customers", headers={"Authorization": "Bearer sandbox-env-token-7f3a"})
            assert wrong.status_code == 401 and right.status_code == 200
        finally:
            proc.terminate()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_for_port(port: int) -> None:
    with anyio.fail_after(15):
        while True:
            try:
                stream = await anyio.connect_tcp("127.0.0.1", port)
            except OSError:
                await anyio.sleep(0.05)
            else:
                await stream.aclose()
                return
