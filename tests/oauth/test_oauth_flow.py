"""OAuth mode end to end on loopback: a person signs in through the local API playing Square's OAuth, and each
tool call runs as that person's merchant, with the tools their Square permissions allow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from oauth_mcp_support import (
    BOTH,
    CLIENT_REDIRECT,
    SQUARE_APP_ID,
    SQUARE_APP_SECRET,
    Deployment,
    call,
    deployment,
    mcp,
    query_of,
    refresh,
    sign_in,
)

from square_customers_mcp.tools import TOOLS

pytestmark = pytest.mark.anyio

WRITE_TOOLS = {tool.name for tool in TOOLS if not tool.read_only}
READ_TOOLS = {tool.name for tool in TOOLS if tool.read_only}


async def test_metadata_points_clients_at_this_server(tmp_path: Path) -> None:
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        unauthorized = await mcp(http, dep, "", "tools/list")
        assert unauthorized.status_code == 401
        challenge = unauthorized.headers["WWW-Authenticate"]
        assert f'resource_metadata="{dep.base}/.well-known/oauth-protected-resource/mcp"' in challenge
        resource = (await http.get(f"{dep.base}/.well-known/oauth-protected-resource/mcp")).json()
        assert resource["resource"] == dep.mcp_url and resource["authorization_servers"] == [dep.base]
        server = (await http.get(f"{dep.base}/.well-known/oauth-authorization-server")).json()
        assert server["registration_endpoint"] == f"{dep.base}/register"
        assert server["code_challenge_methods_supported"] == ["S256"]
        assert set(server["scopes_supported"]) == set(BOTH.split())


async def test_a_signed_in_person_calls_tools_as_their_merchant(tmp_path: Path) -> None:
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        tokens = await sign_in(http, dep, "MERCHANTAAAAA")
        assert tokens["token_type"] == "Bearer" and set(tokens["scope"].split()) == set(BOTH.split())
        assert tokens["expires_in"] == 3600  # clients refresh ahead of expiry only when told when it is
        listed = (await mcp(http, dep, tokens["access_token"], "tools/list")).json()["result"]["tools"]
        assert {tool["name"] for tool in listed} == READ_TOOLS | WRITE_TOOLS
        made = await call(http, dep, tokens["access_token"], "create_customer", given_name="Ada",
                          idempotency_key="oauth-ada")  # fmt: skip
        assert not made.get("isError"), made
        customer_id = made["structuredContent"]["customer"]["id"]
        # It landed in merchant A's store at "Square", and nowhere else.
        assert dep.customer_ids_of("MERCHANTAAAAA") == [customer_id]


async def test_person_a_never_sees_person_b_s_customers(tmp_path: Path) -> None:
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        a = await sign_in(http, dep, "MERCHANTAAAAA")
        b = await sign_in(http, dep, "MERCHANTBBBBB")
        made = await call(http, dep, a["access_token"], "create_customer", given_name="Only A", idempotency_key="k")
        a_id = made["structuredContent"]["customer"]["id"]
        seen_by_b = await call(http, dep, b["access_token"], "list_customers")
        assert seen_by_b["structuredContent"].get("customers", []) == []
        fetched_by_b = await call(http, dep, b["access_token"], "retrieve_customer", customer_id=a_id)
        assert fetched_by_b["isError"] and "NOT_FOUND" in fetched_by_b["content"][0]["text"]
        same_key = await call(http, dep, b["access_token"], "create_customer", given_name="B", idempotency_key="k")
        assert same_key["structuredContent"]["customer"]["id"] != a_id


async def test_read_only_permission_hides_and_refuses_write_tools(tmp_path: Path) -> None:
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        reader = await sign_in(http, dep, "MERCHANTRRRRR", scope="CUSTOMERS_READ")
        assert reader["scope"] == "CUSTOMERS_READ"
        listed = (await mcp(http, dep, reader["access_token"], "tools/list")).json()["result"]["tools"]
        assert {tool["name"] for tool in listed} == READ_TOOLS
        refused = await call(http, dep, reader["access_token"], "create_customer", given_name="No")
        assert refused["isError"] and "CUSTOMERS_WRITE" in refused["content"][0]["text"]
        assert dep.customer_ids_of("MERCHANTRRRRR") == []


async def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_sign_in(tmp_path: Path) -> None:
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        first = await sign_in(http, dep, "MERCHANTAAAAA")
        client = first["client"]
        renewed = await refresh(http, dep, client, first["refresh_token"])
        assert renewed.status_code == 200, renewed.text
        second = renewed.json()
        assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
        assert not (await call(http, dep, second["access_token"], "list_customers")).get("isError")
        # The old refresh token again: someone else holds a copy, so the whole family ends.
        replay = await refresh(http, dep, client, first["refresh_token"])
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        assert (await mcp(http, dep, second["access_token"], "tools/list")).status_code == 401
        assert (await refresh(http, dep, client, second["refresh_token"])).status_code == 400


async def test_revoking_the_mcp_token_ends_the_sign_in_here_and_at_square(tmp_path: Path) -> None:
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        tokens = await sign_in(http, dep, "MERCHANTAAAAA")
        grant_id = (await dep.oauth.sign_in.load_access_token(tokens["access_token"])).grant_id  # type: ignore[union-attr]
        square_token = (await dep.oauth.store.grant(grant_id)).square["access_token"]  # type: ignore[union-attr]
        # The mcp SDK's revocation handler (2.3) requires the client_secret field even of a public client: empty.
        form = {"token": tokens["refresh_token"], "client_id": tokens["client"]["client_id"], "client_secret": ""}
        revoked = await http.post(f"{dep.base}/revoke", data=form)
        assert revoked.status_code == 200, revoked.text
        assert (await mcp(http, dep, tokens["access_token"], "tools/list")).status_code == 401
        status = await http.post(
            f"{dep.square_url}/oauth2/token/status", headers={"Authorization": f"Bearer {square_token}"}
        )
        assert status.status_code == 401  # SQUARE_OAUTH_REVOKE_AT_SQUARE: signing out ended Square's token too


async def test_denied_at_square_returns_access_denied_to_the_client(tmp_path: Path) -> None:
    from oauth_mcp_support import browse, pkce, register

    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        client = await register(http, dep.base)
        _, challenge = pkce()
        params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": CLIENT_REDIRECT,
                  "code_challenge": challenge, "code_challenge_method": "S256", "state": "s1"}  # fmt: skip
        url = str(httpx.URL(f"{dep.base}/authorize", params=params))
        # Declined on this server's consent page, or at Square: the client hears access_denied either way.
        for landed in (await browse(http, url, "MERCHANTAAAAA", "deny"),
                       await browse(http, url, "MERCHANTAAAAA", square_decision="deny")):  # fmt: skip
            assert landed.startswith(CLIENT_REDIRECT)
            assert query_of(landed) | {"error_description": ""} == {
                "error": "access_denied",
                "state": "s1",
                "error_description": "",
            }


async def _square_credentials(dep: Deployment, access_token: str) -> dict[str, Any]:
    grant_id = (await dep.oauth.sign_in.load_access_token(access_token)).grant_id  # type: ignore[union-attr]
    return (await dep.oauth.store.grant(grant_id)).square  # type: ignore[union-attr]


@pytest.mark.slow  # waits out lifetimes or floods the server: run by `pytest -m slow`
@pytest.mark.parametrize("pkce_only", [False, True], ids=["code flow", "PKCE"])
async def test_square_tokens_are_refreshed_before_they_expire(tmp_path: Path, pkce_only: bool) -> None:
    # Square tokens that live 4 s here: due for refresh at half their life.
    async with (
        deployment(tmp_path, square_token_lifetime=4, pkce_only=pkce_only) as dep,
        httpx.AsyncClient(timeout=10) as http,
    ):
        tokens = await sign_in(http, dep, "MERCHANTAAAAA")
        before = await _square_credentials(dep, tokens["access_token"])
        await anyio.sleep(2.2)
        made = await call(http, dep, tokens["access_token"], "create_customer", given_name="Later")
        assert not made.get("isError"), made
        after = await _square_credentials(dep, tokens["access_token"])
        assert after["access_token"] != before["access_token"] and after["expires_at"] > before["expires_at"]
        # Square's PKCE refresh tokens are single-use and rotate; the code flow's stay the same.
        assert (after["refresh_token"] != before["refresh_token"]) is pkce_only
        await anyio.sleep(2.2)  # the refreshed token is due in turn: refreshed again with what was stored
        assert not (await call(http, dep, tokens["access_token"], "list_customers")).get("isError")


@pytest.mark.slow  # waits out lifetimes or floods the server: run by `pytest -m slow`
async def test_a_sign_in_square_ended_asks_the_person_to_sign_in_again(tmp_path: Path) -> None:
    async with deployment(tmp_path, square_token_lifetime=4) as dep, httpx.AsyncClient(timeout=10) as http:
        tokens = await sign_in(http, dep, "MERCHANTAAAAA")
        # The seller revokes the application at Square (here: the local API's revoke, by merchant).
        ended = await http.post(f"{dep.square_url}/oauth2/revoke", json={"client_id": SQUARE_APP_ID, "merchant_id": "MERCHANTAAAAA"},
                                headers={"Authorization": f"Client {SQUARE_APP_SECRET}"})  # fmt: skip
        assert ended.status_code == 200, ended.text
        await anyio.sleep(2.2)  # the next call refreshes, and Square refuses
        refused = await call(http, dep, tokens["access_token"], "list_customers")
        assert refused["isError"] and "sign in to Square again" in refused["content"][0]["text"]
        assert (await mcp(http, dep, tokens["access_token"], "tools/list")).status_code == 401  # revoked here too
