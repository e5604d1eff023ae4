"""The README's tool table, rendered from the registry so the two cannot drift."""

from __future__ import annotations

from square_customers_mcp.tools import TOOLS


def _kind(read_only: bool, destructive: bool) -> str:
    if read_only:
        return "read"
    return "write, destructive" if destructive else "write"


def tool_table() -> str:
    lines = ["| tool | Square endpoint | kind | toolset | what it does |", "|---|---|---|---|---|"]
    for tool in TOOLS:
        kind = _kind(tool.read_only, tool.destructive) + (", deprecated by Square" if tool.deprecated else "")
        lines.append(f"| `{tool.name}` | `{tool.method} {tool.path}` | {kind} | {tool.toolset} | {tool.description} |")
    return "\n".join(lines) + "\n"
