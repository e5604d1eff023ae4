"""A real MCP client on Node: the MCP Inspector CLI lists and calls the tools of the console script over stdio.

Same pinned versions and cache folder as .ci/inspector.sh (which also covers streamable HTTP). Skips
only when npx is missing, or when the npm registry is unreachable while something still has to be
installed; every other problem fails.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from square_customers_mcp.tools import TOOLS

INSPECTOR_VERSION = "2.12.0"  # @modelcontextprotocol/inspector; keep equal to .ci/inspector.sh
NODE_VERSION = "22.23.3"  # Node from npm when the system node is older than the Inspector's >= 22.19
SCRIPT = Path(sys.executable).with_name("square-customers-mcp")
CACHE = Path(
    os.environ.get("SQUARE_MCP_CI_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "square-customers-mcp-ci"
)
# Downloads Node and the Inspector on first use, and a subprocess per test: run by `pytest -m slow` in .ci/run.
pytestmark = pytest.mark.slow
ERAS = ["legacy", "modern"]  # 2025-11-25 initialize handshake, and the 2026-07-28 protocol


def _node_ok(node: str) -> bool:
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=60).stdout
    except OSError:
        return False
    try:
        major, minor = (int(part) for part in version.strip().lstrip("v").split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (22, 19)


def _install(npm: str, prefix: Path, package: str) -> None:
    """npm install into the cache once; a half-finished install is never used."""
    if (prefix / ".complete").exists():
        return
    try:
        view = subprocess.run([npm, "view", package, "version"], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm registry unreachable: `npm view {package} version` timed out")
    if view.returncode != 0:
        lines = view.stderr.strip().splitlines()
        assert "E404" not in view.stderr, f"the registry has no {package}: fix the pinned version\n{view.stderr}"
        detail = [line for line in lines if " code " in line or "reason:" in line] or lines[:1] or ["no output"]
        pytest.skip(f"npm registry unreachable: `npm view {package} version` failed: {' / '.join(detail)}")
    CACHE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".install.", dir=CACHE))
    try:
        command = [npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund", "--ignore-scripts", package]
        done = subprocess.run([*command, "--loglevel=error"], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
        (staging / ".complete").touch()
        shutil.rmtree(prefix, ignore_errors=True)
        try:
            staging.rename(prefix)
        except OSError:
            assert (prefix / ".complete").exists(), f"could not move {staging} to {prefix}"  # a parallel run won
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@pytest.fixture(scope="module")
def inspector() -> list[str]:
    """The command that runs the pinned Inspector with a Node >= 22.19: [node, launcher.js]."""
    if shutil.which("npx") is None:
        pytest.skip("npx not found: install Node.js with npm to run the MCP Inspector against the server")
    npm = shutil.which("npm")
    assert npm, "npx is on PATH but npm is not"
    node = shutil.which("node")
    if node is None or not _node_ok(node):
        arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
        assert sys.platform == "linux" and arch, (
            f"node {node} is older than 22.19 and npm has no Node build for {sys.platform}/{platform.machine()} "
            "here: put Node >= 22.19 on PATH"
        )
        _install(npm, CACHE / f"node-{NODE_VERSION}", f"node-linux-{arch}@{NODE_VERSION}")
        node = str(CACHE / f"node-{NODE_VERSION}" / "node_modules" / f"node-linux-{arch}" / "bin" / "node")
        assert _node_ok(node), f"{node} is not a working Node >= 22.19"
    prefix = CACHE / f"inspector-{INSPECTOR_VERSION}"
    _install(npm, prefix, f"@modelcontextprotocol/inspector@{INSPECTOR_VERSION}")
    launcher = prefix / "node_modules" / "@modelcontextprotocol" / "inspector" / "clients" / "launcher" / "build"
    assert (launcher / "index.js").exists(), f"no Inspector launcher in {launcher}"
    return [node, str(launcher / "index.js")]


def _run(inspector: list[str], db: Path, era: str, *method: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUARE_")}
    env["PATH"] = os.pathsep.join([str(Path(inspector[0]).parent), env.get("PATH", "")])
    env["HOME"] = str(db.parent / "home")  # the Inspector's ~/.mcp-inspector stays out of the user's home
    command = [
        *inspector,
        "--cli",
        str(SCRIPT),
        "-e",
        "SQUARE_ENVIRONMENT=local",
        "-e",
        f"SQUARE_SANDBOX_DB={db}",
        "--protocol-era",
        era,
        *method,
        "--format",
        "json",
        "-q",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    # exit 5 means the tool call returned isError; the JSON result says more than the code
    assert done.returncode == 0, f"inspector exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout)["result"]
    return result


@pytest.mark.parametrize("era", ERAS)
def test_inspector_lists_exactly_the_16_tools(inspector: list[str], tmp_path: Path, era: str) -> None:
    result = _run(inspector, tmp_path / "customers.db", era, "--method", "tools/list")
    names = [tool["name"] for tool in result["tools"]]
    assert sorted(names) == sorted(spec.name for spec in TOOLS)
    assert len(names) == 16


@pytest.mark.parametrize("era", ERAS)
def test_inspector_finds_the_vip_group_by_name(inspector: list[str], tmp_path: Path, era: str) -> None:
    result = _run(
        inspector, tmp_path / "customers.db", era, "--method", "tools/call", "--tool-name", "list_customer_groups"
    )
    assert not result.get("isError"), result
    groups = {group["name"]: group["id"] for group in result["structuredContent"]["groups"]}
    assert {"VIP", "Newsletter", "Wholesale"} <= set(groups) and groups["VIP"]
    assert json.loads(result["content"][0]["text"]) == result["structuredContent"]


@pytest.mark.parametrize("era", ERAS)
def test_inspector_creates_a_customer_in_the_local_sandbox(inspector: list[str], tmp_path: Path, era: str) -> None:
    db = tmp_path / "customers.db"
    result = _run(
        inspector,
        db,
        era,
        "--method",
        "tools/call",
        "--tool-name",
        "create_customer",
        "--tool-arg",
        "given_name=Ada",
        "email_address=ada@example.com",
    )
    assert not result.get("isError"), result
    customer = result["structuredContent"]["customer"]
    assert customer["given_name"] == "Ada"
    assert customer["email_address"] == "ada@example.com"
    assert customer["id"]
    assert json.loads(result["content"][0]["text"]) == result["structuredContent"]
    assert db.exists()
