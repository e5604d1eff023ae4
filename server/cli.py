"""The `square-customers-mcp` command line: stdio by default, `serve` for HTTP, `sandbox` for the local API."""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import socket
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import anyio

from square_customers_mcp import __version__
from square_customers_mcp.config import (
    DEFAULT_SQUARE_VERSION,
    MAX_SEED,
    ConfigError,
    Settings,
    is_loopback,
    parse_toolsets,
    whole_number,
)
from square_customers_mcp.logs import configure_logging
from square_customers_mcp.oauth.config import ENVIRONMENT_HELP as OAUTH_HELP

if TYPE_CHECKING:
    from square_customers_mcp.oauth.config import OAuthSettings

log = logging.getLogger("square_customers_mcp")

ENVIRONMENT_HELP = f"""\
environment variables:
  SQUARE_ACCESS_TOKEN   Square access token; unset: the embedded local API is used
  SQUARE_ENVIRONMENT    local | sandbox | production (default: local without a token, sandbox with one)
  SQUARE_BASE_URL       override the API base URL (e.g. a `sandbox` started by this command)
  SQUARE_VERSION        Square-Version header, a date YYYY-MM-DD (default {DEFAULT_SQUARE_VERSION})
  SQUARE_READ_ONLY      true: write tools are neither listed nor callable
  SQUARE_TOOLSETS       offer only these toolsets, comma-separated: profiles, bulk, groups, cards (default: all)
  SQUARE_SCHEMA_REFS    true: publish nested argument objects as $defs/$ref (for llama-index's MCP tools)
  SQUARE_CONFIRM_DESTRUCTIVE  true: deletes, updates and group removals ask the user first (elicitation)
  SQUARE_REDACT_PII     true: mask email and phone in all the model reads (a***@example.com); no fuzzy search on them
  SQUARE_SANDBOX_FAULTS inject faults into the in-process sandbox (same SPEC as `sandbox --faults`)
  SQUARE_SANDBOX_DB     local API database file (default: in the user data directory; :memory: allowed)
  SQUARE_SANDBOX_TOKEN  the bearer token the `sandbox` command requires (like --token, but not visible in ps)
  SQUARE_SANDBOX_OAUTH_APPS  JSON file of the OAuth applications the `sandbox` command knows (like --oauth-apps)
  SQUARE_TIMEOUT_SECONDS  per-request timeout towards Square (default 30)
  SQUARE_MAX_ATTEMPTS   attempts per retry-safe request on 429/5xx/network errors (default 5)
  SQUARE_RETRY_DEADLINE_SECONDS  total time a call may spend retrying (default 30)
  SQUARE_MCP_HTTP_TOKEN  bearer token the HTTP transport requires (needed to bind a non-loopback address)
  SQUARE_MCP_ALLOWED_HOSTS  extra Host values (host:port, comma-separated) `serve` over HTTP and `sandbox` accept
  OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_EXPORTER, OTEL_SERVICE_NAME, ...  standard OpenTelemetry variables: export
                        traces over OTLP/HTTP (needs the `otel` extra; docs/operations.md)

stdout carries the MCP protocol on stdio; logs go to stderr and never contain the token.
"""
# Listed after the others: only `serve --auth oauth` reads them.
ENVIRONMENT_HELP = ENVIRONMENT_HELP.replace("\nstdout carries", "\n" + OAUTH_HELP + "\nstdout carries")


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    # Accepted before or after the command; SUPPRESS keeps a later parser from resetting an earlier value.
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], default=argparse.SUPPRESS)
    parser.add_argument(
        "--log-format", choices=["text", "json"], default=argparse.SUPPRESS, help="logfmt text or JSON lines"
    )
    parser.add_argument(
        "--read-only", action="store_true", default=argparse.SUPPRESS, help="same as SQUARE_READ_ONLY=true"
    )
    parser.add_argument(
        "--redact-pii", action="store_true", default=argparse.SUPPRESS, help="same as SQUARE_REDACT_PII=true"
    )
    parser.add_argument("--toolsets", default=argparse.SUPPRESS, help="same as SQUARE_TOOLSETS, e.g. profiles,groups")


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 65535 (0: any free port), got {text!r}")
    return int(text)


