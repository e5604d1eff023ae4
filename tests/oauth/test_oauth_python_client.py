"""OAuth mode with the mcp Python SDK's own OAuth client (mcp.client.auth.OAuthClientProvider): from a bare 401 it
discovers the server, registers itself, signs the person in at "Square" (the local API) with PKCE and exchanges the
code; then every tool runs as that merchant, the SDK refreshes an expired token by itself, and a revoked sign-in
ends. The browser is plain httpx following redirects (oauth_mcp_support.browse)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import anyio
import httpx
import pytest
from oauth_mcp_support import deployment, mcp, refresh
from sdk_client_support import ALL_TOOLS, READ_TOOLS, Person, Session, SignInRefused, every_tool, ok, square_group

from square_customers_mcp.oauth.provider import Lifetimes

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 per-request, and the 2025 initialize handshake
async def test_sdk_provider_signs_in_and_every_tool_runs_as_the_merchant(
    tmp_path: Path, mode: Literal["auto", "legacy"]
) -> None:
    merchant = "MERCHANTPYSDK01"
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as browser:
        person = Person(browser, merchant)
        session = Session(dep, person)
        async with session.client(mode) as client:
            listed = {tool.name for tool in (await client.list_tools()).tools}
            # Discovery from the 401, registration, the sign-in, the code exchange: each once, in that order.
            assert person.sign_ins == 1 and session.requests[0] == ("POST", "/mcp", 401)
            assert session.paths() == [
                "GET /.well-known/oauth-protected-resource/mcp 200",
                "GET /.well-known/oauth-authorization-server 200",
                "POST /register 201",
                "POST /token 200",
            ], session.requests
            assert session.storage.client is not None and session.storage.tokens is not None
            assert set((session.storage.tokens.scope or "").split()) == {"CUSTOMERS_READ", "CUSTOMERS_WRITE"}
            assert listed == ALL_TOOLS and len(listed) == 16
            called = await every_tool(
                client, merchant, lambda name: square_group(dep, session.access_token, name), dep.customer_ids_of
            )
            assert called == ALL_TOOLS
            # One sign-in for the whole session: no call made the SDK authorize again.
            assert person.sign_ins == 1 and session.storage.token_history == [session.access_token]


@pytest.mark.slow  # waits out lifetimes or floods the server: run by `pytest -m slow`
async def test_sdk_refreshes_an_expired_token_and_a_revoked_sign_in_ends(tmp_path: Path) -> None:
    async with deployment(tmp_path, lifetimes=Lifetimes(access=2)) as dep, httpx.AsyncClient(timeout=10) as browser:
        person = Person(browser, "MERCHANTPYSDK02")
        session = Session(dep, person)
        async with session.client() as client:
            ok(await client.call_tool("create_customer", {"given_name": "Before"}))
            first = session.storage.tokens
            assert first is not None and first.refresh_token
            await anyio.sleep(2.5)
            assert first.expires_in == 2  # what lets the SDK refresh before sending, rather than after a 401
            # The stored token has expired: the SDK refreshes it before sending, with no new sign-in.
            assert (await mcp(browser, dep, first.access_token, "tools/list")).status_code == 401
            customers = ok(await client.call_tool("list_customers", {}))["customers"]
            assert [customer["given_name"] for customer in customers] == ["Before"]
            second = session.storage.tokens
            assert second is not None and person.sign_ins == 1
            assert second.access_token != first.access_token and second.refresh_token != first.refresh_token
            assert session.paths()[-1] == "POST /token 200" and session.storage.token_history[-1] == second.access_token
        # Sign out: revoke the refresh token, which ends the whole sign-in.
        client_info = session.storage.client
        assert client_info is not None and second.refresh_token
        form = {"token": second.refresh_token, "client_id": client_info.client_id,
                # The mcp SDK's revocation handler (2.3) requires client_secret even of a public client: empty.
                "client_secret": ""}  # fmt: skip
        revoked = await browser.post(f"{dep.base}/revoke", data=form)
        assert revoked.status_code == 200, revoked.text
        assert (await mcp(browser, dep, second.access_token, "tools/list")).status_code == 401
        again = await refresh(browser, dep, client_info.model_dump(mode="json"), second.refresh_token)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        # The SDK, still holding the revoked token, gets a 401 and asks the person to sign in again; they decline,
        # and the SDK's transport fails with that.
        person.willing = False
        seen = len(session.requests)
        with pytest.raises(BaseExceptionGroup) as failed:
            async with session.client() as client:
                await client.call_tool("list_customers", {})
        assert failed.group_contains(SignInRefused), failed.value
        assert session.requests[seen][1:] == ("/mcp", 401), session.requests[seen:]
        assert person.sign_ins == 1


async def test_a_read_only_sign_in_lists_only_the_read_tools(tmp_path: Path) -> None:
    merchant = "MERCHANTPYSDK03"
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as browser:
        person = Person(browser, merchant, scope="CUSTOMERS_READ")
        session = Session(dep, person)
        async with session.client() as client:
            listed = {tool.name for tool in (await client.list_tools()).tools}
            assert listed == READ_TOOLS and len(listed) == 6  # the read kinds of DESIGN.md's table
            assert session.storage.tokens is not None and session.storage.tokens.scope == "CUSTOMERS_READ"
            assert ok(await client.call_tool("list_customers", {})).get("customers", []) == []
            refused = await client.call_tool("create_customer", {"given_name": "No"})
            assert refused.is_error and "CUSTOMERS_WRITE" in str(refused.content)
            assert dep.customer_ids_of(merchant) == []
