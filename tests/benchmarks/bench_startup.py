"""Time from launching the stdio server to its answer to the first tools/list, and what is imported by then.

Launches `square-customers-mcp` (stdio) with SQUARE_SANDBOX_DB pointing to a temp file (the embedded sandbox),
and with SQUARE_ACCESS_TOKEN=fake + SQUARE_BASE_URL=http://127.0.0.1:9 (no sandbox; nothing is sent there),
writes newline-delimited JSON-RPC to its stdin (initialize with protocolVersion 2025-06-18, then
notifications/initialized and tools/list once initialize is answered) and reads stdout until the tools/list
answer arrives. Repeats; reports median and max (target <= 1.0 s). Then `python -X importtime`: the top
imports by cumulative time for `import square_customers_mcp.cli`, and for everything loaded by the time tools/list is
answered, plus import time per top-level package, to show which lazy imports would pay.

    .venv/bin/python tests/benchmarks/bench_startup.py [--quick] [--repeat 10]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import ROOT, console_script, machine_header, print_table, verdict, write_results

TARGET_SECONDS = 1.0
OUR_PACKAGES = {"square_customers_mcp"}
TIMEOUT = 30.0
PROTOCOL_VERSION = "2025-06-18"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "bench_startup", "version": "1"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}


@dataclass
class Handshake:
    initialize_s: float
    tools_list_s: float
    tools: int
    stderr: str


class LineReader:
    """Reads whole lines from a pipe with a deadline (no thread; select on the file descriptor)."""

    def __init__(self, pipe: Any) -> None:
        self._fd = pipe.fileno()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._fd, selectors.EVENT_READ)
        self._buffer = b""

    def readline(self, deadline: float) -> bytes:
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._selector.select(remaining):
                raise TimeoutError("no answer from the server in time")
            chunk = os.read(self._fd, 65536)
            if not chunk:
                raise EOFError("the server closed stdout")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def close(self) -> None:
        self._selector.close()


def send(process: subprocess.Popen[bytes], *messages: dict[str, Any]) -> None:
    assert process.stdin is not None
    process.stdin.write(b"".join(json.dumps(m).encode() + b"\n" for m in messages))
    process.stdin.flush()


def wait_for(reader: LineReader, request_id: int, deadline: float) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(reader.readline(deadline))
        if message.get("id") == request_id:
            if "error" in message:
                raise RuntimeError(f"request {request_id} failed: {message['error']}")
            return message


def handshake(command: list[str], env: dict[str, str], stderr_path: Path) -> Handshake:
    """Launch, initialize, list tools; the clock starts just before the process is created."""
    with stderr_path.open("wb") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
        assert process.stdout is not None and process.stdin is not None
        reader = LineReader(process.stdout)
        try:
            deadline = time.monotonic() + TIMEOUT
            send(process, INITIALIZE)
            wait_for(reader, 1, deadline)
            initialized = time.perf_counter() - start
            send(process, INITIALIZED, LIST_TOOLS)
            listing = wait_for(reader, 2, deadline)
            listed = time.perf_counter() - start
        finally:
            reader.close()
            stop(process)
    return Handshake(initialized, listed, len(listing["result"]["tools"]), stderr_path.read_text(errors="replace"))


def stop(process: subprocess.Popen[bytes]) -> None:
    """Close stdin (how an MCP host ends a stdio server), then terminate, then kill."""
    if process.stdin is not None and not process.stdin.closed:
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    if process.stdout is not None:
        process.stdout.close()


# --- python -X importtime -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    module: str
    self_us: int
    cumulative_us: int
    depth: int


def parse_importtime(stderr: str) -> list[Import]:
    """`import time: self [us] | cumulative | imported package` lines; nesting is the indentation."""
    imports = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|", 2)
        depth = (len(name) - len(name.lstrip(" "))) // 2
        imports.append(Import(name.strip(), int(self_us), int(cumulative_us), depth))
    return imports


def by_package(imports: list[Import]) -> list[tuple[str, float, int]]:
    """Self time summed per top-level package: (package, ms, modules)."""
    total: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for item in imports:
        top = item.module.split(".", 1)[0]
        total[top] += item.self_us
        count[top] += 1
    return sorted(((name, us / 1000, count[name]) for name, us in total.items()), key=lambda row: -row[1])


def importer_of(imports: list[Import], index: int) -> str:
    """The module whose import pulled in imports[index] (the next shallower entry; importtime lists children first)."""
    depth = imports[index].depth
    for later in imports[index + 1 :]:
        if later.depth < depth:
            return later.module
    return "(top level)"


def top_cumulative(imports: list[Import], n: int = 10) -> list[list[Any]]:
    """The n largest cumulative times, one row per module (`import a.b` first loads `a`: a module can show twice)."""
    rows: list[list[Any]] = []
    seen: set[str] = set()
    for i in sorted(range(len(imports)), key=lambda i: -imports[i].cumulative_us):
        if imports[i].module in seen:
            continue
        seen.add(imports[i].module)
        rows.append(
            [imports[i].module, imports[i].cumulative_us / 1000, imports[i].self_us / 1000, importer_of(imports, i)]
        )
        if len(rows) == n:
            break
    return rows


def ours(module: str) -> bool:
    return module.split(".", 1)[0] in OUR_PACKAGES


def our_import_statements(imports: list[Import]) -> list[list[Any]]:
    """Other packages' modules that one of our modules loaded first, with everything they pulled in.

    The candidates for a lazy import: making one lazy moves its cost to whichever module needs it next.
    """
    rows = [
        [item.module, item.cumulative_us / 1000, importer_of(imports, i)]
        for i, item in enumerate(imports)
        if not ours(item.module) and ours(importer_of(imports, i))
    ]
    return sorted(rows, key=lambda row: -row[1])


def importtime_of_cli() -> list[Import]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import square_customers_mcp.cli"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=ROOT,
        check=True,
    )
    return parse_importtime(result.stderr)


def print_imports(title: str, imports: list[Import]) -> dict[str, Any]:
    total_ms = sum(item.self_us for item in imports) / 1000
    print_table(
        f"{title}: top 10 by cumulative import time ({len(imports)} modules, {total_ms:.0f} ms in total)",
        ["module", "cumulative ms", "self ms", "imported by"],
        top_cumulative(imports),
    )
    statements = our_import_statements(imports)
    print_table(
        f"{title}: other packages first loaded by our modules (cumulative ms, top 10)",
        ["module", "cumulative ms", "imported by"],
        statements[:10],
    )
    packages = by_package(imports)
    print_table(
        f"{title}: self import time per top-level package (top 12)",
        ["package", "ms", "modules"],
        packages[:12],
    )
    return {
        "modules": len(imports),
        "total_self_ms": total_ms,
        "top_cumulative": [
            dict(zip(("module", "cumulative_ms", "self_ms", "imported_by"), row, strict=True))
            for row in top_cumulative(imports)
        ],
        "loaded_by_our_modules": [
            dict(zip(("module", "cumulative_ms", "imported_by"), row, strict=True)) for row in statements[:20]
        ],
        "by_package_ms": {name: round(ms, 2) for name, ms, _ in packages},
    }


# --- main ---------------------------------------------------------------------------------------------


def configurations(folder: Path) -> dict[str, dict[str, str]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SQUARE_")}
    return {
        "embedded sandbox (temp db file)": {**base, "SQUARE_SANDBOX_DB": str(folder / "sandbox.db")},
        "no sandbox (token + base URL)": {
            **base,
            "SQUARE_ACCESS_TOKEN": "fake",
            "SQUARE_BASE_URL": "http://127.0.0.1:9",
        },
    }


def main(args: argparse.Namespace) -> int:
    machine_header()
    command = [console_script()]
    repeat = args.repeat or (2 if args.quick else 10)
    folder = Path(tempfile.mkdtemp(prefix="bench_startup_"))
    timings: dict[str, dict[str, Any]] = {}
    for name, env in configurations(folder).items():
        runs = [handshake(command, env, folder / "stderr.log") for _ in range(repeat)]
        listed = [run.tools_list_s for run in runs]
        timings[name] = {
            "runs": repeat,
            "tools": runs[0].tools,
            "initialize_median_s": statistics.median(run.initialize_s for run in runs),
            "tools_list_median_s": statistics.median(listed),
            "tools_list_max_s": max(listed),
            "tools_list_min_s": min(listed),
            "all_tools_list_s": listed,
            "startup_line": next((line for line in runs[0].stderr.splitlines() if "serving" in line), ""),
        }
    print_table(
        f"stdio: launch -> answer to the first tools/list ({repeat} runs each; the first sandbox run creates the db)",
        ["configuration", "tools", "initialize median s", "tools/list median s", "min s", "max s", "target <= 1.0 s"],
        [
            [
                name,
                t["tools"],
                t["initialize_median_s"],
                t["tools_list_median_s"],
                t["tools_list_min_s"],
                t["tools_list_max_s"],
                verdict(t["tools_list_max_s"] <= TARGET_SECONDS),
            ]
            for name, t in timings.items()
        ],
    )

    imports: dict[str, Any] = {
        "import square_customers_mcp.cli": print_imports(
            "python -c 'import square_customers_mcp.cli'", importtime_of_cli()
        )
    }
    for name, env in configurations(folder).items():
        # `python -m square_customers_mcp` is what the console script runs; -X importtime writes to stderr.
        run = handshake(
            [sys.executable, "-X", "importtime", "-m", "square_customers_mcp"], env, folder / "importtime.log"
        )
        imports[f"by tools/list, {name}"] = print_imports(f"loaded by tools/list, {name}", parse_importtime(run.stderr))

    met = all(t["tools_list_max_s"] <= TARGET_SECONDS for t in timings.values())
    write_results(
        "startup",
        {
            "quick": args.quick,
            "repeat": repeat,
            "command": command,
            "protocol_version": PROTOCOL_VERSION,
            "timings": timings,
            "imports": imports,
            "target": {"limit_s": TARGET_SECONDS, "met": met},
        },
    )
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (2 launches per configuration)")
    parser.add_argument("--repeat", type=int, default=0, help="launches per configuration (default 10)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main(parse_args(sys.argv[1:])))
