"""Settings from the environment (names fixed by DESIGN.md); command-line flags may override them."""

from __future__ import annotations

import datetime
import ipaddress
import math
import os
import re
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
# Bounds of the numeric settings: beyond them a value is a typo, not a choice (an hour-long wait, 1e9 tries).
MAX_ATTEMPTS = 10
MAX_WAIT_SECONDS = 3600.0
MAX_SEED = 100_000  # customers `sandbox --seed` generates
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
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket, "https://[::1"
        raise ConfigError("SQUARE_BASE_URL is not a valid URL: check the host's brackets [ ] and characters") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # "localhost:8765" parses as scheme "localhost": every call would fail as if Square were down.
        raise ConfigError(
            "SQUARE_BASE_URL must be an http(s) URL with a host, such as https://connect.squareupsandbox.com "
            "or http://127.0.0.1:8765"
        )
    try:
        port = parts.port  # parsing it is what checks it
    except ValueError:
        port = 0
    if port == 0:
        raise ConfigError("SQUARE_BASE_URL has an invalid port: give a number from 1 to 65535")
    if parts.query or parts.fragment or any(char.isspace() for char in url):
        raise ConfigError("SQUARE_BASE_URL must be a plain base URL: no spaces, query (?) or fragment (#)")
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


def _square_version(raw: str) -> str:
    """SQUARE_VERSION, a real date YYYY-MM-DD: anything else (a typo, a CR/LF that would end the header) makes
    every call fail, only after all its retries."""
    version = raw.strip()
    if not version:
        return DEFAULT_SQUARE_VERSION
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", version):
            raise ValueError(version)
        datetime.date.fromisoformat(version)  # and a real date: not 2024-02-30
    except ValueError:
        raise ConfigError(
            f"SQUARE_VERSION must be a date YYYY-MM-DD such as {DEFAULT_SQUARE_VERSION}, got {version[:40]!r}"
        ) from None
    return version


def parse_toolsets(raw: str, source: str, *, empty_means_all: bool = True) -> tuple[str, ...]:
    """A comma-separated toolset list; empty means all (for the variable: unset). An unknown name is an error,
    never ignored, and so is a list of separators only (",,"), which names no toolset."""
    names = tuple(dict.fromkeys(name.strip().lower() for name in raw.split(",") if name.strip()))
    if not names and (raw.strip() or not empty_means_all):
        raise ConfigError(f"{source} names no toolset; choose from {', '.join(TOOLSETS)} (comma-separated)")
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


def whole_number(raw: str, name: str, low: int, high: int) -> int:
    """A whole number within [low, high]; the error states the range, e.g. for "2.5" or "inf"."""
    try:
        value = float(raw.strip())
    except ValueError:
        value = math.nan
    if not (value.is_integer() and low <= value <= high):  # NaN and infinities are not integers
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {raw.strip()!r}")
    return int(value)


def seconds(raw: str, name: str, low: float, high: float) -> float:
    """A finite number of seconds within [low, high]."""
    try:
        value = float(raw.strip())
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # NaN fails every comparison; inf is beyond any bound
        raise ConfigError(f"{name} must be a number of seconds from {low:g} to {high:g}, got {raw.strip()!r}")
    return value


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    return whole_number(raw, name, low, high) if raw else default


def _seconds(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    return seconds(raw, name, low, high) if raw else default


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
        # OAuth mode (`serve --auth oauth`) has no token of its own: each person signs in at Square.
        if environment != "local" and not token and not env.get("SQUARE_OAUTH_CLIENT_ID", "").strip():
            raise ConfigError(
                f"SQUARE_ENVIRONMENT={environment} needs SQUARE_ACCESS_TOKEN (or, for `serve --auth oauth`, "
                "SQUARE_OAUTH_CLIENT_ID)"
            )
        retry_policy = RetryPolicy(
            max_attempts=_whole(env, "SQUARE_MAX_ATTEMPTS", RetryPolicy.max_attempts, 1, MAX_ATTEMPTS),
            deadline_seconds=_seconds(
                env, "SQUARE_RETRY_DEADLINE_SECONDS", RetryPolicy.deadline_seconds, 0, MAX_WAIT_SECONDS
            ),
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
            square_version=_square_version(env.get("SQUARE_VERSION", "")),
            read_only=_flag(env, "SQUARE_READ_ONLY"),
            redact_pii=_flag(env, "SQUARE_REDACT_PII"),
            confirm_destructive=_flag(env, "SQUARE_CONFIRM_DESTRUCTIVE"),
            sandbox_db=env.get("SQUARE_SANDBOX_DB", "").strip() or None,
            sandbox_faults=faults,
            timeout_seconds=_seconds(env, "SQUARE_TIMEOUT_SECONDS", 30.0, 0.001, MAX_WAIT_SECONDS),
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
