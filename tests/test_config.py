"""Settings from the environment: defaults, the production rule, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from square_customers_mcp.config import ConfigError, Settings


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
        ({"SQUARE_SANDBOX_DB": ":memory:"}, "local API (in-process, no network), data in :memory:"),
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
