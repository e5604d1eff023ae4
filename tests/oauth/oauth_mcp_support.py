"""OAuth mode on loopback: the local API playing Square (its OAuth included) and this server in OAuth mode, both
served by uvicorn in the test's event loop; and the sign-in walked the way a browser would."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import uvicorn
from cryptography.fernet import Fernet

from square_customers_mcp.app import build_server
from square_customers_mcp.config import Settings
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.oauth.config import OAuthSettings
from square_customers_mcp.oauth.mode import OAuthMode, open_oauth
from square_customers_mcp.oauth.provider import Lifetimes
from square_customers_mcp.oauth.square_oauth import challenge_of, pkce_verifier
from square_customers_mcp.sandbox import create_app
from square_customers_mcp.square_client import SquareClient
from square_customers_mcp.tools import TOOLS
from square_customers_mcp.transports import build_http_app

SCRIPT = Path(sys.executable).with_name("square-customers-mcp")
SQUARE_APP_ID = "sq0idp-mcp-server"
SQUARE_APP_SECRET = "sq0csp-mcp-server-secret-0123456789"
CLIENT_REDIRECT = "http://127.0.0.1:9/client-callback"
BOTH = "CUSTOMERS_READ CUSTOMERS_WRITE"


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within 30 s: {log.read_text()}")


@contextmanager
def started(args: list[str], env: dict[str, str], log: Path, ready_url: str) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen([str(SCRIPT), *args], env=env, stdout=subprocess.DEVNULL, stderr=out)
    try:
        _wait_for(ready_url, process, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def replica_set(tmp: Path, state_url: str, count: int, **env: str) -> Iterator[list[Deployment]]:
    """The local API (as Square) and `count` replicas of the console script in OAuth mode sharing `state_url`, on
    free loopback ports. The first replica's URL stands for the public URL (a load balancer's); every replica is
    also reached directly. Logs: tmp/square.log, tmp/replica-N.log."""
    square_port, ports = free_port(), [free_port() for _ in range(count)]
    public, square_url = f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{square_port}"
    apps = tmp / "apps.json"
    apps.write_text(json.dumps([{"client_id": SQUARE_APP_ID, "client_secret": SQUARE_APP_SECRET,
                                 "redirect_uris": [f"{public}/oauth/square/callback"]}]))  # fmt: skip
    base_env = {key: value for key, value in os.environ.items() if not key.startswith("SQUARE_")}
    replica_env = (
        base_env
        | env
        | {
            "SQUARE_BASE_URL": square_url,
            "SQUARE_OAUTH_CLIENT_ID": SQUARE_APP_ID,
            "SQUARE_OAUTH_CLIENT_SECRET": SQUARE_APP_SECRET,
            "SQUARE_MCP_PUBLIC_URL": public,
            "SQUARE_MCP_STATE_URL": state_url,
            "SQUARE_MCP_STATE_KEY": Fernet.generate_key().decode(),
        }
    )
    square_args = ["sandbox", "--host", "127.0.0.1", "--port", str(square_port), "--db", str(tmp / "sq.db"),
                   "--oauth-apps", str(apps)]  # fmt: skip
    with contextlib.ExitStack() as stack:
        stack.enter_context(started(square_args, base_env, tmp / "square.log", f"{square_url}/v2/customers"))
        replicas = []
        for index, port in enumerate(ports):
            args = ["serve", "--transport", "http", "--host", "127.0.0.1", "--port", str(port), "--auth", "oauth"]
            base = f"http://127.0.0.1:{port}"
            process = stack.enter_context(started(args, replica_env, tmp / f"replica-{index}.log", f"{base}/readyz"))
            # No OAuthMode or local API app in this process: the replicas hold them.
            no_app: Any = None
            replicas.append(Deployment(f"{base}/mcp", base, square_url, no_app, no_app, f"{public}/mcp", process.pid))
        yield replicas


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pkce() -> tuple[str, str]:
    """A client's PKCE verifier and S256 challenge (the server that checks them is the mcp SDK's)."""
    verifier = pkce_verifier()
    return verifier, challenge_of(verifier)


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@asynccontextmanager
async def serving(app: Any, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no start event
            await anyio.sleep(0.01)
        try:
            yield
        finally:
            server.should_exit = True


@dataclass
class Deployment:
    mcp_url: str
    """This server's /mcp."""
    base: str
    """This server's public URL (issuer)."""
    square_url: str
    oauth: OAuthMode
    square_app: Any
    """The local API's Starlette app (its store: `.state.store`)."""
    resource: str = ""
    """What clients name as the resource: the public URL's /mcp, whichever replica they reach (default: mcp_url)."""
    pid: int | None = None
    """The replica's process, when it runs as one (replica_set)."""

    def __post_init__(self) -> None:
        self.resource = self.resource or self.mcp_url

    def customer_ids_of(self, merchant: str) -> list[str]:
        """What "Square" holds for `merchant`, read from the local API's database directly."""
        rows = self.square_app.state.store.read_sync(
            lambda db: db.execute("SELECT id FROM customers WHERE merchant_id = ? ORDER BY id", (merchant,)).fetchall()
        )
        return [row[0] for row in rows]


