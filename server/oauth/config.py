"""OAuth mode's settings (`serve --transport http --auth oauth`), from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from square_customers_mcp.config import ConfigError, Settings, is_loopback
from square_customers_mcp.state.sealing import NEW_KEY_HINT, Sealer, SealError

ENVIRONMENT_HELP = """\
OAuth mode (serve --transport http --auth oauth; docs/remote.md):
  SQUARE_OAUTH_CLIENT_ID      your Square application's id; people sign in at Square with it (required)
  SQUARE_OAUTH_CLIENT_SECRET  its secret (Square's code flow); unset: PKCE, no secret
  SQUARE_MCP_PUBLIC_URL       this server's URL as clients reach it, e.g. https://mcp.example.com (default http://HOST:PORT)
  SQUARE_MCP_STATE_URL        sqlite:///PATH (default: state.db in the user data directory) or postgresql://... (replicas)
  SQUARE_MCP_STATE_KEY        Fernet key(s) sealing stored Square tokens, comma-separated, newest first (required)
  SQUARE_OAUTH_REVOKE_AT_SQUARE  true: revoking an MCP token also revokes the person's Square token (needs the secret)
"""


@dataclass(frozen=True)
class OAuthSettings:
    client_id: str
    client_secret: str | None = field(repr=False)
    public_url: str
    """Issuer and base of the resource URL (`<public_url>/mcp`), without a trailing slash."""
    state_url: str = field(repr=False)  # a PostgreSQL URL may carry a password
    state_key: str = field(repr=False)
    square_url: str
    """Where people sign in and tokens are exchanged: Square's host, or SQUARE_BASE_URL."""
    revoke_at_square: bool = False

    @property
    def secrets(self) -> list[str | None]:
        """What the log scrubber must know: the application secret, every state key, the state URL's password."""
        return [self.client_secret, self.state_key, *self.state_key.split(","), self.state_url,
                urlsplit(self.state_url).password]  # fmt: skip

    @property
    def resource_url(self) -> str:
        return f"{self.public_url}/mcp"

    @property
    def callback_url(self) -> str:
        return f"{self.public_url}{CALLBACK_PATH}"

    @classmethod
    def from_env(cls, settings: Settings, host: str, port: int, env: Mapping[str, str] | None = None) -> OAuthSettings:
        env = os.environ if env is None else env
        client_id = env.get("SQUARE_OAUTH_CLIENT_ID", "").strip()
        if not client_id:
            raise ConfigError("--auth oauth needs SQUARE_OAUTH_CLIENT_ID, your Square application's id")
        if settings.access_token:
            raise ConfigError(
                "--auth oauth calls Square with each signed-in person's own token; unset SQUARE_ACCESS_TOKEN"
            )
        if settings.uses_embedded_sandbox:
            raise ConfigError(
                "--auth oauth sends people to Square's sign-in page, which the in-process local API has none of: "
                "set SQUARE_ENVIRONMENT=sandbox or production, or SQUARE_BASE_URL to a `square-customers-mcp "
                "sandbox` started with --oauth-apps"
            )
        key = env.get("SQUARE_MCP_STATE_KEY", "").strip()
        if not key:
            raise ConfigError(
                f"--auth oauth needs SQUARE_MCP_STATE_KEY to seal stored Square tokens; make one with: {NEW_KEY_HINT}"
            )
        try:
            Sealer(key)
        except SealError as error:
            raise ConfigError(str(error)) from None
        return cls(
            client_id=client_id,
            client_secret=env.get("SQUARE_OAUTH_CLIENT_SECRET", "").strip() or None,
            public_url=_public_url(env.get("SQUARE_MCP_PUBLIC_URL", "").strip(), host, port),
            state_url=env.get("SQUARE_MCP_STATE_URL", "").strip() or default_state_url(),
            state_key=key,
            square_url=settings.resolved_base_url.rstrip("/"),
            revoke_at_square=env.get("SQUARE_OAUTH_REVOKE_AT_SQUARE", "").strip().lower() in ("1", "true", "yes"),
        )


CALLBACK_PATH = "/oauth/square/callback"
CONSENT_PATH = "/oauth/consent"


def default_state_url() -> str:
    import platformdirs

    return f"sqlite:///{Path(platformdirs.user_data_dir('square-customers-mcp')) / 'state.db'}"


def _public_url(raw: str, host: str, port: int) -> str:
    if not raw:
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"
    parts = urlsplit(raw)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment or parts.username:
        raise ConfigError(
            "SQUARE_MCP_PUBLIC_URL must be an https:// URL with a host and no query, e.g. https://mcp.example.com"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        # OAuth 2.1 (and the MCP spec) require https for every endpoint but loopback ones.
        raise ConfigError("SQUARE_MCP_PUBLIC_URL must use https:// unless it is a loopback address")
    return raw.rstrip("/")
