"""Every example in examples/ runs offline and does what examples/README.md says it does."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from square_customers_mcp.tools import TOOLS

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HOSTS = EXAMPLES / "hosts"
SCRIPT = Path(sys.executable).with_name("square-customers-mcp")
FAKE_TOKEN = "EAAAexample-token-never-sent-0123456789"
CLOSED_PORT_URL = "http://127.0.0.1:9"  # discard port, nothing listens: no request can leave the machine
HOST_CONFIGS = sorted(p.relative_to(HOSTS).as_posix() for p in HOSTS.rglob("*") if p.suffix in (".json", ".yaml"))
PLACEHOLDER = re.compile(r"^\$\{(env:)?SQUARE_ACCESS_TOKEN\}$|replace-with-your")


def _run(script: str, timeout: float = 60) -> str:
    """Run an example as a user would; it must stop by itself and exit 0."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{script} exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


def _server_entry(relative: str) -> tuple[dict[str, Any], str, list[str], dict[str, str]]:
    """The host's entry for this server, and the command, args and env the host would launch."""
    path = HOSTS / relative
    if path.suffix == ".yaml":
        yaml = pytest.importorskip("yaml", reason="Goose configs are YAML: pip install -e '.[examples]'")
        entry = yaml.safe_load(path.read_text())["extensions"]["square-customers"]
        assert entry["type"] == "stdio" and entry["enabled"] is True and entry["name"] == "square-customers"
        return entry, entry["cmd"], entry["args"], entry["envs"]
    entry = json.loads(path.read_text())["mcpServers"]["square-customers"]
    assert entry.get("type", "stdio") == "stdio"
    return entry, entry["command"], entry["args"], entry["env"]


def test_every_example_has_a_line_in_the_readme() -> None:
    readme = (EXAMPLES / "README.md").read_text()
    examples = [p.name for p in EXAMPLES.glob("*.py")] + [f"hosts/{name}" for name in HOST_CONFIGS]
    assert len(examples) >= 11
    missing = [name for name in examples if f"`{name}`" not in readme and f"({name})" not in readme]
    assert not missing, f"examples/README.md says nothing about {missing}"


def test_there_is_a_local_and_a_sandbox_config_for_each_host() -> None:
    hosts = {name.split("/")[0] for name in HOST_CONFIGS}
    assert hosts == {"claude-code", "claude-desktop", "cursor", "goose"}
    for host in hosts:
        assert {n.split("/")[1].split(".")[0] for n in HOST_CONFIGS if n.startswith(f"{host}/")} == {
            "local",
            "square-sandbox",
        }


@pytest.mark.slow  # a subprocess each: .ci/run runs `pytest -m slow`
@pytest.mark.anyio
@pytest.mark.parametrize("relative", HOST_CONFIGS)
async def test_host_config_starts_the_server_and_lists_the_16_tools(relative: str, tmp_path: Path) -> None:
    entry, command, args, env = _server_entry(relative)
    assert command == "square-customers-mcp", "hosts find the console script on PATH"
    launch_env = dict(env)
    if relative.split("/")[1].startswith("square-sandbox"):
        assert env["SQUARE_ENVIRONMENT"] == "sandbox"
        assert PLACEHOLDER.search(env["SQUARE_ACCESS_TOKEN"]), "a placeholder, never a real token"
        # What the host would substitute, and a closed local port instead of Square's sandbox host.
        launch_env |= {"SQUARE_ACCESS_TOKEN": FAKE_TOKEN, "SQUARE_BASE_URL": CLOSED_PORT_URL}
    else:
        assert "SQUARE_ACCESS_TOKEN" not in env and env.get("SQUARE_ENVIRONMENT", "local") == "local"
        launch_env["SQUARE_SANDBOX_DB"] = str(tmp_path / "customers.db")  # not the user's data directory
    params = StdioServerParameters(command=str(SCRIPT), args=args, env=launch_env)
    async with Client(params) as client:
        tools = (await client.list_tools()).tools
        if "SQUARE_SANDBOX_DB" in launch_env:  # the local API answers for real
            found = await client.call_tool("list_customers", {})
            assert not found.is_error, found.content
            groups = await client.call_tool("list_customer_groups", {})
            assert groups.structured_content is not None, groups.content
            assert "VIP" in [group["name"] for group in groups.structured_content["groups"]]
    assert [tool.name for tool in tools] == [spec.name for spec in TOOLS]
    assert len(tools) == 16
    if relative.endswith(".yaml"):
        assert f"({len(TOOLS)} tools)" in entry["description"]


@pytest.mark.slow  # a subprocess each: .ci/run runs `pytest -m slow`
def test_dedupe_customers() -> None:
    out = _run("dedupe_customers.py")
    assert "found 3 customer groups: Newsletter, VIP, Wholesale" in out  # by name, no id in the example
    assert "seeded 3 customers, then imported 3 duplicates of two of them" in out
    assert "listed 6 customers: 2 emails used more than once" in out
    assert "refused: CONFLICT (version)" in out  # the stale delete is refused, then redone at the new version
    # Two group additions move the survivor from version 1 (after the merge) to 3, as each result says ...
    assert re.search(r"added \w+ \(Amelia Earhart\) to group Newsletter \(now version 2\)", out)
    assert re.search(r"added \w+ \(Amelia Earhart\) to group VIP \(now version 3\)", out)
    # ... and the versioned update made at version 3 with no re-read is accepted.
    assert re.search(r"merged the new note into \w+ \(Amelia Earhart\)", out)
    assert out.count("  deleted ") == 3
    assert "done: 6 -> 3 customers, no duplicate emails left" in out
    survivor = next(line for line in out.splitlines() if "<amelia@example.com>" in line)
    assert "[Newsletter, VIP]" in survivor
    assert "Prefers the window seat." in survivor and "Called on Tuesday about a refund." in survivor
    assert re.search(r"\(Ben Okafor\) <ben@example.com> \[Wholesale\] Orders every spring\.", out)


@pytest.mark.slow  # a subprocess each: .ci/run runs `pytest -m slow`
def test_http_client() -> None:
    out = _run("http_client.py")
    assert re.search(r"connected to http://127\.0\.0\.1:\d+/mcp with the bearer token: 16 tools", out)
    assert re.search(r"search_customers email=grace@example.com -> \['\w+'\]", out)
    assert "wrong token -> HTTP 401; WWW-Authenticate: Bearer" in out
    assert "no token -> HTTP 401" in out
    assert "server stopped (exit code 0)" in out


@pytest.mark.slow  # a subprocess each: .ci/run runs `pytest -m slow`
def test_agent_pydantic_ai() -> None:
    pytest.importorskip("pydantic_ai", reason="the agent example needs pip install -e '.[examples]'")
    out = _run("agent_pydantic_ai.py")
    calls = [line.split()[2] for line in out.splitlines() if line.startswith("tool call: ")]
    assert calls == ["search_customers", "retrieve_customer", "list_customer_groups"]
    assert re.search(r"answer: Ada Lovelace \(\w+\) is a VIP\. Phone \+44 20 7946 0018", out)
