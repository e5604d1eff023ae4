"""How the local API scales: times typical calls through the ASGI app on file stores of growing size.

    python tests/benchmarks/bench_sandbox_scale.py [--sizes 1000,10000,100000] [--repeat 40] [--other-share 0.9]

Builds one file store per size (bulk-inserted seed data), then times each operation through
httpx.ASGITransport, so routing, validation, SQLite and JSON rendering are all included. Prints median and
p95 milliseconds per operation and size, and writes the same to results/sandbox_scale.json next to this file.
`--other-share 0.9`: a second merchant holds 90% of each size's customers and the default merchant (who
makes every call) the rest, to show that one merchant's queries don't pay for another's rows.
Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
from _common import machine, machine_header

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from square_customers_mcp.sandbox import create_app
from square_customers_mcp.sandbox.customers import INSERT_SQL as MERCHANT_INSERT_SQL
from square_customers_mcp.sandbox.records import row_values
from square_customers_mcp.sandbox.seed import NEWSLETTER_GROUP_ID, REACHABLE_SEGMENT_ID, VIP_GROUP_ID, generate

RESULTS = Path(__file__).parent / "results" / "sandbox_scale.json"
OTHER_MERCHANT = "BENCHOTHERMERCHANT"
AUTH = {"Authorization": "Bearer bench"}
Operation = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


def operations(email: str, rare_token: str, deep_cursor: str, search_cursor: str) -> dict[str, Operation]:
    def search(body: dict[str, Any]) -> Operation:
        return lambda http, _: http.post("/v2/customers/search", json=body)

    def counted(filters: dict[str, Any]) -> Operation:
        return search({"query": {"filter": filters}, "count": True})

    async def bulk_create(http: httpx.AsyncClient, run: int) -> httpx.Response:
        entries = {
            f"bench-{run}-{i}": {"given_name": "Bench", "family_name": f"Run{run}", "note": str(i)} for i in range(100)
        }
        return await http.post("/v2/customers/bulk-create", json={"customers": entries})

    return {
        "list page (limit 100)": lambda http, _: http.get("/v2/customers", params={"limit": 100}),
        "list page 6 via cursor": lambda http, _: http.get(
            "/v2/customers", params={"limit": 100, "cursor": deep_cursor}
        ),
        "list page + count": lambda http, _: http.get("/v2/customers", params={"limit": 100, "count": "true"}),
        "search email exact": search({"query": {"filter": {"email_address": {"exact": email.upper()}}}}),
        "search email fuzzy (common)": search({"query": {"filter": {"email_address": {"fuzzy": "earhart example"}}}}),
        "search email fuzzy (rare)": search({"query": {"filter": {"email_address": {"fuzzy": rare_token}}}}),
        "search email fuzzy (common), page 2": search(
            {"query": {"filter": {"email_address": {"fuzzy": "earhart example"}}}, "cursor": search_cursor}
        ),
        "search email fuzzy (rare) + count": counted({"email_address": {"fuzzy": rare_token}}),
        "search email fuzzy (common) + count": counted({"email_address": {"fuzzy": "earhart example"}}),
        "search email fuzzy (1 letter)": search({"query": {"filter": {"email_address": {"fuzzy": "q"}}}}),
        "search email fuzzy (2 letters)": search({"query": {"filter": {"email_address": {"fuzzy": "qz"}}}}),
        # A given name: its customers sit together in the sort by name, far from its start.
        "search email fuzzy (given name)": search({"query": {"filter": {"email_address": {"fuzzy": "zoe"}}}}),
        "search email fuzzy (given name) + count": counted({"email_address": {"fuzzy": "zoe"}}),
        "search phone fuzzy": search({"query": {"filter": {"phone_number": {"fuzzy": "212 0042"}}}}),
        "search reference_id fuzzy + count": counted({"reference_id": {"fuzzy": "crm 00042"}}),
        "search phone exact": search({"query": {"filter": {"phone_number": {"exact": "+1 (212) 555-0042"}}}}),
        "search created_at+source, CREATED_AT DESC": search(
            {
                "query": {
                    "filter": {
                        "created_at": {"start_at": "2023-01-01T00:00:00Z", "end_at": "2024-01-01T00:00:00Z"},
                        "creation_source": {"values": ["THIRD_PARTY"], "rule": "INCLUDE"},
                    },
                    "sort": {"field": "CREATED_AT", "order": "DESC"},
                },
                "limit": 100,
            }
        ),
        "search group any + count": counted({"group_ids": {"any": [VIP_GROUP_ID]}}),
        "search group none + count": counted({"group_ids": {"none": [NEWSLETTER_GROUP_ID]}}),
        "search segment any + count": counted({"segment_ids": {"any": [REACHABLE_SEGMENT_ID]}}),
        "search 2 groups all": search(
            {"query": {"filter": {"group_ids": {"all": [VIP_GROUP_ID, NEWSLETTER_GROUP_ID]}}}}
        ),
        "search 2 groups all + count": counted({"group_ids": {"all": [VIP_GROUP_ID, NEWSLETTER_GROUP_ID]}}),
        "bulk create 100": bulk_create,
    }


def add_other_merchant(db_path: str, count: int) -> None:
    """`count` generated customers (another random stream) owned by a second merchant, through the same triggers."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            MERCHANT_INSERT_SQL, [(OTHER_MERCHANT, *row_values(customer)) for customer, _ in generate(count, seed=7)]
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def database_megabytes(folder: Path, size: int) -> float:
    """The store's files (database and WAL) in MB."""
    return sum(path.stat().st_size for path in folder.glob(f"sandbox-{size}.db*")) / 1e6


