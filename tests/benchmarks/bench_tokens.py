"""Token benchmark: what the model pays for our tool list and results, against raw Square JSON.

Runs against the in-process sandbox seeded deterministically; counts o200k_base tokens offline with
bpe-openai (`pip install -e '.[bench]'`). Prints a table and writes results/tokens.json.

    python tests/benchmarks/bench_tokens.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
from bpe_openai import get_encoding
from mcp.types import ListToolsResult, Tool

from square_customers_mcp.app import build_server, mcp_tool
from square_customers_mcp.backend import SandboxTransport
from square_customers_mcp.config import Settings
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.sandbox import create_app
from square_customers_mcp.sandbox.seed import VIP_GROUP_ID
from square_customers_mcp.square_client import SquareClient
from square_customers_mcp.tools import TOOLS

RESULTS = Path(__file__).parent / "results"
ENCODING = get_encoding("o200k_base")
TOOL_LIST_TARGET = 2800
RATIO_TARGET = 0.45


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class RecordingTransport(SandboxTransport):
    """Keeps the raw body of the last answer: what a client of Square's own API would read."""

    last_body = b""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        self.last_body = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=self.last_body)


def model_facing(tool: Tool) -> str:
    """What a model API is sent for one tool: its name, description and parameters schema."""
    return compact({"name": tool.name, "description": tool.description, "parameters": tool.input_schema})


def tool_list_tokens() -> dict[str, Any]:
    server_tools = [mcp_tool(spec) for spec in TOOLS]
    per_tool = {t.name: tokens(model_facing(t)) for t in server_tools}
    payload = ListToolsResult(tools=server_tools).model_dump(mode="json", by_alias=True, exclude_none=True)
    return {
        "tools": len(server_tools),
        "model_facing": sum(per_tool.values()),
        "per_tool": per_tool,
        "tools_list_payload": tokens(compact(payload)),
    }


async def result_tokens(seed: int) -> list[dict[str, Any]]:
    app = create_app(":memory:", seed=seed)
    transport = RecordingTransport(app=app)
    dispatcher = Dispatcher(SquareClient(Settings(), transport=transport))
    rows: list[dict[str, Any]] = []

    async def measure(label: str, name: str, args: dict[str, Any], *, list_like: bool = False) -> dict[str, Any]:
        result = await dispatcher.call(name, args)
        if result.is_error:
            raise SystemExit(f"{label}: {result.content[0].text}")  # type: ignore[union-attr]
        ours = tokens(result.content[0].text)  # type: ignore[union-attr]
        raw = tokens(transport.last_body.decode())
        row = {"call": label, "raw_tokens": raw, "our_tokens": ours, "ratio": round(ours / raw, 3) if raw else None}
        if list_like:
            row["target"] = f"<= {RATIO_TARGET:.0%}"
            row["met"] = ours / raw <= RATIO_TARGET
        rows.append(row)
        assert result.structured_content is not None
        return result.structured_content

    page = await measure("list_customers limit=100", "list_customers", {"limit": 100}, list_like=True)
    await measure("list_customers (default page, 25)", "list_customers", {}, list_like=True)
    await measure("list_customer_groups", "list_customer_groups", {})
    await measure("list_customer_segments", "list_customer_segments", {})
    await measure(
        "list_customers limit=100 fields=name,email",
        "list_customers",
        {"limit": 100, "fields": ["given_name", "family_name", "email_address"]},
        list_like=True,
    )
    await measure(
        "search_customers fuzzy email, limit=100",
        "search_customers",
        {"filter": {"email_address": {"fuzzy": "example"}}, "limit": 100},
        list_like=True,
    )
    ids = [c["id"] for c in page["customers"]]
    await measure("bulk_retrieve_customers 100", "bulk_retrieve_customers", {"customer_ids": ids}, list_like=True)
    one = await measure("retrieve_customer", "retrieve_customer", {"customer_id": ids[0]})
    created = await measure(
        "create_customer",
        "create_customer",
        {
            "given_name": "Ada",
            "family_name": "Lovelace",
            "email_address": "ada@example.com",
            "phone_number": "+44 20 7946 0000",
            "address": {"address_line_1": "12 St James's Sq", "locality": "London", "country": "GB"},
        },
    )
    new_id = created["customer"]["id"]
    await measure("update_customer", "update_customer", {"customer_id": new_id, "note": "VIP", "version": 0})
    await measure("add_group_to_customer", "add_group_to_customer", {"customer_id": new_id, "group_id": VIP_GROUP_ID})
    await measure(
        "remove_group_from_customer", "remove_group_from_customer", {"customer_id": new_id, "group_id": VIP_GROUP_ID}
    )
    card = await measure(
        "create_customer_card", "create_customer_card", {"customer_id": new_id, "card_nonce": "cnon:card-nonce-ok"}
    )
    await measure(
        "delete_customer_card", "delete_customer_card", {"customer_id": new_id, "card_id": card["card"]["id"]}
    )
    bulk = await measure(
        "bulk_create_customers 10",
        "bulk_create_customers",
        {"customers": [{"given_name": f"Bulk{i}", "email_address": f"bulk{i}@example.com"} for i in range(10)]},
        list_like=True,
    )
    bulk_ids = [c["id"] for c in bulk["customers"]]
    await measure(
        "bulk_update_customers 10",
        "bulk_update_customers",
        {"customers": [{"customer_id": i, "note": "imported"} for i in bulk_ids]},
        list_like=True,
    )
    await measure("bulk_delete_customers 10", "bulk_delete_customers", {"customer_ids": bulk_ids})
    await measure("delete_customer", "delete_customer", {"customer_id": new_id})
    app.state.store.close()
    # Nothing an agent needs is dropped: who, how to reach them, which version, which groups.
    assert {"id", "version"} <= set(one["customer"]), one
    assert all("version" in c and "id" in c for c in page["customers"])
    assert any("group_ids" in c for c in page["customers"]), "group membership kept"
    assert any("email_address" in c or "phone_number" in c for c in page["customers"])
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'call':46} {'raw':>7} {'ours':>7} {'ratio':>6}  target"]
    for row in rows:
        target = f"{row.get('target', '')} {'met' if row.get('met') else ('MISSED' if 'met' in row else '')}"
        lines.append(f"{row['call']:46} {row['raw_tokens']:>7} {row['our_tokens']:>7} {row['ratio']:>6}  {target}")
    return "\n".join(lines)


async def main(seed: int) -> int:
    listing = tool_list_tokens()
    rows = await result_tokens(seed)
    ok = listing["model_facing"] <= TOOL_LIST_TARGET and all(r.get("met", True) for r in rows)
    print(
        f"tool list, model-facing (name, description, input schema) of {listing['tools']} tools: "
        f"{listing['model_facing']} tokens (target <= {TOOL_LIST_TARGET})"
    )
    print("  " + ", ".join(f"{name} {count}" for name, count in listing["per_tool"].items()))
    print(f"whole tools/list payload (with output schemas and annotations): {listing['tools_list_payload']} tokens")
    print(table(rows))
    print("all targets met" if ok else "SOME TARGETS MISSED")
    RESULTS.mkdir(exist_ok=True)
    report = {"encoding": "o200k_base", "seed_customers": seed, "tool_list": listing, "results": rows, "met": ok}
    (RESULTS / "tokens.json").write_text(json.dumps(report, indent=2) + "\n")
    _ = build_server  # the same server the MCP tests use builds these tools
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=500, help="customers in the seeded sandbox")
    sys.exit(anyio.run(main, parser.parse_args().seed))
