"""Settings from the environment (names fixed by DESIGN.md); command-line flags may override them."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal
from urllib.parse import urlsplit

from square_customers_mcp.fault_spec import FaultSpec, FaultSpecError
from square_customers_mcp.retry import RetryPolicy
from square_customers_mcp.tools import TOOLS, TOOLSETS, ToolSpec

Environment = Literal["local", "sandbox", "production"]

SQUARE_HOSTS: dict[str, str] = {
    "production": "https://connect.squareup.com",
    "sandbox": "https://connect.squareupsandbox.com",
}
DEFAULT_SQUARE_VERSION = "2026-09-16"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ConfigError(ValueError):
    """A setting the user must fix; the message names the variable."""


def _base_url(raw: str) -> str | None:
    """SQUARE_BASE_URL, checked: the Square token may only travel over https (or plain http to this machine),
    and only as the bearer token, so a URL with a user name or password is refused. Errors never quote it
    whole: it may hold a secret."""
    url = raw.strip().rstrip("/")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("SQUARE_BASE_URL must be an http(s) URL such as https://connect.squareupsandbox.com")
    if parts.username or parts.password:
        raise ConfigError(
            "SQUARE_BASE_URL must not carry a user name or password: the Square token is the only credential sent"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"SQUARE_BASE_URL must use https: plain http would send the token unencrypted to {parts.hostname} "
            "(plain http is allowed to a loopback address, e.g. a local `sandbox`)"
        )
    return url


def parse_toolsets(raw: str, source: str) -> tuple[str, ...]:
    """A comma-separated toolset list; empty means all. An unknown name is an error, never ignored."""
    names = tuple(dict.fromkeys(name.strip().lower() for name in raw.split(",") if name.strip()))
    unknown = [name for name in names if name not in TOOLSETS]
    if unknown:
        raise ConfigError(f"{source}: unknown toolset {', '.join(unknown)}; choose from {', '.join(TOOLSETS)}")
    return names or TOOLSETS


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum or value != value:  # NaN fails both comparisons
        raise ConfigError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    access_token: str | None = field(default=None, repr=False)
    environment: Environment = "local"
    base_url: str | None = None
    square_version: str = DEFAULT_SQUARE_VERSION
    read_only: bool = False
    redact_pii: bool = False
    confirm_destructive: bool = False
    sandbox_db: str | None = None
    sandbox_faults: str | None = None
    timeout_seconds: float = 30.0
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    http_token: str | None = field(default=None, repr=False)
    sandbox_token: str | None = field(default=None, repr=False)
    """The bearer token the `sandbox` command's local API requires (None: any token)."""
    http_allowed_hosts: list[str] = field(default_factory=list)
    toolsets: tuple[str, ...] = TOOLSETS
    schema_refs: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        token = env.get("SQUARE_ACCESS_TOKEN", "").strip() or None
        raw_environment = env.get("SQUARE_ENVIRONMENT", "").strip().lower()
        # Production is never a default: a token alone means Square's sandbox.
        environment = raw_environment or ("sandbox" if token else "local")
        if environment not in ("local", "sandbox", "production"):
            raise ConfigError(f"SQUARE_ENVIRONMENT must be local, sandbox or production, got {raw_environment!r}")
        base_url = _base_url(env.get("SQUARE_BASE_URL", ""))
        if environment != "local" and not token:
            raise ConfigError(f"SQUARE_ENVIRONMENT={environment} needs SQUARE_ACCESS_TOKEN")
        retry_policy = RetryPolicy(
            max_attempts=int(_number(env, "SQUARE_MAX_ATTEMPTS", RetryPolicy.max_attempts, minimum=1)),
            deadline_seconds=_number(env, "SQUARE_RETRY_DEADLINE_SECONDS", RetryPolicy.deadline_seconds, minimum=0),
        )
        faults = env.get("SQUARE_SANDBOX_FAULTS", "").strip() or None
        if faults:
            try:
                FaultSpec.parse(faults)
            except FaultSpecError as error:
                raise ConfigError(f"SQUARE_SANDBOX_FAULTS: {error}") from None
        return cls(
            access_token=token,
            environment=environment,  # type: ignore[arg-type]  # checked just above
            base_url=base_url,
            square_version=env.get("SQUARE_VERSION", "").strip() or DEFAULT_SQUARE_VERSION,
            read_only=_flag(env, "SQUARE_READ_ONLY"),
            redact_pii=_flag(env, "SQUARE_REDACT_PII"),
            confirm_destructive=_flag(env, "SQUARE_CONFIRM_DESTRUCTIVE"),
            sandbox_db=env.get("SQUARE_SANDBOX_DB", "").strip() or None,
            sandbox_faults=faults,
            timeout_seconds=_number(env, "SQUARE_TIMEOUT_SECONDS", 30.0, minimum=0.001),
            retry_policy=retry_policy,
            http_token=env.get("SQUARE_MCP_HTTP_TOKEN", "").strip() or None,
            sandbox_token=env.get("SQUARE_SANDBOX_TOKEN", "").strip() or None,
            http_allowed_hosts=[h.strip() for h in env.get("SQUARE_MCP_ALLOWED_HOSTS", "").split(",") if h.strip()],
            toolsets=parse_toolsets(env.get("SQUARE_TOOLSETS", ""), "SQUARE_TOOLSETS"),
            schema_refs=_flag(env, "SQUARE_SCHEMA_REFS"),
        )

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]

    def served_tools(self) -> list[ToolSpec]:
        """The tools this server offers: those of the chosen toolsets, less the write tools in read-only mode."""
        return [t for t in TOOLS if t.toolset in self.toolsets and (t.read_only or not self.read_only)]

    @property
    def uses_embedded_sandbox(self) -> bool:
        """No Square host and no base URL to reach: serve the local API in-process."""
        return self.environment == "local" and self.base_url is None

    @property
    def resolved_base_url(self) -> str:
        if self.base_url:
            return self.base_url
        return SQUARE_HOSTS.get(self.environment, "http://sandbox.local")
