"""What the MCP layer costs on top of a plain HTTP call to the same in-process sandbox.

For retrieve_customer, search_customers and update_customer, interleaved in one run:
  (a) direct: httpx.AsyncClient -> httpx.ASGITransport -> sandbox app, the very request the tool sends;
  (b) mcp:    mcp.Client (in memory) -> build_server -> Dispatcher -> SquareClient -> the same sandbox app.
Reports p50/p99 of each and the ratio b/a at p50 (target <= 1.3), then the dispatcher's own time per call
(validation + routing + trimming + result, no HTTP; target <= 100 us p50 for retrieve).
Then the same over real stdio, JSON-RPC framing and all: the console script `square-customers-mcp`, launched
with SQUARE_SANDBOX_DB=:memory: as an MCP host launches it, answers retrieve_customer to an mcp Client,
interleaved with the same kind of Client calling "noop" on empty_server.py launched the same way (served by
the project's serve_stdio); reports both p50s and their difference.
`--profile` profiles the MCP path with pyinstrument and breaks the samples down by component.

    .venv/bin/python tests/benchmarks/bench_overhead.py [--quick] [--iterations N] [--profile]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio
import httpx
from _common import (
    HERE,
    RESULTS_DIR,
    ROOT,
    console_script,
    machine_header,
    print_table,
    summarize,
    verdict,
    write_results,
)
from empty_server import build_empty_server
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from square_customers_mcp.app import build_server, mcp_tool
from square_customers_mcp.backend import SandboxTransport
from square_customers_mcp.config import Settings
from square_customers_mcp.dispatcher import Dispatcher, success_result
from square_customers_mcp.sandbox import create_app
from square_customers_mcp.square_client import LOCAL_TOKEN, SquareClient, expand_path
from square_customers_mcp.tools import TOOLS_BY_NAME

RATIO_TARGET = 1.3
DISPATCH_TARGET_US = 100.0
SEED = 1000
BASE_URL = Settings().resolved_base_url


@dataclass(frozen=True)
class Operation:
    tool: str
    arguments: Callable[[str, int], dict[str, Any]]
    """(customer id, iteration) -> tool arguments."""
    request: Callable[[str, int], tuple[str, str, dict[str, Any] | None]]
    """(customer id, iteration) -> the (method, path, JSON body) the tool sends for those arguments."""


SEARCH_QUERY = {"filter": {"creation_source": {"values": ["THIRD_PARTY"]}}}
OPERATIONS = (
    Operation(
        "retrieve_customer",
        lambda cid, i: {"customer_id": cid},
        lambda cid, i: ("GET", f"/v2/customers/{quote(cid, safe='')}", None),
    ),
    Operation(
        "search_customers",
        lambda cid, i: {"filter": SEARCH_QUERY["filter"], "limit": 10},
        lambda cid, i: ("POST", "/v2/customers/search", {"query": SEARCH_QUERY, "limit": 10}),
    ),
    Operation(
        "update_customer",
        lambda cid, i: {"customer_id": cid, "note": f"benchmark note {i}"},
        lambda cid, i: ("PUT", f"/v2/customers/{quote(cid, safe='')}", {"note": f"benchmark note {i}"}),
    ),
)


def direct_client(app: Any) -> httpx.AsyncClient:
    """A plain httpx client with the headers SquareClient sends, on the same kind of ASGI transport."""
    settings = Settings()
    return httpx.AsyncClient(
        base_url=BASE_URL,
        transport=httpx.ASGITransport(app=app),
        headers={
            "Authorization": f"Bearer {LOCAL_TOKEN}",
            "Square-Version": settings.square_version,
            "Accept": "application/json",
        },
    )


async def call_direct(http: httpx.AsyncClient, op: Operation, cid: str, i: int) -> dict[str, Any]:
    method, path, body = op.request(cid, i)
    content = None if body is None else json.dumps(body, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json"} if content is not None else None
    response = await http.request(method, path, content=content, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"direct {op.tool}: HTTP {response.status_code} {response.text[:200]}")
    parsed: dict[str, Any] = response.json()
    return parsed


async def call_mcp(client: Client, op: Operation, cid: str, i: int) -> None:
    result = await client.call_tool(op.tool, op.arguments(cid, i))
    if result.is_error:
        raise RuntimeError(f"mcp {op.tool}: {result.content}")


async def timed(call: Awaitable[Any]) -> float:
    start = time.perf_counter()
    await call
    return time.perf_counter() - start


async def call_dispatcher(dispatcher: Dispatcher, op: Operation, cid: str, i: int) -> None:
    result = await dispatcher.call(op.tool, op.arguments(cid, i))
    if result.is_error:
        raise RuntimeError(f"dispatcher {op.tool}: {result.content}")


async def end_to_end(
    client: Client,
    empty: Client,
    dispatcher: Dispatcher,
    http: httpx.AsyncClient,
    cid: str,
    iterations: int,
    warmup: int,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Direct and MCP calls interleaved, plus two reference points that split the difference:

    - "server": Dispatcher.call with no MCP at all (our server-side stack: dispatcher + SquareClient + httpx);
    - the SDK's floor: a no-op tool through the same kind of in-memory Client (returned separately).
    """
    paths = ("direct", "mcp", "server")
    samples: dict[str, dict[str, list[float]]] = {op.tool: {path: [] for path in paths} for op in OPERATIONS}
    floor: list[float] = []
    for i in range(warmup + iterations):
        seconds = await timed(empty.call_tool("noop", {}))
        if i >= warmup:
            floor.append(seconds)
        for op in OPERATIONS:
            # Rotate the order, so no path always runs right after (or before) the same other one.
            for path in paths[i % 3 :] + paths[: i % 3]:
                if path == "direct":
                    call = call_direct(http, op, cid, i)
                elif path == "mcp":
                    call = call_mcp(client, op, cid, i)
                else:
                    call = call_dispatcher(dispatcher, op, cid, i)
                seconds = await timed(call)
                if i >= warmup:
                    samples[op.tool][path].append(seconds)
    rows = {}
    for tool, by_path in samples.items():
        direct, mcp, server = (summarize(by_path[path]) for path in paths)
        rows[tool] = {
            "direct": direct,
            "mcp": mcp,
            "server_no_mcp": server,
            "ratio_p50": mcp["p50_ms"] / direct["p50_ms"],
            "overhead_p50_us": (mcp["p50_ms"] - direct["p50_ms"]) * 1000,
        }
    return rows, summarize(floor)