def probe(db_path: str) -> tuple[str, str]:
    """An existing email (for the exact search) and a token found in exactly one email (a worst-case fuzzy scan)."""
    conn = sqlite3.connect(db_path)
    try:
        count = conn.execute("SELECT count(*) FROM customers WHERE merchant_id = 'SANDBOXMERCH1'").fetchone()[0]
        email = conn.execute(
            "SELECT email_address FROM customers WHERE email_address IS NOT NULL AND merchant_id = 'SANDBOXMERCH1' "
            "ORDER BY id LIMIT 1 OFFSET ?",
            (count // 2,),
        ).fetchone()[0]
    finally:
        conn.close()
    local = email.split("@")[0]
    digits = "".join(ch for ch in local if ch.isdigit())
    return email, f"{local.split('.')[0]} {digits}"


async def measure(size: int, repeat: int, folder: Path, other_share: float) -> dict[str, dict[str, float]]:
    db_path = str(folder / f"sandbox-{size}.db")
    started = time.perf_counter()
    others = round(size * other_share)
    app = create_app(db_path, seed=size - others)
    if others:
        add_other_merchant(db_path, others)
    megabytes = database_megabytes(folder, size)
    print(
        f"  built {size:,} customers ({others:,} another merchant's) in {time.perf_counter() - started:.1f} s, "
        f"{megabytes:.0f} MB",
        file=sys.stderr,
    )
    email, rare_token = probe(db_path)
    results: dict[str, dict[str, float]] = {}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=AUTH
        ) as http:
            cursor = ""
            for _ in range(5):
                page = (
                    await http.get(
                        "/v2/customers", params={"limit": 100, "cursor": cursor} if cursor else {"limit": 100}
                    )
                ).json()
                cursor = page["cursor"]
            # A short first page, so even the smallest store has a second one (the cursor doesn't bind the limit).
            first = await http.post(
                "/v2/customers/search",
                json={"query": {"filter": {"email_address": {"fuzzy": "earhart example"}}}, "limit": 10},
            )
            search_cursor = first.json()["cursor"]
            for name, operation in operations(email, rare_token, cursor, search_cursor).items():
                timings: list[float] = []
                for run in range(repeat + 3):
                    begin = time.perf_counter()
                    response = await operation(http, run)
                    elapsed = (time.perf_counter() - begin) * 1000
                    if response.status_code != 200:
                        raise RuntimeError(f"{name}: {response.status_code} {response.text[:300]}")
                    if run >= 3:  # the first runs warm SQLite's page cache
                        timings.append(elapsed)
                timings.sort()
                results[name] = {
                    "median_ms": round(statistics.median(timings), 2),
                    "p95_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.95))], 2),
                }
    finally:
        app.state.store.close()
    return results


def print_table(sizes: list[int], results: dict[int, dict[str, dict[str, float]]]) -> None:
    names = list(results[sizes[0]])
    width = max(len(name) for name in names)
    header = f"{'operation':<{width}}" + "".join(f" | {f'{size:,}':>17}" for size in sizes)
    print(header)
    print(f"{'':<{width}}" + "".join(f" | {'median / p95 ms':>17}" for _ in sizes))
    print("-" * len(header))
    for name in names:
        cells = "".join(f" | {results[s][name]['median_ms']:>7.2f} / {results[s][name]['p95_ms']:>7.2f}" for s in sizes)
        print(f"{name:<{width}}{cells}")


def main() -> int:
    machine_header()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated store sizes")
    parser.add_argument("--repeat", type=int, default=40, help="timed runs per operation and size")
    parser.add_argument(
        "--other-share", type=float, default=0.0, help="share of each size owned by a second merchant (0 to <1)"
    )
    args = parser.parse_args()
    sizes = [int(part) for part in args.sizes.split(",") if part.strip()]
    results: dict[int, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as folder:
        for size in sizes:
            print(f"size {size:,}", file=sys.stderr)
            results[size] = anyio.run(measure, size, args.repeat, Path(folder), args.other_share)
    print_table(sizes, results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "machine": machine(),
        "repeat": args.repeat,
        "other_share": args.other_share,
        "results": {str(size): value for size, value in results.items()},
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
