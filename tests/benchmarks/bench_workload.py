"""Agent-workload benchmark: realistic tasks done by a scripted agent over MCP, with calls, tokens and correctness.

Each task runs through the in-memory MCP client against the server over the in-process sandbox (seeded
deterministically). The agent uses only the tool list and the results (_workload_agent.py; the tasks are in
_workload_tasks.py). Tokens (o200k_base): the tool list as a model API is sent it (per tool: name, description,
parameters, compact JSON; as bench_tokens.py counts it), plus each call's arguments, plus each result's text.
Two series: one fresh conversation per task (each pays the tool list) and one long conversation (tool list
once, all tasks in sequence on one sandbox). Correctness is read from the sandbox over raw HTTP, not through
the tools.

    python tests/benchmarks/bench_workload.py             # this tree, both series
    python tests/benchmarks/bench_workload.py --quick     # fresh conversations only (CI smoke run)
    python tests/benchmarks/bench_workload.py --compare   # also the surface before issue 9 (git 0eb560f)

Exits 1 when a task fails on this tree's surface. Writes results/workload.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from _common import ROOT, write_results
from _workload_agent import Conversation, Sandbox, TaskFailed, tool_list_tokens
from _workload_tasks import TASKS, Facts, Task
from mcp import Client

import square_customers_mcp as server_package
from square_customers_mcp.app import build_server
from square_customers_mcp.backend import SandboxTransport
from square_customers_mcp.config import Settings
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.sandbox import create_app
from square_customers_mcp.square_client import SquareClient

BEFORE_REV = "0eb560f"  # the 14-tool surface issue 9 started from
SEED_CUSTOMERS = 200
# The tree whose `server/` and `tools/` this process measures (PYTHONPATH decides it for --compare's child).
TREE = Path(server_package.__file__).resolve().parents[1]  # resolve(): an editable install links to server/


@asynccontextmanager
async def connected() -> AsyncIterator[tuple[Sandbox, Client]]:
    """A freshly seeded sandbox, the MCP server over it, and a connected client (one conversation's world)."""
    app = create_app(":memory:", seed=SEED_CUSTOMERS)
    square = SquareClient(Settings.from_env({}), transport=SandboxTransport(app=app))
    sandbox = Sandbox(app)
    try:
        async with Client(build_server(Dispatcher(square)), raise_exceptions=True) as client:
            yield sandbox, client
    finally:
        await sandbox.http.aclose()
        await square.aclose()
        app.state.store.close()


async def attempt(conv: Conversation, sandbox: Sandbox, facts: Facts, task: Task) -> dict[str, Any]:
    calls, spent, traced = conv.calls, conv.tokens, len(conv.trace)
    try:
        problem = await task.check(sandbox, facts, await task.run(conv, facts))
    except TaskFailed as failure:
        problem = str(failure)
    return {
        "task": task.name,
        "calls": conv.calls - calls,
        "tokens": conv.tokens - spent,
        "correct": problem is None,
        "problem": problem,
        "trace": conv.trace[traced:],
    }


async def fresh_series() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows, listing, facts = [], {}, None
    for task in TASKS:
        async with connected() as (sandbox, client):
            facts = await Facts.pick(sandbox)
            conv = await Conversation.open(client)
            listing = {"tools": len(conv.tools), "tool_list_tokens": tool_list_tokens(conv.tools)}
            row = await attempt(conv, sandbox, facts, task)
            rows.append(row | {"tokens": row["tokens"] + listing["tool_list_tokens"]})
    assert facts is not None
    return rows, listing | {"facts": facts.summary()}


async def long_series() -> list[dict[str, Any]]:
    async with connected() as (sandbox, client):
        facts = await Facts.pick(sandbox)
        conv = await Conversation.open(client)
        return [await attempt(conv, sandbox, facts, task) for task in TASKS]


async def measure(label: str, quick: bool) -> dict[str, Any]:
    fresh, about = await fresh_series()
    return {
        "surface": label,
        "tree": str(TREE),
        "seed_customers": SEED_CUSTOMERS,
        **about,
        "fresh": fresh,
        "long": None if quick else await long_series(),
    }


def _as_installed_package(tree: Path) -> None:
    """Lay an old tree's top-level `server/` and `tools/` out under the installed name, as pyproject maps the
    current ones, so this script imports either surface the same way."""
    package = tree / "square_customers_mcp"
    (tree / "server").rename(package)
    (tree / "tools").rename(package / "tools")
    for path in package.rglob("*.py"):
        text = re.sub(r"^(\s*)(from|import) server\b", r"\1\2 square_customers_mcp", path.read_text(), flags=re.M)
        path.write_text(re.sub(r"^(\s*)(from|import) tools\b", r"\1\2 square_customers_mcp.tools", text, flags=re.M))


def measure_before(quick: bool, rev: str) -> dict[str, Any]:
    """The old surface in its own process: its `server` and `tools` on PYTHONPATH, this script unchanged."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "server", "tools"], check=True, capture_output=True
    ).stdout
    with tempfile.TemporaryDirectory(prefix="workload-before-") as tree:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tree, filter="data")
        _as_installed_package(Path(tree))
        out = Path(tree) / "result.json"
        argv = [sys.executable, __file__, "--label", "before", "--tree", tree, "--json-out", str(out)]
        subprocess.run([*argv, *(["--quick"] if quick else [])], check=True, env={**os.environ, "PYTHONPATH": tree})
        return dict(json.loads(out.read_text()))


# --- Reporting ----------------------------------------------------------------------------------------------


def totals(run: dict[str, Any], series: str, only: set[int] | None = None) -> tuple[int, int, int] | None:
    """(calls, tokens, correct tasks) of a series, over the tasks `only` (default all); the long one pays the
    tool list once."""
    rows = run[series]
    if rows is None:
        return None
    rows = [row for i, row in enumerate(rows) if only is None or i in only]
    spent = sum(r["tokens"] for r in rows) + (run["tool_list_tokens"] if series == "long" else 0)
    return sum(r["calls"] for r in rows), spent, sum(r["correct"] for r in rows)


def mark(run: dict[str, Any], index: int) -> str:
    fresh = run["fresh"][index]["correct"]
    long = run["long"][index]["correct"] if run["long"] else None
    if long is None or long == fresh:
        return "yes" if fresh else "**no**"
    return f"fresh {'yes' if fresh else 'no'}, long {'yes' if long else 'no'}"


def cell(runs: list[dict[str, Any]], value: Any) -> str:
    values = [value(run) for run in runs]
    shown = ["-" if v is None else f"{v:,}" if isinstance(v, int) else str(v) for v in values]
    return " → ".join(shown)


def markdown(runs: list[dict[str, Any]]) -> str:
    """One table; with two runs every cell reads `before → after`."""
    head = " → ".join(run["surface"] for run in runs)
    lines = [
        f"| task ({head}) | calls | tokens, fresh conversation | tokens in the long one | correct |",
        "|---|--:|--:|--:|---|",
        f"| tool list ({cell(runs, lambda r: r['tools'])} tools) | | {cell(runs, lambda r: r['tool_list_tokens'])} "
        f"| {cell(runs, lambda r: r['tool_list_tokens'] if r['long'] else None)} | |",
    ]
    for i, task in enumerate(TASKS):
        long_tokens = cell(runs, lambda r, i=i: r["long"][i]["tokens"] if r["long"] else None)
        lines.append(
            f"| {task.name} | {cell(runs, lambda r, i=i: r['fresh'][i]['calls'])} "
            f"| {cell(runs, lambda r, i=i: r['fresh'][i]['tokens'])} | {long_tokens} "
            f"| {cell(runs, lambda r, i=i: mark(r, i))} |"
        )
    # Calls and tokens spent on a task the surface cannot do are not comparable: a second total leaves them out.
    both = {i for i in range(len(TASKS)) if all(r["fresh"][i]["correct"] for r in runs)}
    subsets = [("**total**", None)] + (
        [(f"total, the {len(both)} tasks every surface does", both)] if len(runs) > 1 else []
    )
    for label, only in subsets:
        fresh = [totals(run, "fresh", only) for run in runs]
        long = [totals(run, "long", only) for run in runs]
        count = len(only) if only is not None else len(TASKS)
        lines.append(
            f"| {label} | {cell(fresh, lambda t: t[0])} | {cell(fresh, lambda t: t[1])} "
            f"| {cell(long, lambda t: t[1] if t else None)} | {cell(fresh, lambda t, n=count: f'{t[2]}/{n}')} |"
        )
    return "\n".join(lines)


def problems(runs: list[dict[str, Any]]) -> list[str]:
    found = []
    for run in runs:
        for series in ("fresh", "long"):
            for row in run[series] or []:
                if not row["correct"]:
                    found.append(f"{run['surface']}, {series}, {row['task']} ({row['calls']} calls): {row['problem']}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fresh conversations only (all tasks)")
    parser.add_argument("--compare", action="store_true", help=f"also run the surface at git {BEFORE_REV}")
    parser.add_argument("--before-rev", default=BEFORE_REV, help="the commit --compare measures as 'before'")
    parser.add_argument("--label", default="after", help=argparse.SUPPRESS)
    parser.add_argument("--tree", default=str(ROOT), help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    # `server` must come from the tree being measured; a stray install or PYTHONPATH would measure another.
    if Path(args.tree).resolve() != TREE:
        raise SystemExit(f"`server` imported from {TREE}, not from {args.tree}")
    current = anyio.run(measure, args.label, args.quick)
    if args.json_out:  # a child run for --compare: the parent reports
        Path(args.json_out).write_text(json.dumps(current))
        return 0

    runs = [measure_before(args.quick, args.before_rev), current] if args.compare else [current]
    print(f"\nWorkload: {len(TASKS)} tasks, o200k tokens, sandbox seeded with {SEED_CUSTOMERS} customers\n")
    print(markdown(runs))
    for line in problems(runs):
        print(f"- {line}")
    write_results("workload", {"encoding": "o200k_base", "tasks": [t.name for t in TASKS], "runs": runs})
    failed = [row["task"] for series in ("fresh", "long") for row in current[series] or [] if not row["correct"]]
    print("all tasks correct" if not failed else f"INCORRECT on this surface: {sorted(set(failed))}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