async def over_stdio(iterations: int, warmup: int) -> dict[str, Any]:
    """retrieve_customer on our console script vs "noop" on the empty server, both over real stdio, interleaved.

    Both are launched the way an MCP host launches a server: the command, the host's minimal default
    environment plus the configured variables (here SQUARE_SANDBOX_DB=:memory:), pipes for stdin/stdout.
    """
    ours = StdioServerParameters(command=console_script(), env={"SQUARE_SANDBOX_DB": ":memory:"})
    empty = StdioServerParameters(command=sys.executable, args=[str(HERE / "empty_server.py")])
    samples: dict[str, list[float]] = {"ours": [], "empty": []}
    with tempfile.TemporaryFile("w+") as errlog:  # the servers' stderr logs, kept off the table
        async with (
            Client(stdio_client(ours, errlog=errlog), mode="auto") as client,
            Client(stdio_client(empty, errlog=errlog), mode="auto") as floor_client,
        ):
            arguments = {"given_name": "Bench", "family_name": "Mark", "email_address": "bench@example.com"}
            created = await client.call_tool("create_customer", arguments)
            if created.is_error or not created.structured_content:
                raise RuntimeError(f"stdio create_customer: {created.content}")
            cid = created.structured_content["customer"]["id"]

            async def retrieve() -> None:
                result = await client.call_tool("retrieve_customer", {"customer_id": cid})
                if result.is_error:
                    raise RuntimeError(f"stdio retrieve_customer: {result.content}")

            async def noop() -> None:
                await floor_client.call_tool("noop", {})

            for i in range(warmup + iterations):
                order = (("ours", retrieve), ("empty", noop)) if i % 2 else (("empty", noop), ("ours", retrieve))
                for name, call in order:
                    seconds = await timed(call())
                    if i >= warmup:
                        samples[name].append(seconds)
    ours_stats, empty_stats = summarize(samples["ours"]), summarize(samples["empty"])
    return {
        "ours_retrieve": ours_stats,
        "empty_noop": empty_stats,
        "difference_p50_ms": ours_stats["p50_ms"] - empty_stats["p50_ms"],
        "iterations": iterations,
        "warmup": warmup,
    }


