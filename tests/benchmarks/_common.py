"""Shared helpers for the benchmark scripts: the machine header, percentiles, a plain-text table, JSON results,
ports, paths.

Not a test module: the scripts in this folder run standalone (`.venv/bin/python tests/benchmarks/bench_X.py`).
"""

from __future__ import annotations

import functools
import json
import math
import os
import platform
import shutil
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS_DIR = HERE / "results"


def console_script(name: str = "square-customers-mcp") -> str:
    """The project's console script next to the running interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found next to {sys.executable} nor on PATH; run `pip install -e .` first")
    return found


CALIBRATION_LOOPS = 1_000_000
CALIBRATION_REPEAT = 5


def calibration_ms(loops: int = CALIBRATION_LOOPS, repeat: int = CALIBRATION_REPEAT) -> float:
    """A fixed pure-Python loop, best of `repeat` timings in ms: the machine's speed for this interpreter.

    Figures from two machines compare roughly in proportion to their calibration times.
    """
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        total = 0
        for i in range(loops):
            total += i % 7
        best = min(best, time.perf_counter() - start)
    return best * 1000


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields from /proc/cpuinfo (Linux); empty elsewhere."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def _clock_mhz(cpuinfo: dict[str, str]) -> float | None:
    """The rated maximum clock if the kernel exposes it (cpufreq), else the current one from /proc/cpuinfo."""
    try:
        return int(Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text()) / 1000
    except (OSError, ValueError):
        pass
    try:
        return float(cpuinfo["cpu MHz"])
    except (KeyError, ValueError):
        return None


@functools.cache
def machine() -> dict[str, Any]:
    """CPU model, cores, clock, Python, date and the calibration time; measured once per process."""
    cpuinfo = _cpuinfo()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "cpu_model": cpuinfo.get("model name") or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "clock_mhz": _clock_mhz(cpuinfo),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "calibration_ms": calibration_ms(),
        "calibration": f"best of {CALIBRATION_REPEAT} runs of a {CALIBRATION_LOOPS:,}-iteration pure-Python loop",
    }


def machine_header() -> dict[str, Any]:
    """Print the machine and date line every benchmark table is read against; returns the same facts."""
    m = machine()
    clock = f" @ {m['clock_mhz']:,.0f} MHz" if m["clock_mhz"] else ""
    print(
        f"machine: {m['cpu_model']}{clock}, {m['cores']} cores, {m['python']}, {m['date']}\n"
        f"calibration: {m['calibration_ms']:.1f} ms ({m['calibration']})",
        flush=True,
    )
    return m


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p99/mean/max in milliseconds, plus the sample count."""
    return {
        "n": len(seconds),
        "p50_ms": percentile(seconds, 50) * 1000,
        "p99_ms": percentile(seconds, 99) * 1000,
        "mean_ms": (sum(seconds) / len(seconds) * 1000) if seconds else math.nan,
        "max_ms": max(seconds) * 1000 if seconds else math.nan,
    }


def fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print(line)
    for row in cells:
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))


def write_results(name: str, data: dict[str, Any]) -> Path:
    """Write tests/benchmarks/results/<name>.json (folder created), with the machine, calibration and date."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {
        "benchmark": name,
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": machine(),
        **data,
    }
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    print(f"\nresults: {path.relative_to(ROOT)}")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"