def oauth_settings(port: int, square_url: str, state_url: str, key: str, *, secret: bool = True) -> OAuthSettings:
    return OAuthSettings(
        client_id=SQUARE_APP_ID,
        client_secret=SQUARE_APP_SECRET if secret else None,
        public_url=f"http://127.0.0.1:{port}",
        state_url=state_url,
        state_key=key,
        square_url=square_url,
        revoke_at_square=True,
    )


@asynccontextmanager
async def deployment(
    tmp: Path,
    *,
    read_only: bool = False,
    lifetimes: Lifetimes | None = None,
    square_token_lifetime: float = 30 * 86400,
    pkce_only: bool = False,
) -> AsyncIterator[Deployment]:
    """The local API (as Square) and one replica of this server in OAuth mode, on free loopback ports."""
    square_port, mcp_port = free_port(), free_port()
    square_url, base = f"http://127.0.0.1:{square_port}", f"http://127.0.0.1:{mcp_port}"
    app_record: dict[str, Any] = {"client_id": SQUARE_APP_ID, "redirect_uris": [f"{base}/oauth/square/callback"]}
    if not pkce_only:
        app_record["client_secret"] = SQUARE_APP_SECRET
    square_app = create_app(str(tmp / "square.db"), oauth_apps=[app_record], token_lifetime=square_token_lifetime)
    settings = oauth_settings(
        mcp_port, square_url, f"sqlite:///{tmp / 'state.db'}", Fernet.generate_key().decode(), secret=not pkce_only
    )
    oauth = await open_oauth(settings, read_only=read_only, lifetimes=lifetimes)
    client = SquareClient(Settings(base_url=square_url))
    dispatcher = Dispatcher(client, read_only=read_only, tools=list(TOOLS))
    server = build_server(dispatcher, square_tokens=oauth.tokens)
    app = build_http_app(server, "127.0.0.1", oauth=oauth)
    try:
        async with serving(square_app, square_port), serving(app, mcp_port):
            yield Deployment(f"{base}/mcp", base, square_url, oauth, square_app)
    finally:
        await client.aclose()
        await oauth.aclose()
        square_app.state.store.close()


