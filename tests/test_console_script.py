"""The real console script, launched as a subprocess over stdio, as an MCP host would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
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
    code = "".join(path.read_text() for path in (Path(__file__).parents[1] / "server").rglob("*.py"))
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


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SQUARE_MAX_ATTEMPTS": "inf"}, "SQUARE_MAX_ATTEMPTS must be a whole number from 1 to 10, got 'inf'"),
        ({"SQUARE_MAX_ATTEMPTS": "2.5"}, "SQUARE_MAX_ATTEMPTS must be a whole number from 1 to 10, got '2.5'"),
        ({"SQUARE_TIMEOUT_SECONDS": "1e400"}, "SQUARE_TIMEOUT_SECONDS must be a number of seconds from 0.001 to 3600"),
        ({"SQUARE_RETRY_DEADLINE_SECONDS": "-1"}, "SQUARE_RETRY_DEADLINE_SECONDS must be a number of seconds from 0"),
        ({"SQUARE_BASE_URL": "localhost:8765"}, "SQUARE_BASE_URL must be an http(s) URL with a host"),
        ({"SQUARE_BASE_URL": "http://127.0.0.1:99999"}, "SQUARE_BASE_URL has an invalid port"),
    ],
)
@pytest.mark.parametrize("command", [[], ["serve", "--transport", "http"]], ids=["stdio", "http"])
def test_a_bad_setting_is_one_line_and_exit_2(
    clean_main: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    env: dict[str, str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from square_customers_mcp import cli

    async def must_not_serve(*args: object) -> None:
        raise AssertionError("a bad setting went unnoticed: the server started")

    monkeypatch.setattr(cli, "_serve_mcp", must_not_serve)
    assert clean_main(command, **env) == 2
    captured = capsys.readouterr()
    assert _one_line(captured.err).startswith(f"square-customers-mcp: {message}")
    assert captured.out == ""


@pytest.mark.parametrize("where", ["missing-parent", "a-directory"])
def test_an_unusable_database_is_one_line_naming_path_and_fix(
    clean_main: Callable[..., int], capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    path = "/proc/no-such-dir/customers.db" if where == "missing-parent" else str(tmp_path)
    # The MCP server's embedded local API, opened inside the event loop, and the `sandbox` command.
    assert clean_main([], SQUARE_SANDBOX_DB=path) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f"square-customers-mcp: cannot open the local API database {path}: ")
    assert line.endswith("; set SQUARE_SANDBOX_DB to a writable file (or :memory:)")

    assert clean_main(["sandbox", "--db", path]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f"square-customers-mcp: cannot open the local API database {path}: ")
    assert line.endswith("; choose a writable path with --db or SQUARE_SANDBOX_DB")


@pytest.mark.parametrize("seed", ["2.5", "-1", "inf", "100001", "many"])
def test_a_bad_seed_states_the_range(
    clean_main: Callable[..., int], capsys: pytest.CaptureFixture[str], seed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from square_customers_mcp import cli

    def must_not_run(*args: object) -> int:
        raise AssertionError(f"--seed {seed} went unnoticed: the local API started")

    monkeypatch.setattr(cli, "_run_sandbox", must_not_run)
    with pytest.raises(SystemExit) as exit_info:
        clean_main(["sandbox", "--db", ":memory:", "--seed", seed])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"--seed must be a whole number from 0 to 100000, got {seed!r}" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_the_real_script_reports_bad_configuration_in_one_line(tmp_path: Path) -> None:
    for argv, env, expected in [
        ([], {"SQUARE_MAX_ATTEMPTS": "inf"}, "SQUARE_MAX_ATTEMPTS must be a whole number from 1 to 10"),
        ([], {"SQUARE_SANDBOX_DB": str(tmp_path)}, f"cannot open the local API database {tmp_path}: "),
        (["sandbox", "--db", str(tmp_path)], {}, f"cannot open the local API database {tmp_path}: "),
    ]:
        proc = subprocess.run(
            [str(SCRIPT), *argv], input="", capture_output=True, text=True, timeout=30, env=_env(**env)
        )
        assert proc.returncode == 2, proc.stderr
        assert expected in _one_line(proc.stderr)
        assert proc.stdout == ""
