"""An agent framework driving the server: Pydantic AI's MCPToolset over stdio, with a scripted model.

The model is Pydantic AI's FunctionModel, a plain function that plays the LLM, so this needs no
API key and no network: it asks search_customers for the email in the question, then
retrieve_customer for the id that came back, then list_customer_groups to learn which group id is
"VIP" (no id is hard-coded anywhere), then answers from what the tools returned. Swap
`FunctionModel(scripted_model)` for a real model name (e.g. "anthropic:claude-sonnet-4-5")
and the same toolset serves it. The server runs against a throwaway local API, seeded first
over the plain mcp client.

Needs: pip install -e '.[examples]'   (pydantic-ai-slim[mcp])
Run: python examples/agent_pydantic_ai.py
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
from fastmcp.client.transports import StdioTransport  # installed by pydantic-ai-slim[mcp]
from mcp import Client, StdioServerParameters
from pydantic_ai import Agent
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

QUESTION = "What do we know about the customer ada@example.com, and is she a VIP?"


def server_command() -> str:
    """The console script next to this Python (a venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("square-customers-mcp")
    found = str(beside) if beside.exists() else shutil.which("square-customers-mcp")
    if not found:
        sys.exit("square-customers-mcp not found: pip install -e . first")
    return found


def scripted_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Stands in for the LLM: each turn looks at what the tools returned so far and picks the next step."""
    offered = {tool.name for tool in info.function_tools}
    assert {"search_customers", "retrieve_customer", "list_customer_groups"} <= offered, f"offered {sorted(offered)}"
    returns = [part for message in messages for part in message.parts if isinstance(part, ToolReturnPart)]
    if not returns:
        email = re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", QUESTION)
        search = {"filter": {"email_address": {"exact": email.group(0) if email else ""}}}
        return ModelResponse(parts=[ToolCallPart("search_customers", search)])
    # Each tool's structured_content, as the MCP server returned it.
    seen: dict[str, dict[str, Any]] = {r.tool_name: dict(r.content) for r in returns if isinstance(r.content, dict)}
    last = returns[-1].tool_name
    if last == "search_customers":
        matches = seen[last].get("customers", [])
        if not matches:
            return ModelResponse(parts=[TextPart("No customer has that email.")])
        return ModelResponse(parts=[ToolCallPart("retrieve_customer", {"customer_id": matches[0]["id"]})])
    if last == "retrieve_customer":  # group_ids are ids: which one is "VIP"?
        return ModelResponse(parts=[ToolCallPart("list_customer_groups", {})])
    customer = seen["retrieve_customer"]["customer"]
    vip_ids = {group["id"] for group in seen["list_customer_groups"].get("groups", []) if group["name"] == "VIP"}
    vip = "is a VIP" if vip_ids & set(customer.get("group_ids", [])) else "is not a VIP"
    answer = (
        f"{customer['given_name']} {customer['family_name']} ({customer['id']}) {vip}. "
        f"Phone {customer.get('phone_number', 'unknown')}; note: {customer.get('note', 'none')}"
    )
    return ModelResponse(parts=[TextPart(answer)])


async def seed(env: dict[str, str]) -> None:
    params = StdioServerParameters(command=server_command(), args=["--log-level", "WARNING"], env=env)
    async with Client(params) as client:
        groups = (await client.call_tool("list_customer_groups", {})).structured_content or {}
        vip = next(group["id"] for group in groups["groups"] if group["name"] == "VIP")
        for profile in (
            {
                "given_name": "Ada",
                "family_name": "Lovelace",
                "email_address": "ada@example.com",
                "phone_number": "+44 20 7946 0018",
                "note": "Pays by invoice.",
            },
            {"given_name": "Alan", "family_name": "Turing", "email_address": "alan@example.com"},
        ):
            created = await client.call_tool("create_customer", profile)
            customer = (created.structured_content or {})["customer"]
            if customer["given_name"] == "Ada":
                await client.call_tool("add_group_to_customer", {"customer_id": customer["id"], "group_id": vip})


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"SQUARE_SANDBOX_DB": str(Path(tmp) / "customers.db")}
        await seed(env)
        # keep_alive=False: the server process ends with the agent's context, not at interpreter exit.
        transport = StdioTransport(command=server_command(), args=["--log-level", "WARNING"], env=env, keep_alive=False)
        agent = Agent(FunctionModel(scripted_model), toolsets=[MCPToolset(transport)])
        async with agent:
            result = await agent.run(QUESTION)
        print(f"question: {QUESTION}")
        for message in result.all_messages():
            for part in message.parts:
                if isinstance(part, ToolCallPart):
                    print(f"tool call: {part.tool_name} {json.dumps(part.args_as_dict())}")
                elif isinstance(part, ToolReturnPart):
                    print(f"tool result: {part.tool_name} -> {json.dumps(part.content)[:120]}")
        print(f"answer: {result.output}")
        return 0 if "Ada Lovelace" in result.output and "is a VIP" in result.output else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main))