async def register(http: httpx.AsyncClient, base: str, scope: str = BOTH, **extra: Any) -> dict[str, Any]:
    response = await http.post(
        f"{base}/register",
        json={"redirect_uris": [CLIENT_REDIRECT], "client_name": "test client", "scope": scope,
              "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
              "token_endpoint_auth_method": "none"} | extra,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    client: dict[str, Any] = response.json()
    return client


async def approve_at_square(http: httpx.AsyncClient, square_url: str, merchant: str, decision: str = "approve") -> str:
    """The person on the local API's consent page (already opened at `square_url`): approve or deny as `merchant`;
    where Square sends them back (this server's callback)."""
    page = await http.get(square_url)
    assert page.status_code == 200 and "<form" in page.text, page.text
    form = query_of(square_url) | {"merchant_id": merchant, "decision": decision}
    answer = await http.post(square_url.split("?")[0], data=form)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


async def consent_here(http: httpx.AsyncClient, consent_url: str, decision: str = "approve") -> httpx.Response:
    """The person on this server's consent page: read what it shows, then press a button. The answer (a redirect)."""
    page = await http.get(consent_url)
    assert page.status_code == 200 and "<form" in page.text, page.text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    return await http.post(consent_url.split("?")[0], data=fields | {"decision": decision})


async def browse(
    http: httpx.AsyncClient,
    authorize_url: str,
    merchant: str,
    decision: str = "approve",
    square_decision: str = "approve",
) -> str:
    """A browser (`http` keeps its cookies) from this server's /authorize through its consent page and Square's to the
    client's redirect URI: the URL it lands on."""
    to_consent = await http.get(authorize_url)
    assert to_consent.status_code == 302, to_consent.text
    decided = await consent_here(http, to_consent.headers["location"], decision)
    assert decided.status_code == 303, decided.text
    if decision != "approve":
        return decided.headers["location"]
    back = await approve_at_square(http, decided.headers["location"], merchant, square_decision)
    landed = await http.get(back)
    assert landed.status_code == 302, landed.text
    return landed.headers["location"]


async def sign_in(
    http: httpx.AsyncClient,
    dep: Deployment,
    merchant: str,
    scope: str = BOTH,
    *,
    client: dict[str, Any] | None = None,
    exchange_at: Deployment | None = None,
) -> dict[str, Any]:
    """Register (unless `client` is given), authorize with PKCE, sign in at Square as `merchant`, exchange the code
    (at `exchange_at`, another replica, if given): the token answer, plus the client under "client"."""
    client = client or await register(http, dep.base, scope)
    verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": CLIENT_REDIRECT,
              "code_challenge": challenge, "code_challenge_method": "S256", "state": "client-state",
              "scope": scope, "resource": dep.resource}  # fmt: skip
    landed = query_of(await browse(http, str(httpx.URL(f"{dep.base}/authorize", params=params)), merchant))
    assert landed["state"] == "client-state", landed
    tokens = await exchange(http, exchange_at or dep, client, landed["code"], verifier)
    assert tokens.status_code == 200, tokens.text
    answer: dict[str, Any] = tokens.json() | {"client": client}
    return answer


async def exchange(
    http: httpx.AsyncClient, dep: Deployment, client: dict[str, Any], code: str, verifier: str, **extra: str
) -> httpx.Response:
    return await http.post(
        f"{dep.base}/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CLIENT_REDIRECT,
              "client_id": client["client_id"], "code_verifier": verifier, "resource": dep.resource} | extra,
    )  # fmt: skip


async def refresh(http: httpx.AsyncClient, dep: Deployment, client: dict[str, Any], token: str) -> httpx.Response:
    return await http.post(
        f"{dep.base}/token",
        data={"grant_type": "refresh_token", "refresh_token": token, "client_id": client["client_id"]},
    )


async def mcp(http: httpx.AsyncClient, dep: Deployment, token: str, method: str, **params: Any) -> httpx.Response:
    """One JSON-RPC request to /mcp with `token` (stateless server: no initialize needed for 2025-era calls)."""
    return await http.post(
        dep.mcp_url,
        json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
        headers={"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )  # fmt: skip


async def call(http: httpx.AsyncClient, dep: Deployment, token: str, tool: str, **arguments: Any) -> dict[str, Any]:
    response = await mcp(http, dep, token, "tools/call", name=tool, arguments=arguments)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    return result
