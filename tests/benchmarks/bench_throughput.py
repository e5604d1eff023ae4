"""Calls per second over streamable HTTP (stateless, JSON responses) under uvicorn, against the SDK's floor.

Starts our server as a subprocess (`square-customers-mcp serve --transport http`, in-memory local API, no
Square token), creates one customer with a tools/call create_customer, then N concurrent clients (plain
httpx.AsyncClient, one keep-alive connection each) post JSON-RPC tools/call retrieve_customer until a fixed
number of calls is done. Then the same against empty_server.py (one "noop" tool, served through the project's
own build_http_app/serve_http with the same security and size settings, so only the tool's work differs), and
against our server with Square mocked (httpx.MockTransport instead of the in-process local API), which tells
the MCP + dispatcher cost apart from the local API's. The three run in interleaved rounds, in rotating order
(noise from other processes hits all of them). The ratio is the median of our rounds' calls/s over the median
of the empty server's (target >= 0.8, reported, not enforced); every round's figures are printed. Also
reports p50/p99 latency and server CPU per call, and checks that every server turns away a foreign Host, a
foreign Origin, an oversized body (and a missing token, with --http-token) with the same status.

In stateless mode no `initialize` is needed: every POST is answered on its own (the script checks this).

    .venv/bin/python tests/benchmarks/bench_throughput.py [--quick] [--clients 8] [--calls 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
from _common import (
    HERE,
    console_script,
    free_port,
    machine_header,
    port_answers,
    print_table,
    summarize,
    verdict,
    write_results,
)

RATIO_TARGET = 0.8
# main() adds an Authorization header when run with --http-token.
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
START_TIMEOUT = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def cpu_seconds(self) -> float | None:
        """User + system CPU the server process has used so far (Linux /proc), or None elsewhere."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15)


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@contextmanager
def launched(name: str, command: list[str], env: dict[str, str], port: int, logs: Path) -> Iterator[Server]:
    """Start a server subprocess, wait until its port answers; always terminate (then kill) it at the end."""
    log = logs / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink)
    server = Server(name, port, process, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not port_answers(port):
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer on port {port} within {START_TIMEOUT:g}s")
            time.sleep(0.05)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def call_payload(request_id: int, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }


def check(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC result of a successful tools/call; raises with the reason otherwise."""
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
    message = response.json()
    if "error" in message:
        raise RuntimeError(f"JSON-RPC error: {message['error']}")
    result: dict[str, Any] = message["result"]
    if result.get("isError"):
        raise RuntimeError(f"tool error: {result['content'][0]['text'][:200]}")
    return result


async def create_customer(url: str) -> str:
    """One customer to retrieve; sent without any `initialize` first, which stateless mode allows."""
    async with httpx.AsyncClient(headers=HEADERS, timeout=30) as http:
        arguments = {"given_name": "Bench", "family_name": "Mark", "email_address": "bench@example.com"}
        result = check(await http.post(url, json=call_payload(1, "create_customer", arguments)))
        customer_id: str = result["structuredContent"]["customer"]["id"]
        return customer_id


async def load(
    url: str, tool: str, arguments: dict[str, Any], clients: int, calls: int, warmup: int
) -> tuple[Run, float]:
    """`clients` concurrent loops share a budget of `warmup + calls` calls; only the last `calls` are timed."""
    run = Run()
    counter = itertools.count()
    measured_start: list[float] = []

    async def client_loop() -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(headers=HEADERS, timeout=30, limits=limits) as http:
            while (n := next(counter)) < warmup + calls:
                if n == warmup:
                    measured_start.append(time.perf_counter())
                start = time.perf_counter()
                try:
                    check(await http.post(url, json=call_payload(n, tool, arguments)))
                except (RuntimeError, httpx.HTTPError) as error:
                    run.errors.append(f"{type(error).__name__}: {error}"[:300])
                    continue
                if n >= warmup:
                    run.latencies.append(time.perf_counter() - start)

    async with anyio.create_task_group() as tg:
        for _ in range(clients):
            tg.start_soon(client_loop)
    elapsed = time.perf_counter() - (measured_start[0] if measured_start else time.perf_counter())
    return run, elapsed


async def measure(server: Server, tool: str, arguments: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    cpu_before = server.cpu_seconds()
    # Warm-up calls are not timed but do use server CPU: the CPU figure is per call, warm-up included.
    run, elapsed = await load(server.url, tool, arguments, args.clients, args.calls, args.warmup)
    cpu_after = server.cpu_seconds()
    cpu_us = None
    if cpu_before is not None and cpu_after is not None:
        cpu_us = (cpu_after - cpu_before) / (args.calls + args.warmup) * 1e6
    ok = len(run.latencies)
    return {
        "server": server.name,
        "tool": tool,
        "clients": args.clients,
        "calls": args.calls,
        "ok": ok,
        "errors": len(run.errors),
        "first_errors": run.errors[:5],
        "seconds": elapsed,
        "calls_per_s": ok / elapsed if elapsed > 0 else 0.0,
        "latency": summarize(run.latencies),
        "server_cpu_us_per_call": cpu_us,
    }


MOCK_CUSTOMER = {
    "id": "JDKYHBWT1D4F8MFH63DBMEN8Y4",
    "created_at": "2024-05-21T12:16:36.673Z",
    "updated_at": "2024-06-05T07:03:13.673Z",
    "given_name": "Amelia",
    "family_name": "Earhart",
    "company_name": "Acme Supply Co",
    "email_address": "amelia.earhart@example.org",
    "phone_number": "+1-415-555-8541",
    "birthday": "1989-06-08",
    "reference_id": "CRM-000528",
    "note": "Prefers email",
    "preferences": {"email_unsubscribed": False},
    "creation_source": "THIRD_PARTY",
    "version": 5,
}


def serve_mocked(port: int, log_level: str) -> int:
    """Our MCP app served exactly as `serve --transport http` serves it, but Square answers from memory."""
    from square_customers_mcp.app import build_server
    from square_customers_mcp.config import Settings
    from square_customers_mcp.dispatcher import Dispatcher
    from square_customers_mcp.http_server import serve_http
    from square_customers_mcp.logs import configure_logging
    from square_customers_mcp.square_client import SquareClient
    from square_customers_mcp.transports import build_http_app

    def square(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"customer": MOCK_CUSTOMER})

    settings = Settings.from_env()
    configure_logging(log_level.upper(), [settings.http_token])
    server = build_server(Dispatcher(SquareClient(Settings(), transport=httpx.MockTransport(square))))
    app = build_http_app(server, "127.0.0.1", token=settings.http_token, extra_hosts=settings.http_allowed_hosts)
    anyio.run(serve_http, app, "127.0.0.1", port, log_level)
    return 0


async def security_probe(url: str, port: int) -> dict[str, int]:
    """Status codes for requests the HTTP transport must turn away; equal for every server if served alike."""
    body = call_payload(1, "noop", {})
    probes: dict[str, dict[str, Any]] = {
        "foreign Host": {"headers": {**HEADERS, "Host": "evil.example"}, "json": body},
        "foreign Origin": {"headers": {**HEADERS, "Origin": "http://evil.example"}, "json": body},
        "2 MiB body": {
            "headers": HEADERS,
            "content": b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"' + b"x" * (2 << 20) + b'"}}',
        },
    }
    if "Authorization" in HEADERS:
        probes["no bearer token"] = {
            "headers": {k: v for k, v in HEADERS.items() if k != "Authorization"},
            "json": body,
        }
    async with httpx.AsyncClient(timeout=30) as http:
        return {name: (await http.post(url, **request)).status_code for name, request in probes.items()}


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    values = [run["latency"][key] if key.endswith("_ms") else run[key] for run in runs]
    return statistics.median(values) if None not in values else math.nan


async def main(args: argparse.Namespace) -> int:
    machine = machine_header()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUARE_")}
    if args.http_token:
        # Every server reads the same variable the way `serve --transport http` does, and demands the token.
        env["SQUARE_MCP_HTTP_TOKEN"] = args.http_token
        HEADERS["Authorization"] = f"Bearer {args.http_token}"
    logs = Path(tempfile.mkdtemp(prefix="bench_throughput_"))
    level = args.log_level
    ports = {name: free_port() for name in ("ours", "ours_square_mocked", "empty")}
    http_args = ["--transport", "http", "--host", "127.0.0.1", "--port"]
    commands = {
        "ours": [console_script(), "--log-level", level.upper(), "serve", *http_args, str(ports["ours"])],
        "ours_square_mocked": [
            sys.executable,
            __file__,
            "--log-level",
            level,
            "--serve-mocked",
            str(ports["ours_square_mocked"]),
        ],
        "empty": [sys.executable, str(HERE / "empty_server.py"), "--log-level", level, *http_args, str(ports["empty"])],
    }
    envs = {"ours": {**env, "SQUARE_SANDBOX_DB": ":memory:"}, "ours_square_mocked": env, "empty": env}

    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
    with ExitStack() as stack:
        servers = {
            name: stack.enter_context(launched(name, cmd, envs[name], ports[name], logs))
            for name, cmd in commands.items()
        }
        security = {name: await security_probe(server.url, server.port) for name, server in servers.items()}
        customer_id = await create_customer(servers["ours"].url)
        calls = {
            "ours": ("retrieve_customer", {"customer_id": customer_id}),
            "ours_square_mocked": ("retrieve_customer", {"customer_id": MOCK_CUSTOMER["id"]}),
            "empty": ("noop", {}),
        }
        names = list(servers)
        for i in range(args.rounds):
            # Rotate the order each round, so no server always runs first (or right after the same other one).
            for name in names[i % len(names) :] + names[: i % len(names)]:
                tool, arguments = calls[name]
                rounds[name].append(await measure(servers[name], tool, arguments, args))

    print_table(
        "security as served (HTTP status of requests the transport must refuse; equal rows = served alike)",
        ["server", *security["ours"]],
        [[name, *codes.values()] for name, codes in security.items()],
    )
    served_alike = len({tuple(codes.items()) for codes in security.values()}) == 1
    print_table(
        f"every round: {args.clients} clients, {args.calls} calls after {args.warmup} warm-up, log level {level}",
        ["server", "round", "calls/s", "p50 ms", "p99 ms", "errors", "server CPU us/call"],
        [
            [
                name,
                i + 1,
                r["calls_per_s"],
                r["latency"]["p50_ms"],
                r["latency"]["p99_ms"],
                r["errors"],
                r["server_cpu_us_per_call"],
            ]
            for name, runs in rounds.items()
            for i, r in enumerate(runs)
        ],
    )
    per_round = [
        {
            "ours_over_empty": rounds["ours"][i]["calls_per_s"] / rounds["empty"][i]["calls_per_s"],
            "mocked_over_empty": rounds["ours_square_mocked"][i]["calls_per_s"] / rounds["empty"][i]["calls_per_s"],
        }
        for i in range(args.rounds)
    ]
    print_table(
        "calls/s per round, side by side (rounds interleaved: each round runs all three servers in turn)",
        ["round", "ours", "ours, Square mocked", "empty", "ours / empty", "mocked / empty"],
        [
            [
                i + 1,
                rounds["ours"][i]["calls_per_s"],
                rounds["ours_square_mocked"][i]["calls_per_s"],
                rounds["empty"][i]["calls_per_s"],
                ratios["ours_over_empty"],
                ratios["mocked_over_empty"],
            ]
            for i, ratios in enumerate(per_round)
        ],
    )
    medians = {
        name: {
            "tool": runs[0]["tool"],
            "calls_per_s": median_of(runs, "calls_per_s"),
            "p50_ms": median_of(runs, "p50_ms"),
            "p99_ms": median_of(runs, "p99_ms"),
            "errors": sum(r["errors"] for r in runs),
            "server_cpu_us_per_call": median_of(runs, "server_cpu_us_per_call"),
        }
        for name, runs in rounds.items()
    }
    print_table(
        f"streamable HTTP, stateless + JSON, uvicorn on 127.0.0.1, median of {args.rounds} interleaved round(s) "
        f"({os.cpu_count()} CPUs shared by clients and server)",
        ["server", "tool", "calls/s", "p50 ms", "p99 ms", "errors", "server CPU us/call"],
        [
            [
                name,
                m["tool"],
                m["calls_per_s"],
                m["p50_ms"],
                m["p99_ms"],
                m["errors"],
                m["server_cpu_us_per_call"],
            ]
            for name, m in medians.items()
        ],
    )
    failed = any(r["errors"] for runs in rounds.values() for r in runs) or not served_alike
    for name, runs in rounds.items():
        for error in runs[0]["first_errors"]:
            print(f"{name}: {error}")
    if not served_alike:
        print("the servers answered the security probes differently: they are not served alike")
    floor = medians["empty"]["calls_per_s"]
    ratio = medians["ours"]["calls_per_s"] / floor
    mocked_ratio = medians["ours_square_mocked"]["calls_per_s"] / floor
    round_ratio = statistics.median(r["ours_over_empty"] for r in per_round)
    cpu = {name: m["server_cpu_us_per_call"] for name, m in medians.items()}
    cpu_ratio = cpu["empty"] / cpu["ours"] if cpu["empty"] and cpu["ours"] else None
    print_table(
        "target: calls/s of ours over the empty server's, ratio of the medians of interleaved rounds",
        ["comparison", "value", "limit", "verdict"],
        [
            ["ours (in-process local API) / empty", ratio, f">= {RATIO_TARGET}", verdict(ratio >= RATIO_TARGET)],
            ["ours, Square mocked / empty", mocked_ratio, "(diagnostic)", ""],
            ["median of the per-round ratios ours / empty", round_ratio, "(cross-check)", ""],
            ["server CPU per call (medians): empty / ours", cpu_ratio, "(diagnostic)", ""],
        ],
    )
    write_results(
        "throughput",
        {
            "quick": args.quick,
            "clients": args.clients,
            "calls": args.calls,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "log_level": level,
            "http_token": bool(args.http_token),
            "initialize_needed": False,
            "cpus": machine["cores"],
            "security_probe_status": security,
            "served_alike": served_alike,
            "median_of_rounds": medians,
            "per_round_ratios": per_round,
            "all_rounds": rounds,
            "ratio_to_floor": ratio,
            "ratio_definition": "median calls/s of ours over median calls/s of empty, interleaved rounds",
            "mocked_ratio_to_floor": mocked_ratio,
            "median_per_round_ratio": round_ratio,
            "server_cpu_us_per_call_median": cpu,
            "cpu_ratio_empty_over_ours": cpu_ratio,
            "target": {"value": ratio, "limit": RATIO_TARGET, "met": ratio >= RATIO_TARGET, "enforced": False},
        },
    )
    return 1 if failed else 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (a few seconds)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument(
        "--calls", type=int, default=0, help="timed calls per server and round (default 2000; quick 150)"
    )
    parser.add_argument("--warmup", type=int, default=-1, help="untimed calls first (default calls/10, at least 20)")
    parser.add_argument("--rounds", type=int, default=0, help="interleaved rounds per server (default 5; quick 3)")
    parser.add_argument(
        "--log-level", default="warning", choices=["debug", "info", "warning", "error"], help="all servers"
    )
    parser.add_argument(
        "--http-token", help="serve every server with this SQUARE_MCP_HTTP_TOKEN and send it (default: none, loopback)"
    )
    parser.add_argument("--serve-mocked", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (3 if args.quick else 5)
    args.calls = args.calls or (150 if args.quick else 2000)
    args.warmup = args.warmup if args.warmup >= 0 else max(20, args.calls // 10)
    return args


if __name__ == "__main__":
    arguments = parse_args(sys.argv[1:])
    if arguments.serve_mocked:
        sys.exit(serve_mocked(arguments.serve_mocked, arguments.log_level))
    sys.exit(anyio.run(main, arguments))
