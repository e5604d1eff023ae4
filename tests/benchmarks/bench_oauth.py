"""OAuth mode, measured on loopback (issue 13): how long a person takes from the first unauthenticated request to
their first tool call, and how many tool calls per second 100 signed-in people get from one replica and from two.

    python tests/benchmarks/bench_oauth.py                       # state in a temporary SQLite file
    python tests/benchmarks/bench_oauth.py --state-url postgresql://...   # as replicas should run
    python tests/benchmarks/bench_oauth.py --quick

Everything runs on this machine: the local API playing Square (one process), the replicas (console scripts in
OAuth mode), and this load generator, with at most `--concurrency` calls in flight. "Time to first call" covers
discovery (the 401 and both metadata documents), registration, /authorize, this server's consent page and
Square's (a scripted person: no human think time), the callback, the code exchange and one tools/call. Reported, not enforced.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "oauth"))
from _common import machine_header, percentile, print_table, write_results
from oauth_mcp_support import BOTH, Deployment, call, register, replica_set, sign_in


async def first_call(http: httpx.AsyncClient, dep: Deployment, merchant: str) -> float:
    """Seconds from an unauthenticated request to the answer of the first tool call."""
    started = time.perf_counter()
    challenge = await http.post(dep.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                                headers={"Accept": "application/json, text/event-stream"})  # fmt: skip
    assert challenge.status_code == 401
    metadata_url = challenge.headers["WWW-Authenticate"].split('resource_metadata="')[1].split('"')[0]
    resource = (await http.get(metadata_url)).json()
    server = (await http.get(f"{resource['authorization_servers'][0]}/.well-known/oauth-authorization-server")).json()
    assert server["registration_endpoint"]
    tokens = await sign_in(http, dep, merchant, BOTH)
    result = await call(http, dep, tokens["access_token"], "list_customers", limit=10)
    assert not result.get("isError"), result
    return time.perf_counter() - started


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def throughput(
    http: httpx.AsyncClient, replicas: list[Deployment], tokens: list[str], seconds: float, concurrency: int
) -> dict[str, float]:
    """Calls per second while `concurrency` workers call list_customers for random people, round-robin over the
    replicas; and the per-call latency."""
    order = itertools.cycle(range(len(tokens)))
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            index = next(order)
            started = time.perf_counter()
            result = await call(http, replicas[index % len(replicas)], tokens[index], "list_customers", limit=10)
            latencies.append(time.perf_counter() - started)
            errors += bool(result.get("isError"))

    cpu_before = sum(cpu_seconds(replica.pid) for replica in replicas)
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    cpu = sum(cpu_seconds(replica.pid) for replica in replicas) - cpu_before
    return {"calls_per_s": len(latencies) / elapsed, "calls": len(latencies), "errors": errors,
            "replica_cpu_ms_per_call": cpu / max(1, len(latencies)) * 1000,
            "p50_ms": percentile(latencies, 50) * 1000, "p95_ms": percentile(latencies, 95) * 1000}  # fmt: skip


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.concurrency * 2, max_keepalive_connections=args.concurrency * 2)
    results: dict[str, Any] = {}
    state_url = args.state_url or f"sqlite:///{tmp / 'state.db'}"
    for count in (1, 2):
        folder = tmp / f"replicas-{count}"
        folder.mkdir()
        with replica_set(folder, state_url, count) as replicas:
            async with httpx.AsyncClient(timeout=30, limits=limits) as http:
                firsts = [await first_call(http, replicas[i % count], f"MERCHANTFIRST{count}{i:03d}")
                          for i in range(args.first_calls)]  # fmt: skip
                # One registered client for the people: /register is rate-limited per address, and here every
                # person comes from 127.0.0.1.
                client = await register(http, replicas[0].base)
                people = [
                    (await sign_in(http, replicas[i % count], f"MERCHANTPEOPLE{count}{i:03d}", BOTH, client=client))[
                        "access_token"
                    ]
                    for i in range(args.people)
                ]
                await throughput(http, replicas, people, 1.0, args.concurrency)  # warm-up
                results[f"{count} replica(s)"] = {
                    "first_call_ms": {"p50": percentile(firsts, 50) * 1000, "p95": percentile(firsts, 95) * 1000},
                    "throughput": await throughput(http, replicas, people, args.seconds, args.concurrency),
                }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-url", help="shared state (default: a temporary SQLite file)")
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--first-calls", type=int, default=20, help="sign-ins timed end to end, per configuration")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="10 people, 5 sign-ins, 3 s")
    args = parser.parse_args()
    if args.quick:
        args.people, args.first_calls, args.seconds = 10, 5, 3.0
    header = machine_header()
    with tempfile.TemporaryDirectory() as folder:
        results = asyncio.run(run(args, Path(folder)))
    print(f"state: {'PostgreSQL' if args.state_url else 'SQLite'}; {args.people} people, {args.concurrency} in flight")
    rows = []
    for name, figures in results.items():
        first, load = figures["first_call_ms"], figures["throughput"]
        rows.append([name, f"{first['p50']:.0f} / {first['p95']:.0f}", f"{load['calls_per_s']:.0f}",
                     f"{load['p50_ms']:.1f} / {load['p95_ms']:.1f}", f"{load['replica_cpu_ms_per_call']:.2f}",
                     load["errors"]])  # fmt: skip
    print_table("OAuth mode on loopback", ["replicas", "sign-in to first call ms p50 / p95", "calls/s",
                                           "call ms p50 / p95", "replica CPU ms / call", "errors"], rows)  # fmt: skip
    write_results("oauth", {"header": header, "args": vars(args), "results": results})
    return 1 if any(figures["throughput"]["errors"] for figures in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