def dispatcher_time(dispatcher: Dispatcher, bodies: dict[str, dict[str, Any]], cid: str, n: int) -> dict[str, Any]:
    """The dispatcher's own work per call, step by step, on a recorded sandbox response: no HTTP, no MCP.

    Also times what the SDK client does with each result: check structured_content against the listed
    outputSchema with a compiled jsonschema validator, as ClientSession.validate_tool_result does.
    """
    out: dict[str, Any] = {}
    for op in OPERATIONS:
        tool = TOOLS_BY_NAME[op.tool]
        args = op.arguments(cid, 0)
        body = bodies[op.tool]
        output_check = Draft202012Validator(mcp_tool(tool).output_schema or {})
        steps: dict[str, list[float]] = defaultdict(list)
        for _ in range(n):
            t0 = time.perf_counter()
            problems = dispatcher.problems(tool, args)
            t1 = time.perf_counter()
            # The same routing as Dispatcher._send: path, query and body from the spec.
            path = expand_path(tool.path, {name: args[name] for name in tool.path_params})
            query = {name: args[name] for name in tool.query_params if name in args}
            payload = tool.body(args)
            t2 = time.perf_counter()
            trimmed = tool.trim(body, args)
            t3 = time.perf_counter()
            result = success_result(trimmed)
            t4 = time.perf_counter()
            mismatch = best_match(output_check.iter_errors(result.structured_content))
            t5 = time.perf_counter()
            assert not problems and not mismatch and path and (payload is not None) == (tool.method != "GET")
            assert query == {}
            for step, seconds in (
                ("validate", t1 - t0),
                ("route", t2 - t1),
                ("trim", t3 - t2),
                ("result", t4 - t3),
                ("total", t4 - t0),
                ("client_output_check", t5 - t4),
            ):
                steps[step].append(seconds)
        out[op.tool] = {step: summarize(values) for step, values in steps.items()}
    return out


# --- profile -------------------------------------------------------------------------------------------

SITE = "site-packages/"
# The components a sample is charged to: the nearest of these on its stack, walking from the sampled frame
# up. Utility code (json, pydantic, jsonschema, anyio, asyncio, re, ...) is charged to whoever called it.
COMPONENTS = (
    ("sandbox (server/sandbox + starlette)", (str(ROOT / "server/sandbox/"), SITE + "starlette/")),
    ("our code: dispatcher, trim, SquareClient", (str(ROOT / "server/"), str(ROOT / "tools/"))),
    ("httpx (client + ASGI transport)", (SITE + "httpx/",)),
    ("mcp SDK: client", (SITE + "mcp/client/",)),
    ("mcp SDK: server", (SITE + "mcp/server/",)),
    ("mcp SDK: shared session/streams", (SITE + "mcp/shared/", SITE + "mcp/types/", SITE + "mcp/")),
    ("benchmark loop", (str(ROOT / "tests/benchmarks/"),)),
)
LIBRARIES = (
    "jsonschema",
    "jsonschema_specifications",
    "referencing",
    "rpds",
    "pydantic_core",
    "pydantic",
    "httpx",
    "httpcore",
    "starlette",
    "anyio",
    "sniffio",
    "mcp",
    "sqlite3",
    "asyncio",
    "json",
    "typing",
    "uuid",
    "logging",
    "threading",
    "selectors",
    "concurrent",
    "contextlib",
    "urllib",
    "re",
    "copy",
    "abc",
    "enum",
    "dataclasses",
    "functools",
    "inspect",
)


VALIDATION = (SITE + "jsonschema/", SITE + "referencing/", SITE + "rpds/")


def component_of(paths: list[str]) -> str:
    """paths: file paths from the sampled frame (first) up to the root."""
    if any(path.endswith("selectors.py") for path in paths[:2]):
        return "idle: event loop waits (sandbox SQLite runs in a worker thread)"
    in_jsonschema = in_import = False
    for path in paths:
        in_jsonschema = in_jsonschema or any(needle in path for needle in VALIDATION)
        in_import = in_import or "importlib._bootstrap" in path
        for name, needles in COMPONENTS:
            if any(needle in path for needle in needles):
                if in_import and name.startswith("httpx"):
                    # httpx's ASGITransport tries `import sniffio` on every request; a miss is never cached.
                    return "httpx ASGITransport: failed `import sniffio` per request"
                if in_jsonschema and name.startswith("mcp SDK: client"):
                    return "mcp SDK: client, outputSchema check (jsonschema)"
                if in_jsonschema and name.startswith("our code"):
                    return "our code: argument validation (jsonschema)"
                return name
    return "other (event loop, asyncio, anyio scheduling)"


def library_of(path: str) -> str:
    if str(ROOT / "server/") in path or str(ROOT / "tools/") in path:
        return path.split(str(ROOT) + "/", 1)[1]
    if SITE in path:
        return path.split(SITE, 1)[1].split("/", 1)[0]
    stem = path.rsplit("/python3.11/", 1)[-1]
    top = stem.split("/", 1)[0].removesuffix(".py")
    return top if top in LIBRARIES else stem