def _seed(raw: str) -> int:
    try:
        return whole_number(raw, "--seed", 0, MAX_SEED)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _lifetime(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return seconds


def _unservable(host: str, port: int) -> str | None:
    """Why `host`:`port` cannot be listened on (in use, not an address of this machine), or None. It binds and
    closes a socket per address, as the server will (asyncio's SO_REUSEADDR, IPv6-only), before anything starts:
    a port in use is one line, not uvicorn's traceback. Port 0 (any free port) only checks the host."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as error:  # gaierror: no such host; UnicodeError: an unencodable name
        return f"cannot listen on {where}: {getattr(error, 'strerror', None) or error}"
    for family, kind, proto, _, address in addresses:
        try:
            with socket.socket(family, kind, proto) as probe:
                if os.name == "posix":
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return f"{where} is already in use: stop what listens there or choose another --port"
            return f"cannot listen on {where}: {error.strerror or error}"
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="square-customers-mcp",
        description="MCP server for the Square Customers API (14 tools and 2 look-ups). With no command: serve MCP "
        "over stdio.",
        epilog=ENVIRONMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_common_options(parser)
    parser.set_defaults(log_level="INFO", log_format="text", read_only=None, redact_pii=None, toolsets=None)
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="serve MCP over stdio (default) or streamable HTTP at /mcp")
    _add_common_options(serve)
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument(
        "--allow-remote", action="store_true", help="allow binding a non-loopback address (no authentication!)"
    )
    serve.add_argument(
        "--auth",
        choices=["token", "oauth"],
        default="token",
        help="HTTP only. token: SQUARE_MCP_HTTP_TOKEN when set (one shared token); oauth: each person signs in with "
        "their own Square account (MCP authorization, OAuth 2.1; see the OAuth variables below)",
    )

    sandbox = commands.add_parser("sandbox", help="serve the local Square-compatible Customers API over HTTP")
    _add_common_options(sandbox)
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=_port, default=8765)
    sandbox.add_argument("--db", help="database file (default: SQUARE_SANDBOX_DB or the user data directory)")
    sandbox.add_argument(
        "--seed", type=_seed, default=0, help=f"fill N deterministic customers (0-{MAX_SEED}) into an empty store"
    )
    sandbox.add_argument(
        "--token",
        help="accept only this bearer token (default: SQUARE_SANDBOX_TOKEN, else any token on loopback); "
        "a flag is visible in the process list, the variable is not",
    )
    sandbox.add_argument(
        "--oauth-apps",
        metavar="FILE",
        help='OAuth applications, a JSON list of {"client_id", "client_secret" (optional: PKCE only), '
        '"redirect_uris"} (default: SQUARE_SANDBOX_OAUTH_APPS)',
    )
    sandbox.add_argument(
        "--oauth-app",
        action="append",
        default=[],
        metavar="CLIENT_ID:REDIRECT_URI",
        help="register a public (PKCE-only) OAuth application; repeatable. Secrets belong in the --oauth-apps file",
    )
    sandbox.add_argument(
        "--oauth-token-lifetime",
        type=_lifetime,
        default=None,
        metavar="SECONDS",
        help="how long issued OAuth access tokens last (default: 30 days, as on Square)",
    )
    sandbox.add_argument(
        "--faults",
        help="inject faults, e.g. 429=0.1,503=0.05,drop_after=0.05,latency=0.1,latency_ms=20 "
        "(names: 429, 500, 503, drop_before, drop_after, latency, latency_ms, retry_after, seed)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        toolsets = (
            parse_toolsets(args.toolsets, "--toolsets", empty_means_all=False) if args.toolsets is not None else None
        )
        settings = Settings.from_env().with_overrides(
            read_only=args.read_only, redact_pii=args.redact_pii, toolsets=toolsets
        )
        oauth = _oauth_settings(settings, args) if getattr(args, "auth", "token") == "oauth" else None
    except ConfigError as error:
        print(f"square-customers-mcp: {error}", file=sys.stderr)
        return 2
    configure_logging(
        args.log_level,
        [settings.access_token, settings.http_token, settings.sandbox_token, getattr(args, "token", None),
         *(oauth.secrets if oauth else [])],
        args.log_format,
    )  # fmt: skip
    if args.command == "sandbox":
        # These shape what the MCP server offers; the local API has no tools to narrow or results to mask.
        misplaced = [flag for flag, value in (("--read-only", args.read_only), ("--redact-pii", args.redact_pii),
                                              ("--toolsets", args.toolsets)) if value is not None]  # fmt: skip
        if misplaced:
            print(
                f"square-customers-mcp: {', '.join(misplaced)} applies to the MCP server, not to the `sandbox` command",
                file=sys.stderr,
            )
            return 2
        return _run_sandbox(args, settings)
    if not settings.served_tools():
        print(
            f"square-customers-mcp: toolsets {','.join(settings.toolsets)} in read-only mode leave no tool to serve",
            file=sys.stderr,
        )
        return 2
    transport = getattr(args, "transport", "stdio")
    authenticated = settings.http_token or oauth
    if transport == "http" and not is_loopback(args.host) and not (authenticated or args.allow_remote):
        print(
            f"square-customers-mcp: refusing to serve HTTP on non-loopback {args.host} without "
            "SQUARE_MCP_HTTP_TOKEN; set a token, or pass --allow-remote only behind an authenticating proxy",
            file=sys.stderr,
        )
        return 2
    problem = _unservable(args.host, args.port) if transport == "http" else None
    if problem:
        print(f"square-customers-mcp: {problem}", file=sys.stderr)
        return 2
    from square_customers_mcp.telemetry import configure_tracing

    configure_tracing()  # only when OTEL_* variables ask for trace export (docs/operations.md)
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a user stops a foreground server
            anyio.run(_serve_mcp, settings, transport, args, oauth)
    except ConfigError as error:  # found on opening the backend, e.g. an unwritable SQUARE_SANDBOX_DB
        print(f"square-customers-mcp: {error}", file=sys.stderr)
        return 2
    return 0


def _oauth_settings(settings: Settings, args: argparse.Namespace) -> OAuthSettings:
    from square_customers_mcp.oauth.config import OAuthSettings

    if getattr(args, "transport", "stdio") != "http":
        raise ConfigError("--auth oauth needs --transport http")
    if settings.http_token:
        raise ConfigError("--auth oauth and SQUARE_MCP_HTTP_TOKEN are two ways to authenticate: use one")
    return OAuthSettings.from_env(settings, args.host, args.port)


async def _serve_mcp(
    settings: Settings, transport: str, args: argparse.Namespace, oauth_settings: OAuthSettings | None
) -> None:
    from square_customers_mcp.app import build_server
    from square_customers_mcp.backend import open_backend
    from square_customers_mcp.confirm import Confirmer
    from square_customers_mcp.dispatcher import Dispatcher
    from square_customers_mcp.health import backend_probe
    from square_customers_mcp.http_server import serve_http
    from square_customers_mcp.stdio import serve_stdio
    from square_customers_mcp.tools import TOOLS, TOOLSETS
    from square_customers_mcp.transports import build_http_app

    async with contextlib.AsyncExitStack() as stack:
        backend = await stack.enter_async_context(open_backend(settings))
        oauth = None
        if oauth_settings is not None:
            from square_customers_mcp.oauth.mode import open_oauth
            from square_customers_mcp.state import StateOpenError

            try:
                oauth = await open_oauth(oauth_settings, read_only=settings.read_only)
            except StateOpenError as error:
                raise ConfigError(str(error)) from None
            stack.push_async_callback(oauth.aclose)
        dispatcher = Dispatcher(
            backend.client,
            read_only=settings.read_only,
            redact_pii=settings.redact_pii,
            # Read-only filtering is the dispatcher's, so a write tool gets its read-only error, not "unknown".
            tools=[tool for tool in TOOLS if tool.toolset in settings.toolsets],
        )
        confirmer = None
        if oauth is not None and settings.confirm_destructive:
            # Replicas share the key that signs questions and the record of spent answers.
            confirmer = Confirmer(
                await oauth.store.secret("confirm"), shared_spend=oauth.store.spend, asker=oauth.asker
            )
        server = build_server(
            dispatcher,
            confirm_destructive=settings.confirm_destructive,
            confirm_secret=settings.http_token,
            confirmer=confirmer,
            schema_refs=settings.schema_refs,
            square_tokens=oauth.tokens if oauth else None,
        )
        where = "stdio" if transport == "stdio" else f"http://{args.host}:{args.port}/mcp"
        mode = (
            (", read-only" if settings.read_only else "")
            + (", confirming destructive calls" if settings.confirm_destructive else "")
            + (f", toolsets {','.join(settings.toolsets)}" if settings.toolsets != TOOLSETS else "")
            + (
                f", OAuth sign-in at {oauth.settings.square_url}, state in {oauth.store.db.description}"
                if oauth
                else ""
            )
        )
        log.info(
            "square-customers-mcp %s serving %d tools on %s%s; backend: %s",
            __version__,
            len(dispatcher.listed_tools()),
            where,
            mode,
            backend.description,
        )
        if transport == "stdio":
            await serve_stdio(server)
        else:
            app = build_http_app(
                server,
                args.host,
                token=settings.http_token,
                extra_hosts=settings.http_allowed_hosts,
                probes=[backend_probe(backend.client)],
                oauth=oauth,
            )
            await serve_http(app, args.host, args.port, args.log_level)


def _run_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    from square_customers_mcp.backend import local_api
    from square_customers_mcp.fault_spec import FaultSpecError
    from square_customers_mcp.http_server import guarded, serve_http
    from square_customers_mcp.transports import MAX_BODY_BYTES

    faults = args.faults or settings.sandbox_faults
    token = args.token or settings.sandbox_token
    if not is_loopback(args.host) and not token:
        # Anyone who can reach the port could read and change every customer in the database.
        print(
            f"square-customers-mcp: refusing to serve the local API on non-loopback {args.host} without a token; "
            "set SQUARE_SANDBOX_TOKEN",
            file=sys.stderr,
        )
        return 2
    problem = _unservable(args.host, args.port)  # before the database is opened or seeded
    if problem:
        print(f"square-customers-mcp: {problem}", file=sys.stderr)
        return 2
    from square_customers_mcp.sandbox.oauth_apps import OAuthConfigError, load_file, parse_cli_app
    from square_customers_mcp.sandbox.oauth_tokens import ACCESS_LIFETIME

    try:
        apps_file = args.oauth_apps or os.environ.get("SQUARE_SANDBOX_OAUTH_APPS", "").strip()
        oauth_apps = [*(load_file(apps_file) if apps_file else []), *map(parse_cli_app, args.oauth_app)]
        app, served, db_path = local_api(
            args.db or settings.sandbox_db,
            "choose a writable path with --db or SQUARE_SANDBOX_DB",
            token=token,
            seed=args.seed,
            faults=faults,
            oauth_apps=oauth_apps,
            token_lifetime=args.oauth_token_lifetime or ACCESS_LIFETIME,
        )
    except OAuthConfigError as error:
        print(f"square-customers-mcp: OAuth applications: {error}", file=sys.stderr)
        return 2
    except FaultSpecError as error:
        print(f"square-customers-mcp: --faults: {error}", file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"square-customers-mcp: {error}", file=sys.stderr)
        return 2
    seeding = app.state.seeding
    log.log(
        logging.WARNING if seeding.asked and not seeding.added else logging.INFO,  # --seed N that seeded nothing
        "local Square Customers API at http://%s:%d/v2/customers (%s%s%s); data in %s; %s",
        args.host,
        args.port,
        "bearer token must match the configured one" if token else "any bearer token",
        f", OAuth for {', '.join(app.client_id for app in oauth_apps)}" if oauth_apps else "",  # ids, never secrets
        f", injecting faults {faults}" if faults else "",
        db_path,
        seeding.describe(),
    )
    protected = guarded(served, args.host, settings.http_allowed_hosts, MAX_BODY_BYTES)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            anyio.run(serve_http, protected, args.host, args.port, args.log_level)
    finally:
        app.state.store.close()
    return 0
