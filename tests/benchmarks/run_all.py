"""Run every benchmark, one after the other; each prints its targets and whether they were met.

    python tests/benchmarks/run_all.py            # full runs (about 5 minutes on 2 cores)
    python tests/benchmarks/run_all.py --quick    # smoke runs (under a minute)

Each timing script first prints the machine (CPU model, cores, clock, Python, date) and a calibration time
(a fixed pure-Python loop, so figures from different machines can be compared), then its own tables, and
writes JSON with the same facts to tests/benchmarks/results/. Timing targets are reported, not enforced.
Needs the `bench` extra: pip install -e '.[dev,bench]'.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short smoke runs")
    quick = parser.parse_args().quick
    runs = [
        ("tokens", ["bench_tokens.py"]),
        # Fails when a task goes wrong on the current surface; --compare (old surface too) is a manual run.
        ("workload", ["bench_workload.py", *(["--quick"] if quick else [])]),
        ("output check", ["bench_output_check.py", *(["--quick"] if quick else [])]),
        ("overhead", ["bench_overhead.py", *(["--quick"] if quick else ["--profile"])]),
        ("throughput", ["bench_throughput.py", *(["--quick"] if quick else [])]),
        ("startup", ["bench_startup.py", *(["--quick"] if quick else [])]),
        ("sandbox scale", ["bench_sandbox_scale.py", *(["--sizes", "1000,10000", "--repeat", "5"] if quick else [])]),
    ]
    outcomes: list[tuple[str, int, float]] = []
    for name, argv in runs:
        print(f"\n===== {name} =====", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, str(HERE / argv[0]), *argv[1:]])
        outcomes.append((name, code, time.monotonic() - started))
    print("\n===== summary =====")
    for name, code, seconds in outcomes:
        print(f"{name:14} exit {code}  {seconds:6.1f} s")
    return max(code for _, code, _ in outcomes)


if __name__ == "__main__":
    sys.exit(main())
