"""The architecture the folders promise: tools/ is what is offered, as data; server/ is how it runs and
knows no tool by name (tool-specific behaviour is a field of the tool's record)."""

from __future__ import annotations

import re
from pathlib import Path

from square_customers_mcp.tools import TOOLS

ROOT = Path(__file__).resolve().parents[1]


def test_no_tool_name_in_server() -> None:
    # The local API (server/sandbox/) names its handlers after Square's operations, not after our tools.
    sources = {path: path.read_text() for path in (ROOT / "server").glob("*.py")}
    names = re.compile(r"\b(" + "|".join(re.escape(tool.name) for tool in TOOLS) + r")\b")
    found = [f"{path.name}: {match.group(0)}" for path, text in sources.items() for match in names.finditer(text)]
    assert found == []


def test_tools_do_no_io() -> None:
    for path in (ROOT / "tools").glob("*.py"):
        text = path.read_text()
        assert not re.search(
            r"^\s*(import|from) (httpx|anyio|sqlite3|starlette|square_customers_mcp\.(?!tools))", text, re.M
        ), path
