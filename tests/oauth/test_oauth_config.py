"""OAuth mode refuses to start on what can't work, with one line naming the fix and never a secret (exit 2)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.fernet import Fernet

from square_customers_mcp import cli

KEY = Fernet.generate_key().decode()
OAUTH = ["serve", "--transport", "http", "--port", "8999", "--auth", "oauth"]
READY = {
    "SQUARE_OAUTH_CLIENT_ID": "sq0idp-app",
    "SQUARE_BASE_URL": "http://127.0.0.1:8765",
    "SQUARE_MCP_STATE_KEY": KEY,
}


@pytest.fixture
def run(clean_main: Callable[..., int], monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    monkeypatch.setattr(cli, "_serve_mcp", None)  # reaching it would be a bug: every case below must stop first
    return clean_main


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (["serve", "--auth", "oauth"], READY, "--auth oauth needs --transport http"),
        (OAUTH, READY | {"SQUARE_MCP_HTTP_TOKEN": "static-secret-token"}, "use one"),
        (OAUTH, {k: v for k, v in READY.items() if k != "SQUARE_OAUTH_CLIENT_ID"}, "SQUARE_OAUTH_CLIENT_ID"),
        (
            OAUTH,
            {k: v for k, v in READY.items() if k != "SQUARE_BASE_URL"},
            "SQUARE_BASE_URL to a `square-customers-mcp",
        ),
        (OAUTH, READY | {"SQUARE_ACCESS_TOKEN": "EAAA-one-shared-token"}, "unset SQUARE_ACCESS_TOKEN"),
        (OAUTH, {k: v for k, v in READY.items() if k != "SQUARE_MCP_STATE_KEY"}, "needs SQUARE_MCP_STATE_KEY"),
        (OAUTH, READY | {"SQUARE_MCP_STATE_KEY": "a-secret-that-is-no-fernet-key"}, "Fernet keys"),
        (OAUTH, READY | {"SQUARE_MCP_PUBLIC_URL": "http://mcp.example.com"}, "must use https://"),
        (OAUTH, READY | {"SQUARE_MCP_PUBLIC_URL": "https://mcp.example.com/?x=1"}, "no query"),
    ],
    ids=[
        "stdio",
        "with a static token",
        "no client id",
        "in-process local API",
        "a server-wide token",
        "no key",
        "bad key",
        "plain http public URL",
        "public URL with a query",
    ],
)
def test_oauth_mode_refuses_what_cannot_work(
    run: Callable[..., int], capsys: pytest.CaptureFixture[str], argv: list[str], env: dict[str, str], says: str
) -> None:
    assert run(argv, **env) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1, err
    for secret in ("static-secret-token", "EAAA-one-shared-token", "a-secret-that-is-no-fernet-key", KEY):
        assert secret not in err


def test_square_environment_without_a_token_is_allowed_for_oauth_mode_only(
    run: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["serve"], SQUARE_ENVIRONMENT="production") == 2
    assert "SQUARE_OAUTH_CLIENT_ID" in capsys.readouterr().err
