"""Attack probes (security review): dynamic client registration (/register, no token needed) and what the state
database reveals. Each test PASSES when the server is safe and FAILS when the attack works."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import httpx
import pytest
from oauth_mcp_support import CLIENT_REDIRECT, deployment, pkce, query_of, register

pytestmark = pytest.mark.anyio

DANGEROUS = [
    "javascript:alert(document.domain)//",
    "data:text/html,<script>alert(1)</script>",
    "http://evil.example/cb",  # cleartext, not loopback: OAuth 2.1 section 2.3.1 / MCP spec forbid
    "https://client.example/cb#fragment",  # RFC 6749 3.1.2: MUST NOT include a fragment
]


@pytest.mark.parametrize("uri", DANGEROUS)
async def test_register_refuses_dangerous_redirect_uris(tmp_path: Path, uri: str) -> None:
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        answer = await http.post(
            f"{dep.base}/register",
            json={"redirect_uris": [uri], "grant_types": ["authorization_code", "refresh_token"],
                  "response_types": ["code"], "token_endpoint_auth_method": "none"},
        )  # fmt: skip
        assert answer.status_code == 400, f"registered {uri!r}: {answer.text[:200]}"


async def test_register_refuses_huge_client_metadata(tmp_path: Path) -> None:
    """No token needed: each registration is stored forever. The SDK caps auth bodies at 4 MiB only, so ~4 MiB per
    anonymous POST lands in mcp_clients; client metadata should be bounded far lower (e.g. 16-64 KiB)."""
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(
            f"{dep.base}/register",
            json={"redirect_uris": [CLIENT_REDIRECT], "client_name": "x" * (3 * 1024 * 1024),
                  "token_endpoint_auth_method": "none"},
        )  # fmt: skip
        assert answer.status_code in (400, 413), f"stored a 3 MiB client: HTTP {answer.status_code}"


@pytest.mark.slow  # waits out lifetimes or floods the server: run by `pytest -m slow`
async def test_register_flood_is_limited(tmp_path: Path) -> None:
    """Anonymous /register: clients are never pruned; a burst from one address should meet a limit (429)."""
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        statuses: list[int] = []

        async def one() -> None:
            answer = await http.post(f"{dep.base}/register", json={"redirect_uris": [CLIENT_REDIRECT],
                                                                   "token_endpoint_auth_method": "none"})  # fmt: skip
            statuses.append(answer.status_code)

        async with anyio.create_task_group() as group:
            for _ in range(300):
                group.start_soon(one)
        rows = await dep.oauth.store.db.fetch("SELECT count(*) FROM mcp_clients")
        assert 429 in statuses, f"300 anonymous registrations accepted; mcp_clients now holds {rows[0][0]} rows"


@pytest.mark.slow  # waits out lifetimes or floods the server: run by `pytest -m slow`
async def test_authorize_flood_does_not_grow_pending_sign_ins_without_bound(tmp_path: Path) -> None:
    """Anonymous /authorize (any registered client id) stores a pending sign-in for 10 minutes each time."""
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        client = await register(http, dep.base)
        _, challenge = pkce()
        params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": CLIENT_REDIRECT,
                  "code_challenge": challenge, "code_challenge_method": "S256"}  # fmt: skip
        statuses: list[int] = []

        async def one() -> None:
            statuses.append((await http.get(f"{dep.base}/authorize", params=params)).status_code)

        async with anyio.create_task_group() as group:
            for _ in range(300):
                group.start_soon(one)
        rows = await dep.oauth.store.db.fetch("SELECT count(*) FROM mcp_tokens WHERE kind = 'pending'")
        assert rows[0][0] < 300 or 429 in statuses, f"{rows[0][0]} pending sign-ins from one client in one burst"


async def test_client_registered_for_read_cannot_authorize_write_by_omitting_scope(tmp_path: Path) -> None:
    """A client registered with scope CUSTOMERS_READ that sends no `scope` to /authorize is sent to Square asking
    for its registered scope only, not for everything this server offers."""
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        client = await register(http, dep.base, scope="CUSTOMERS_READ")
        _, challenge = pkce()
        params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": CLIENT_REDIRECT,
                  "code_challenge": challenge, "code_challenge_method": "S256"}  # fmt: skip
        answer = await http.get(f"{dep.base}/authorize", params=params)
        asked = query_of(answer.headers["location"]).get("scope", "")
        assert "CUSTOMERS_WRITE" not in asked, f"Square asked for {asked!r} for a read-only client"


async def test_state_database_holds_no_client_secret(tmp_path: Path) -> None:
    """A copy of the state database: registered confidential clients' secrets must not be in it in the clear
    (docs/remote.md: 'our tokens and codes useless if the database leaks')."""
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        client = await register(http, dep.base, token_endpoint_auth_method="client_secret_post")
        secret = client["client_secret"]
        assert secret
    db = sqlite3.connect(tmp_path / "state.db")
    try:
        dump = "\n".join(db.iterdump())
    finally:
        db.close()
    assert secret not in dump, "client_secret stored in the clear in mcp_clients.info"


async def test_sql_metacharacters_in_every_field_are_inert(tmp_path: Path) -> None:
    nasty = "x' OR '1'='1'; DROP TABLE mcp_tokens; --"
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        await register(http, dep.base, client_name=nasty)
        for data in ({"grant_type": "refresh_token", "refresh_token": nasty, "client_id": nasty},
                     {"grant_type": "authorization_code", "code": nasty, "client_id": nasty, "code_verifier": nasty}):  # fmt: skip
            assert (await http.post(f"{dep.base}/token", data=data)).status_code in (400, 401)
        assert (
            await http.get(f"{dep.base}/oauth/square/callback", params={"state": nasty, "code": nasty})
        ).status_code == 400
        assert (await http.get(f"{dep.base}/authorize", params={"client_id": nasty})).status_code == 400
        tables = await dep.oauth.store.db.fetch("SELECT count(*) FROM mcp_tokens")
        assert tables[0][0] >= 0
