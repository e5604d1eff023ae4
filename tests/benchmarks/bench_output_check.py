"""What the mcp client's check of each result against the tool's outputSchema costs, per tool, as a share
of the whole call (target: under 20%).

The SDK client validates every structured result with a compiled jsonschema validator before handing it
over. This runs each of the 16 tools through an in-memory mcp Client against the seeded in-process sandbox,
times the calls, and times the same compiled check on the results. In memory the call is at its cheapest,
so the share is the highest any transport shows (over stdio the call costs more and the check the same).

    python tests/benchmarks/bench_output_check.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import anyio
from _common import RESULTS_DIR, machine_header, summarize
from jsonschema.validators import validator_for
from mcp import Client
from referencing import Registry

from square_customers_mcp.app import build_server
from square_customers_mcp.backend import SandboxTransport
from square_customers_mcp.config import Settings
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.sandbox import create_app
from square_customers_mcp.sandbox.seed import SEEDED_SEGMENTS, VIP_GROUP_ID
from square_customers_mcp.square_client import SquareClient
from square_customers_mcp.tools import TOOLS

SHARE_TARGET = 0.20
Args = Callable[[int], dict[str, Any]]


def scenarios(ids: list[str], spare: list[str]) -> dict[str, Args]:
    """Arguments per tool and iteration; writes that use a customer up take a fresh one each time."""
    regulars = next(sid for sid, name in SEEDED_SEGMENTS if name == "Regulars")
    return {
        "list_customers": lambda i: {},
        "create_customer": lambda i: {"given_name": f"Bench{i}", "email_address": f"bench{i}@example.com"},
        "bulk_create_customers": lambda i: {"customers": [{"given_name": f"Bulk{i}-{j}"} for j in range(10)]},
        "bulk_delete_customers": lambda i: {"customer_ids": spare[10 * i : 10 * i + 10]},
        "bulk_retrieve_customers": lambda i: {"customer_ids": ids[:25]},
        "bulk_update_customers": lambda i: {"customers": [{"customer_id": c, "note": f"n{i}"} for c in ids[:10]]},
        "search_customers": lambda i: {"filter": {"segment_ids": {"all": [regulars]}}},
        "delete_customer": lambda i: {"customer_id": spare[-1 - i]},
        "retrieve_customer": lambda i: {"customer_id": ids[i % len(ids)]},
        "update_customer": lambda i: {"customer_id": ids[0], "note": f"note {i}"},
        "create_customer_card": lambda i: {"customer_id": ids[1], "card_nonce": "cnon:card-nonce-ok"},
        "delete_customer_card": lambda i: {"customer_id": ids[1], "card_id": "ccof:missing"},
        "add_group_to_customer": lambda i: {"customer_id": ids[2], "group_id": VIP_GROUP_ID},
        "remove_group_from_customer": lambda i: {"customer_id": ids[2], "group_id": VIP_GROUP_ID},
        "list_customer_groups": lambda i: {},
        "list_customer_segments": lambda i: {},
    }


async def measure(iterations: int) -> list[dict[str, Any]]:
    app = create_app(":memory:", seed=200 + 11 * iterations)
    client = SquareClient(Settings(), transport=SandboxTransport(app=app))
    server = build_server(Dispatcher(client))
    rows = []
    async with Client(server) as mcp:
        listed = {tool.name: tool.output_schema for tool in (await mcp.list_tools()).tools}
        first = await mcp.call_tool("list_customers", {"limit": 100})
        everyone = [c["id"] for c in (first.structured_content or {})["customers"]]
        while len(everyone) < 200 + 11 * iterations:
            page = await mcp.call_tool(
                "list_customers", {"limit": 100, "cursor": first.structured_content["next_cursor"]}
            )  # type: ignore[index]
            everyone += [c["id"] for c in (page.structured_content or {})["customers"]]
            first = page
        args = scenarios(everyone[:50], everyone[50:])
        for tool in TOOLS:
            schema = listed[tool.name] or {}
            check = validator_for(schema)(schema, registry=Registry())
            calls, checks, errors = [], [], 0
            for i in range(iterations):
                started = time.perf_counter()
                result = await mcp.call_tool(tool.name, args[tool.name](i))
                calls.append(time.perf_counter() - started)
                errors += bool(result.is_error)
                started = time.perf_counter()
                list(check.iter_errors(result.structured_content))
                checks.append(time.perf_counter() - started)
            call, checked = summarize(calls)["p50_ms"], summarize(checks)["p50_ms"]
            rows.append(
                {
                    "tool": tool.name,
                    "call_p50_ms": call,
                    "check_p50_ms": checked,
                    "share": checked / call,
                    "errors": errors,
                }
            )
    await client.aclose()
    app.state.store.close()
    return rows


def main() -> int:
    machine_header()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    iterations = 15 if parser.parse_args().quick else 40
    rows = anyio.run(measure, iterations)
    print(f"{'tool':28} {'call p50 ms':>11} {'check p50 ms':>12} {'share':>6}")
    for row in rows:
        print(f"{row['tool']:28} {row['call_p50_ms']:>11.3f} {row['check_p50_ms']:>12.3f} {row['share']:>6.1%}")
    worst = max(rows, key=lambda row: row["share"])
    ok = worst["share"] < SHARE_TARGET
    print(
        f"largest share: {worst['tool']} {worst['share']:.1%} (target < {SHARE_TARGET:.0%}): {'met' if ok else 'MISSED'}"
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "output_check.json").write_text(__import__("json").dumps({"rows": rows, "met": ok}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
