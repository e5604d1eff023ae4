"""Settings from the environment: defaults, the production rule, and clear errors."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from square_customers_mcp.config import DEFAULT_SQUARE_VERSION, ConfigError, Settings, parse_toolsets
from square_customers_mcp.tools import TOOLSETS


def test_no_token_means_the_local_sandbox() -> None:
    settings = Settings.from_env({})
    assert settings.environment == "local"
    assert settings.uses_embedded_sandbox
    assert settings.square_version == "2026-09-16"
    assert not settings.read_only


def test_a_token_alone_means_square_sandbox_never_production() -> None:
    settings = Settings.from_env({"SQUARE_ACCESS_TOKEN": "t"})
    assert settings.environment == "sandbox"
    assert settings.resolved_base_url == "https://connect.squareupsandbox.com"


def test_production_is_an_explicit_choice() -> None:
    settings = Settings.from_env({"SQUARE_ACCESS_TOKEN": "t", "SQUARE_ENVIRONMENT": "Production"})
    assert settings.resolved_base_url == "https://connect.squareup.com"


def test_base_url_overrides_and_leaves_the_embedded_sandbox() -> None:
    settings = Settings.from_env({"SQUARE_BASE_URL": "http://127.0.0.1:8765/"})
    assert settings.resolved_base_url == "http://127.0.0.1:8765"
    assert not settings.uses_embedded_sandbox


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SQUARE_ENVIRONMENT": "staging"}, "SQUARE_ENVIRONMENT must be local, sandbox or production"),
        ({"SQUARE_ENVIRONMENT": "production"}, "needs SQUARE_ACCESS_TOKEN"),
        ({"SQUARE_READ_ONLY": "maybe"}, "SQUARE_READ_ONLY must be true or false"),
        ({"SQUARE_TIMEOUT_SECONDS": "soon"}, "SQUARE_TIMEOUT_SECONDS must be a number"),
        ({"SQUARE_MAX_ATTEMPTS": "0"}, "SQUARE_MAX_ATTEMPTS must be a whole number from 1 to 10, got '0'"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "on"])
def test_read_only_flag_spellings(raw: str) -> None:
    assert Settings.from_env({"SQUARE_READ_ONLY": raw}).read_only


def test_overrides_ignore_unset_flags() -> None:
    settings = Settings.from_env({"SQUARE_READ_ONLY": "true"}).with_overrides(read_only=None)
    assert settings.read_only


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("env", "description"),
    [
        ({"SQUARE_ACCESS_TOKEN": "t"}, "Square sandbox at https://connect.squareupsandbox.com"),
        (
            {"SQUARE_ACCESS_TOKEN": "t", "SQUARE_ENVIRONMENT": "production"},
            "Square production at https://connect.squareup.com",
        ),
        ({"SQUARE_BASE_URL": "http://127.0.0.1:8765"}, "local API at http://127.0.0.1:8765"),
        (
            {"SQUARE_SANDBOX_DB": ":memory:"},
            "local API (in-process, no network), data in :memory:; the database holds 0 customers",
        ),
    ],
)
async def test_the_backend_says_what_it_talks_to(env: dict[str, str], description: str) -> None:
    from square_customers_mcp.backend import open_backend

    async with open_backend(Settings.from_env(env)) as backend:
        assert backend.description == description


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://square.example.test", "must use https: plain http would send the token unencrypted"),
        ("https://user:hunter2@square.example.test", "must not carry a user name or password"),
        ("https://:hunter2@square.example.test", "must not carry a user name or password"),
        ("ftp://square.example.test", "must be an http(s) URL"),
        ("square.example.test", "must be an http(s) URL"),
    ],
)
def test_a_base_url_that_would_expose_the_token_is_refused(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match="SQUARE_BASE_URL") as error:
        Settings.from_env({"SQUARE_ACCESS_TOKEN": "t", "SQUARE_BASE_URL": url})
    assert message in str(error.value)
    assert "hunter2" not in str(error.value), "the error must not repeat a secret"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765", "https://x.test"]
)
def test_https_and_plain_http_to_this_machine_are_accepted(url: str) -> None:
    assert Settings.from_env({"SQUARE_BASE_URL": url}).base_url == url


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        # inf used to crash int() with an OverflowError, 2.5 was cut to 2, 1e400 and nan slipped through.
        ("SQUARE_MAX_ATTEMPTS", "inf", "SQUARE_MAX_ATTEMPTS must be a whole number from 1 to 10, got 'inf'"),
        ("SQUARE_MAX_ATTEMPTS", "2.5", "SQUARE_MAX_ATTEMPTS must be a whole number from 1 to 10, got '2.5'"),
        ("SQUARE_MAX_ATTEMPTS", "nan", "SQUARE_MAX_ATTEMPTS must be a whole number from 1 to 10, got 'nan'"),
        ("SQUARE_MAX_ATTEMPTS", "1000000", "SQUARE_MAX_ATTEMPTS must be a whole number from 1 to 10"),
        ("SQUARE_MAX_ATTEMPTS", "-1", "SQUARE_MAX_ATTEMPTS must be a whole number from 1 to 10"),
        ("SQUARE_TIMEOUT_SECONDS", "1e400", "SQUARE_TIMEOUT_SECONDS must be a number of seconds from 0.001 to 3600"),
        ("SQUARE_TIMEOUT_SECONDS", "inf", "SQUARE_TIMEOUT_SECONDS must be a number of seconds from 0.001 to 3600"),
        ("SQUARE_TIMEOUT_SECONDS", "0", "got '0'"),
        ("SQUARE_TIMEOUT_SECONDS", "nan", "got 'nan'"),
        ("SQUARE_RETRY_DEADLINE_SECONDS", "inf", "SQUARE_RETRY_DEADLINE_SECONDS must be a number of seconds from 0 to"),
        ("SQUARE_RETRY_DEADLINE_SECONDS", "-0.5", "got '-0.5'"),
        ("SQUARE_RETRY_DEADLINE_SECONDS", "86400", "from 0 to 3600, got '86400'"),
    ],
)
def test_numeric_settings_are_finite_whole_where_needed_and_in_range(name: str, raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({name: raw})
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("env", "attempts", "deadline", "timeout"),
    [
        ({"SQUARE_MAX_ATTEMPTS": "10", "SQUARE_RETRY_DEADLINE_SECONDS": "0"}, 10, 0.0, 30.0),
        ({"SQUARE_MAX_ATTEMPTS": " 3.0 ", "SQUARE_TIMEOUT_SECONDS": "2.5"}, 3, 30.0, 2.5),
        ({"SQUARE_MAX_ATTEMPTS": "", "SQUARE_TIMEOUT_SECONDS": "3600"}, 5, 30.0, 3600.0),
    ],
)
def test_numeric_settings_within_range_are_taken(
    env: dict[str, str], attempts: int, deadline: float, timeout: float
) -> None:
    settings = Settings.from_env(env)
    assert settings.retry_policy.max_attempts == attempts and isinstance(settings.retry_policy.max_attempts, int)
    assert (settings.retry_policy.deadline_seconds, settings.timeout_seconds) == (deadline, timeout)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        # No scheme: urlsplit reads "localhost" as the scheme; every call would then fail like an outage.
        ("localhost:8765", "must be an http(s) URL with a host"),
        ("127.0.0.1:8765", "must be an http(s) URL with a host"),
        ("http://", "must be an http(s) URL with a host"),
        ("http:///v2", "must be an http(s) URL with a host"),
        ("http://localhost:99999", "invalid port"),
        ("http://localhost:0", "invalid port"),
        ("http://localhost:port", "invalid port"),
        ("https://square.example.test/?x=1", "no spaces, query (?) or fragment (#)"),
        ("https://square.example.test/#top", "no spaces, query (?) or fragment (#)"),
        ("https://square.example .test", "no spaces, query (?) or fragment (#)"),
        ("https://[::1", "not a valid URL"),  # urlsplit's ValueError used to escape as a traceback
        ("https://[::1/v2", "not a valid URL"),
    ],
)
def test_a_base_url_that_cannot_work_is_refused(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match="SQUARE_BASE_URL") as error:
        Settings.from_env({"SQUARE_BASE_URL": url})
    assert message in str(error.value)


@pytest.mark.anyio
@pytest.mark.parametrize("where", ["missing-parent", "a-directory", "not-a-database"])
async def test_an_unusable_local_database_is_a_config_error_naming_path_and_fix(tmp_path: Path, where: str) -> None:
    from square_customers_mcp.backend import open_backend

    path = {
        "missing-parent": "/proc/no-such-dir/customers.db",  # /proc refuses new folders, even to root
        "a-directory": str(tmp_path),
        "not-a-database": str(tmp_path / "notes.txt"),
    }[where]
    (tmp_path / "notes.txt").write_text("not a database, but a text file long enough to have a header " * 4)
    with pytest.raises(ConfigError) as error:
        async with open_backend(Settings.from_env({"SQUARE_SANDBOX_DB": path})):
            pass
    message = str(error.value)
    assert message.startswith(f"cannot open the local API database {path}: "), message
    assert message.endswith("set SQUARE_SANDBOX_DB to a writable file (or :memory:)"), message
    assert "\n" not in message


@pytest.mark.anyio
async def test_an_unusable_default_database_folder_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from square_customers_mcp.backend import open_backend

    monkeypatch.setenv("XDG_DATA_HOME", "/proc/no-such-dir")  # the default database lives under it
    with pytest.raises(ConfigError, match=r"^cannot create the local API database folder /proc/no-such-dir\S*: "):
        async with open_backend(Settings.from_env({})):
            pass


# The command line: a bad setting is one line on stderr and exit status 2, never a traceback.


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No SQUARE_* variable, and the process's logging left alone by `cli.main`."""
    from square_customers_mcp import cli

    for name in [name for name in os.environ if name.startswith("SQUARE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)
    monkeypatch.setenv("SQUARE_SANDBOX_DB", ":memory:")
    return monkeypatch


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("square-customers-mcp: "), captured.err
    assert captured.out == ""
    return lines[0]


@pytest.mark.parametrize(
    ("env", "argv", "words"),
    [
        ({"SQUARE_BASE_URL": "https://[::1", "SQUARE_ACCESS_TOKEN": "t"}, [], "SQUARE_BASE_URL is not a valid URL"),
        ({"SQUARE_VERSION": "2024-01-01\r\nX-Evil: 1"}, [], "SQUARE_VERSION must be a date YYYY-MM-DD"),
        ({"SQUARE_TOOLSETS": ",,"}, [], "SQUARE_TOOLSETS names no toolset"),
        ({}, ["--toolsets", ","], "--toolsets names no toolset"),
        ({}, ["serve", "--toolsets", " , "], "--toolsets names no toolset"),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str], argv: list[str], words: str
) -> None:
    from square_customers_mcp.cli import main

    for name, value in env.items():
        clean_env.setenv(name, value)
    assert main(argv) == 2
    assert words in one_error_line(capsys)


@pytest.mark.parametrize(
    "raw",
    [
        "2024-01-01\r\nX-Evil: 1",  # would end the header: every call failed, after all its retries
        "2024-02-30",
        "2024-13-01",
        "2024-1-1",
        "20240101",  # fromisoformat takes it; Square does not
        "2024-W01-1",
        "\uff12\uff10\uff12\uff14-01-01",  # full-width digits
        "latest",
    ],
)
def test_square_version_must_be_a_real_date(raw: str) -> None:
    with pytest.raises(ConfigError, match="SQUARE_VERSION must be a date YYYY-MM-DD"):
        Settings.from_env({"SQUARE_VERSION": raw})


def test_a_valid_square_version_is_taken() -> None:
    assert Settings.from_env({"SQUARE_VERSION": " 2024-02-29 "}).square_version == "2024-02-29"
    assert Settings.from_env({"SQUARE_VERSION": ""}).square_version == DEFAULT_SQUARE_VERSION


@pytest.mark.parametrize("raw", [",", ",,", " , ,", ",\t,"])
def test_a_toolset_list_of_separators_only_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="SQUARE_TOOLSETS names no toolset"):
        Settings.from_env({"SQUARE_TOOLSETS": raw})
    with pytest.raises(ConfigError, match="--toolsets names no toolset"):
        parse_toolsets(raw, "--toolsets", empty_means_all=False)
    assert Settings.from_env({"SQUARE_TOOLSETS": ""}).toolsets == TOOLSETS  # unset or empty: all
    assert Settings.from_env({"SQUARE_TOOLSETS": " groups, "}).toolsets == ("groups",)


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize("command", [["serve", "--transport", "http"], ["sandbox"]])
def test_a_port_in_use_is_one_line_and_exit_2(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], taken_port: int, command: list[str]
) -> None:
    from square_customers_mcp.cli import main

    assert main([*command, "--port", str(taken_port)]) == 2  # was 9 lines of uvicorn's and exit status 3
    assert (
        one_error_line(capsys) == f"square-customers-mcp: 127.0.0.1:{taken_port} is already in use: stop what "
        "listens there or choose another --port"
    )


def test_the_port_check_binds_as_the_server_will(taken_port: int) -> None:
    from square_customers_mcp.cli import _unservable

    assert _unservable("127.0.0.1", 0) is None  # any free port
    assert f"localhost:{taken_port} " in str(_unservable("localhost", taken_port))  # ::1 may come first, or fail
    assert _unservable("127.0.0.1", taken_port) == (
        f"127.0.0.1:{taken_port} is already in use: stop what listens there or choose another --port"
    )
    assert "cannot listen on nonexistent.invalid:8000" in str(_unservable("nonexistent.invalid", 8000))
    with socket.socket() as probe:  # it closed its sockets: the port is free again
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert _unservable("127.0.0.1", free) is None
    with socket.socket() as again:
        again.bind(("127.0.0.1", free))