def breakdown(root: Any) -> tuple[dict[str, float], dict[str, dict[str, float]], float]:
    """Seconds per component, and per (component, library of the sampled frame); from a pyinstrument tree."""
    per_component: dict[str, float] = defaultdict(float)
    per_library: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def walk(frame: Any, stack: list[str]) -> None:
        path = frame.file_path or ""
        here = [path, *stack] if path else stack
        if not frame.children:
            component = component_of(here)
            per_component[component] += frame.time
            per_library[component][library_of(here[0]) if here else "?"] += frame.time
            return
        for child in frame.children:
            walk(child, here)
        own = frame.time - sum(child.time for child in frame.children)
        if own > 0:
            component = component_of(here)
            per_component[component] += own
            per_library[component][library_of(here[0]) if here else "?"] += own

    walk(root, [])
    total = sum(per_component.values())
    return dict(per_component), {k: dict(v) for k, v in per_library.items()}, total


async def profile(client: Client, cid: str, iterations: int) -> dict[str, Any]:
    from pyinstrument import Profiler

    # async_mode disabled: sample the whole event-loop thread, client and server tasks alike.
    profiler = Profiler(interval=0.0002, async_mode="disabled")
    profiler.start()
    for i in range(iterations):
        for op in OPERATIONS:
            await call_mcp(client, op, cid, i)
    session = profiler.stop()
    root = session.root_frame()
    per_component, per_library, total = breakdown(root)
    components = sorted(per_component.items(), key=lambda kv: -kv[1])
    rows = []
    report = {}
    for name, seconds in components:
        libs = sorted(per_library[name].items(), key=lambda kv: -kv[1])[:4]
        top = ", ".join(f"{lib} {secs / total:.0%}" for lib, secs in libs if secs / total >= 0.005)
        rows.append([name, seconds / total * 100, top])
        report[name] = {
            "percent": round(seconds / total * 100, 1),
            "by_sampled_library_percent": {lib: round(secs / total * 100, 2) for lib, secs in libs},
        }
    print_table(
        f"profile of the MCP path ({iterations} x 3 calls, {session.duration:.2f}s, pyinstrument)",
        ["component (nearest on the stack)", "% of samples", "where the samples land (% of all)"],
        rows,
    )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    summary = "\n".join(f"{row[1]:5.1f}%  {row[0]}  [{row[2]}]" for row in rows)
    target = RESULTS_DIR / "overhead_profile.txt"
    target.write_text(f"Breakdown by component (nearest on the stack):\n{summary}\n\n{text}")
    print(f"profile: {target.relative_to(ROOT)}")
    return report


