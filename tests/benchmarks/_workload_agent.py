"""The scripted agent of bench_workload.py, and the checker that reads the sandbox beside it.

Imports neither `server` nor `tools`: the same agent drives whichever surface the MCP client is connected to,
so the before/after comparison runs one code path. The agent only knows what a model would: the tool list
(names, descriptions, input schemas), the facts the user put in the prompt, and the text of each result. It
reads argument shapes from the input schemas (array vs map-shaped bulk entries, flat `filter` vs a `query`
object, `clear` vs nullable fields), takes every id, version and cursor from a result, and fails the task,
calls spent, when the surface offers no way to do it. Correctness is checked on the sandbox itself over raw
HTTP (Square's API), never through the tools.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from bpe_openai import get_encoding
from mcp import Client

ENCODING = get_encoding("o200k_base")
JSON = dict[str, Any]


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def tool_list_tokens(tools: dict[str, JSON]) -> int:
    """What the model is sent of tools/list: per tool, name, description and parameters (the input schema) as
    compact JSON; the same measure as bench_tokens.py, so the two agree."""
    return sum(
        tokens(compact({"name": t["name"], "description": t["description"], "parameters": t["inputSchema"]}))
        for t in tools.values()
    )


class TaskFailed(Exception):
    """The agent could not finish: no tool for a step, or a tool error it has no way around."""


@dataclass
class Conversation:
    """One chat: the tool list the model was given, and the calls and tokens spent so far."""

    client: Client
    tools: dict[str, JSON]
    calls: int = 0
    tokens: int = 0
    trace: list[JSON] = field(default_factory=list)
    """Per call: tool, argument tokens, result tokens (which results cost most)."""

    @classmethod
    async def open(cls, client: Client) -> Conversation:
        listed = (await client.list_tools()).tools
        tools = {t.name: {"name": t.name, "description": t.description, "inputSchema": t.input_schema} for t in listed}
        return cls(client, tools)

    def props(self, name: str) -> JSON:
        if name not in self.tools:
            raise TaskFailed(f"no tool named {name} in the tool list")
        return dict(self.tools[name]["inputSchema"].get("properties", {}))

    async def call(self, name: str, args: JSON) -> JSON:
        if name not in self.tools:
            raise TaskFailed(f"no tool named {name} in the tool list")
        result = await self.client.call_tool(name, args)
        text = "".join(block.text for block in result.content if block.type == "text")
        spent = {"tool": name, "args": tokens(compact(args)), "result": tokens(text), "error": bool(result.is_error)}
        self.calls += 1
        self.tokens += spent["args"] + spent["result"]
        self.trace.append(spent)
        if result.is_error:
            raise TaskFailed(f"{name} failed: {text[:300]}")
        return dict(json.loads(text))  # the model reads the text block, not structured_content


# --- How the agent reads the schemas and results ------------------------------------------------------------


def customers_in(result: JSON) -> list[JSON]:
    """The customers of a result, whether a list or keyed by id (the old bulk_retrieve shape)."""
    found = result.get("customers", [])
    if isinstance(found, dict):
        found = list(found.values())
    if "customer" in result:
        found = [*found, result["customer"]]
    return list(found)


def search_args(conv: Conversation, filt: JSON, sort: tuple[str, str] | None = None) -> JSON:
    props = conv.props("search_customers")
    if "filter" in props:
        args: JSON = {"filter": filt}
        if sort:
            args |= {"sort_field": sort[0], "sort_order": sort[1]}
        return args
    if "query" in props:
        query: JSON = {"filter": filt}
        if sort:
            query["sort"] = {"field": sort[0], "order": sort[1]}
        return {"query": query}
    raise TaskFailed("search_customers takes neither filter nor query")


async def all_pages(conv: Conversation, name: str, args: JSON) -> list[JSON]:
    """Every result page of a list or search, following next_cursor as the results say."""
    pages = [await conv.call(name, args)]
    while pages[-1].get("next_cursor"):
        pages.append(await conv.call(name, {**args, "cursor": pages[-1]["next_cursor"]}))
    return pages


async def find_by_email(conv: Conversation, email: str) -> JSON:
    result = await conv.call("search_customers", search_args(conv, {"email_address": {"exact": email}}))
    found = customers_in(result)
    if len(found) != 1:
        raise TaskFailed(f"{len(found)} customers with email {email}")
    return found[0]


async def id_by_name(conv: Conversation, tool: str, key: str, name: str) -> str:
    """A group or segment id found by name through the listing tool; no tool, no id."""
    if tool not in conv.tools:
        raise TaskFailed(f"no tool lists customer {key} (looked for {tool}); the id cannot be found")
    for page in await all_pages(conv, tool, {}):
        for item in page.get(key, []):
            if item.get("name") == name:
                return str(item["id"])
    raise TaskFailed(f"no {key[:-1]} named {name}")


def versioned(conv: Conversation, tool: str, customer: JSON) -> JSON:
    return {"version": customer["version"]} if "version" in conv.props(tool) and "version" in customer else {}


def clearing(conv: Conversation, tool: str, name: str) -> JSON:
    """How this surface erases a field: a `clear` list, or null where the schema allows it."""
    props = conv.props(tool)
    if "clear" in props:
        return {"clear": [name]}
    kind = props.get(name, {}).get("type")
    if isinstance(kind, list) and "null" in kind:
        return {name: None}
    raise TaskFailed(f"{tool} offers no way to erase {name}")


def bulk_entries(conv: Conversation, tool: str, entries: list[JSON], key: str, *, key_optional: bool = False) -> JSON:
    """Bulk entries as the schema wants them: an array, or a map keyed by `key` (taken out of each entry).

    `key_optional`: the array form may leave `key` out (idempotency keys are generated), as a model would.
    """
    shape = conv.props(tool).get("customers", {}).get("type")
    if shape == "array":
        return {"customers": [{k: v for k, v in e.items() if k != key or not key_optional} for e in entries]}
    if shape == "object":
        return {"customers": {entry[key]: {k: v for k, v in entry.items() if k != key} for entry in entries}}
    raise TaskFailed(f"{tool}: cannot tell how to pass customers")


# --- The checker: raw HTTP on the sandbox, beside the tools -------------------------------------------------


class Sandbox:
    """Square's API on the in-process sandbox, read directly to check what the agent did."""

    def __init__(self, app: Any) -> None:
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers={"Authorization": "Bearer x"}
        )

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(path, params=params)

    async def customer(self, customer_id: str) -> JSON | None:
        response = await self.get(f"/v2/customers/{customer_id}")
        return dict(response.json()["customer"]) if response.status_code == 200 else None

    async def everyone(self, **params: Any) -> list[JSON]:
        found: list[JSON] = []
        cursor = None
        while True:
            body = (
                await self.get("/v2/customers", limit=100, **params, **({"cursor": cursor} if cursor else {}))
            ).json()
            found += body.get("customers", [])
            cursor = body.get("cursor")
            if not cursor:
                return found

    async def by_email(self, email: str) -> list[JSON]:
        return [c for c in await self.everyone() if c.get("email_address") == email]

    async def id_named(self, kind: str, name: str) -> str | None:
        response = await self.get(f"/v2/customers/{kind}")
        if response.status_code != 200:
            return None
        return next((item["id"] for item in response.json().get(kind, []) if item["name"] == name), None)


def digits(phone: str | None) -> str:
    return "".join(ch for ch in phone or "" if ch.isdigit())
