"""The real console script, launched as a subprocess over stdio, as an MCP host would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from square_customers_mcp.tools import TOOLS

pytestmark = pytest.mark.anyio
SCRIPT = Path(sys.executable).with_name("square-customers-mcp")
FAKE_TOKEN = "EAAAtest-token-never-printed-0123456789"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUARE_")}
    env.update(extra)
    return env


@pytest.fixture(autouse=True)
def _script_installed() -> None:
    assert SCRIPT.exists(), f"console script missing at {SCRIPT}; install with pip install -e '.[dev]'"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_stdio_lists_the_16_tools_against_square(mode: str) -> None:
    # A closed local port as the Square URL: listing tools needs no backend call.
    params = StdioServerParameters(
        command=str(SCRIPT),
        args=[],
        env=_env(SQUARE_ACCESS_TOKEN=FAKE_TOKEN, SQUARE_BASE_URL="http://127.0.0.1:9"),
    )
    async with Client(params, mode=mode) as client:
        tools = (await client.list_tools()).tools
        result = await client.call_tool("retrieve_customer", {"customer_id": "NOPE"})
    assert [t.name for t in tools] == [t.name for t in TOOLS] and len(tools) == 16
    assert result.is_error
    assert result.content[0].text.startswith("NETWORK_ERROR")
    assert FAKE_TOKEN not in result.content[0].text


async def test_stdio_with_no_token_uses_the_local_sandbox(tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=str(SCRIPT), args=[], env=_env(SQUARE_SANDBOX_DB=str(tmp_path / "customers.db"))
    )
    async with Client(params) as client:
        created = await client.call_tool("create_customer", {"given_name": "Ada", "email_address": "ada@example.com"})
        found = await client.call_tool("search_customers", {"filter": {"email_address": {"exact": "ada@example.com"}}})
    assert not created.is_error, created.content
    assert found.structured_content is not None
    assert [c["given_name"] for c in found.structured_content["customers"]] == ["Ada"]
    assert (tmp_path / "customers.db").exists()


def test_help_lists_every_environment_variable() -> None:
    out = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=True).stdout
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    documented = set(re.findall(r"^\| `(SQUARE_[A-Z_]+)` \|", readme, re.MULTILINE))
    code = "".join(path.read_text() for path in (Path(__file__).parents[1] / "server").glob("*.py"))
    read = set(re.findall(r"\"(SQUARE_[A-Z_]+)\"", code))
    assert read, "server/*.py reads its settings by name"
    assert sorted(read - documented) == [], "every variable the server reads is in the README's table"
    assert sorted(name for name in documented if name not in out) == [], "and in --help"


def test_start_up_line_names_the_backend_and_never_the_token() -> None:
    # stdin closed at once: the server starts, logs its line, sees EOF and exits.
    proc = subprocess.run(
        [str(SCRIPT)],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
        env=_env(SQUARE_ACCESS_TOKEN=FAKE_TOKEN),
    )
    assert "serving 16 tools on stdio; backend: Square sandbox at https://connect.squareupsandbox.com" in proc.stderr
    assert FAKE_TOKEN not in proc.stderr + proc.stdout
    assert proc.stdout == ""


def test_bad_environment_is_a_clear_error() -> None:
    proc = subprocess.run(
        [str(SCRIPT)], input="", capture_output=True, text=True, timeout=30, env=_env(SQUARE_ENVIRONMENT="prod")
    )
    assert proc.returncode == 2
    assert "SQUARE_ENVIRONMENT must be local, sandbox or production" in proc.stderr


@pytest.mark.parametrize("flag", [["--read-only"], ["--redact-pii"], ["--toolsets", "profiles"]])
def test_the_sandbox_command_refuses_options_of_the_mcp_server(flag: list[str]) -> None:
    proc = subprocess.run([str(SCRIPT), "sandbox", *flag], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"square-customers-mcp: {flag[0]} applies to the MCP server, not to the `sandbox` command"
    )
