"""Settings from the environment: defaults, the production rule, and clear errors."""

from __future__ import annotations

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
        ({"SQUARE_MAX_ATTEMPTS": "0"}, "SQUARE_MAX_ATTEMPTS must be at least 1"),
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