async def main(args: argparse.Namespace) -> int:
    machine_header()
    iterations = args.iterations or (100 if args.quick else 2000)
    warmup = max(20, iterations // 10)
    app = create_app(":memory:", seed=SEED)
    square = SquareClient(Settings(), transport=SandboxTransport(app=app))
    dispatcher = Dispatcher(square)
    try:
        async with (
            direct_client(app) as http,
            Client(build_server(dispatcher), mode="auto") as client,
            Client(build_empty_server(), mode="auto") as empty,
        ):
            first = (await http.get("/v2/customers", params={"limit": 1})).json()["customers"][0]
            cid = first["id"]
            bodies = {op.tool: await call_direct(http, op, cid, 0) for op in OPERATIONS}
            e2e, floor = await end_to_end(client, empty, dispatcher, http, cid, iterations, warmup)
            dispatch = dispatcher_time(dispatcher, bodies, cid, iterations * 5)
            prof = await profile(client, cid, max(100, iterations // 4)) if args.profile else None
    finally:
        await square.aclose()
        app.state.store.close()
    stdio_iterations = args.stdio_iterations or (100 if args.quick else 1000)
    stdio = await over_stdio(stdio_iterations, max(20, stdio_iterations // 10))

    print_table(
        f"end to end, in-process sandbox ({iterations} interleaved calls per path and tool, {warmup} warm-up)",
        ["tool", "direct p50 ms", "direct p99 ms", "mcp p50 ms", "mcp p99 ms", "ratio p50", "no-MCP server p50 ms"],
        [
            [
                tool,
                r["direct"]["p50_ms"],
                r["direct"]["p99_ms"],
                r["mcp"]["p50_ms"],
                r["mcp"]["p99_ms"],
                r["ratio_p50"],
                r["server_no_mcp"]["p50_ms"],
            ]
            for tool, r in e2e.items()
        ],
    )
    us = 1000
    print_table(
        "dispatcher's own time per call (no HTTP, no MCP), us at p50; and the SDK client's outputSchema check",
        ["tool", "validate", "route", "trim", "result", "total p50", "total p99", "client outputSchema check"],
        [
            [
                tool,
                d["validate"]["p50_ms"] * us,
                d["route"]["p50_ms"] * us,
                d["trim"]["p50_ms"] * us,
                d["result"]["p50_ms"] * us,
                d["total"]["p50_ms"] * us,
                d["total"]["p99_ms"] * us,
                d["client_output_check"]["p50_ms"] * us,
            ]
            for tool, d in dispatch.items()
        ],
    )
    decomposition = {}
    for tool, r in e2e.items():
        ours = (r["server_no_mcp"]["p50_ms"] - r["direct"]["p50_ms"]) * us
        sdk = (r["mcp"]["p50_ms"] - r["server_no_mcp"]["p50_ms"]) * us
        check = dispatch[tool]["client_output_check"]["p50_ms"] * us
        decomposition[tool] = {
            "mcp_minus_direct_us": r["overhead_p50_us"],
            "ours_us": ours,
            "ours_dispatcher_cpu_us": dispatch[tool]["total"]["p50_ms"] * us,
            "sdk_us": sdk,
            "sdk_floor_noop_us": floor["p50_ms"] * us,
            "sdk_client_output_check_us": check,
            "sdk_rest_us": sdk - floor["p50_ms"] * us - check,
        }
    print_table(
        "where mcp-direct goes, us at p50. ours = Dispatcher.call (no MCP) - direct; SDK = mcp - Dispatcher.call; "
        "floor = no-op tool through the same in-memory Client",
        ["tool", "mcp-direct", "ours", "..dispatcher CPU", "SDK", "..floor", "..outputSchema check", "..rest"],
        [[tool, *parts.values()] for tool, parts in decomposition.items()],
    )
    print_table(
        f"over real stdio: console script with SQUARE_SANDBOX_DB=:memory: vs empty_server.py, launched as a host "
        f"does, one mcp Client each ({stdio['iterations']} interleaved calls each, {stdio['warmup']} warm-up)",
        ["server", "tool", "p50 ms", "p99 ms", "mean ms"],
        [
            [name, tool, r["p50_ms"], r["p99_ms"], r["mean_ms"]]
            for name, tool, r in (
                ("ours", "retrieve_customer", stdio["ours_retrieve"]),
                ("empty", "noop", stdio["empty_noop"]),
            )
        ]
        + [["difference at p50", "", stdio["difference_p50_ms"], "", ""]],
    )
    worst = max(r["ratio_p50"] for r in e2e.values())
    retrieve_us = dispatch["retrieve_customer"]["total"]["p50_ms"] * us
    targets = {
        "ratio_p50_max": {"value": worst, "target": RATIO_TARGET, "met": worst <= RATIO_TARGET},
        "dispatcher_retrieve_p50_us": {
            "value": retrieve_us,
            "target": DISPATCH_TARGET_US,
            "met": retrieve_us <= DISPATCH_TARGET_US,
        },
    }
    print_table(
        "targets",
        ["target", "value", "limit", "verdict"],
        [
            ["mcp/direct at p50, worst tool", worst, f"<= {RATIO_TARGET}", verdict(worst <= RATIO_TARGET)],
            [
                "dispatcher p50 us, retrieve",
                retrieve_us,
                f"<= {DISPATCH_TARGET_US:g}",
                verdict(retrieve_us <= DISPATCH_TARGET_US),
            ],
        ],
    )
    write_results(
        "overhead",
        {
            "quick": args.quick,
            "iterations": iterations,
            "warmup": warmup,
            "seed_customers": SEED,
            "end_to_end": e2e,
            "sdk_floor_noop_in_memory": floor,
            "stdio": stdio,
            "dispatcher": dispatch,
            "decomposition_p50": decomposition,
            "targets": targets,
            "profile": prof,
        },
    )
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (a few seconds)")
    parser.add_argument("--iterations", type=int, default=0, help="measured calls per path and tool (default 2000)")
    parser.add_argument(
        "--stdio-iterations", type=int, default=0, help="measured stdio calls per server (default 1000; quick 100)"
    )
    parser.add_argument("--profile", action="store_true", help="also profile the MCP path with pyinstrument")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(anyio.run(main, parse_args(sys.argv[1:])))
