"""OAuth mode with the mcp Python SDK's own OAuth client (mcp.client.auth.OAuthClientProvider): from a bare 401 it
discovers the server, registers itself, signs the person in at "Square" (the local API) with PKCE and exchanges the
code; then every tool runs as that merchant, the SDK refreshes an expired token by itself, and a revoked sign-in
ends. The browser is plain httpx following redirects (oauth_mcp_support.browse)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from mcp.types import CallToolResult
from oauth_mcp_support import CLIENT_REDIRECT, Deployment, browse, deployment, mcp, query_of, refresh
from pydantic import AnyUrl

from square_customers_mcp.oauth.provider import Lifetimes
from square_customers_mcp.tools import TOOLS

pytestmark = pytest.mark.anyio

ALL_TOOLS = {tool.name for tool in TOOLS}
READ_TOOLS = {tool.name for tool in TOOLS if tool.read_only}


class MemoryStorage:
    """The SDK's TokenStorage, in memory: what a client would keep in its keychain."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None
        self.token_history: list[str] = []

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.token_history.append(tokens.access_token)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class SignInRefused(Exception):
    """The person declines to sign in again (after signing out)."""


class Person:
    """The person at the browser: the provider's redirect_handler opens the authorize URL and signs in at Square as
    `merchant`; its callback_handler hands back the code and state the browser landed with."""

    def __init__(self, http: httpx.AsyncClient, merchant: str, *, scope: str | None = None) -> None:
        self.http, self.merchant, self.scope = http, merchant, scope
        self.sign_ins = 0
        self.willing = True
        self.landed: dict[str, str] = {}

    async def redirect(self, authorize_url: str) -> None:
        if not self.willing:
            raise SignInRefused
        self.sign_ins += 1
        params = query_of(authorize_url)
        if self.scope is not None:
            # The SDK asks for every scope the server advertises; a client set up for read access asks for less.
            # Narrowing the URL the browser opens stands for that client.
            params["scope"] = self.scope
        url = f"{authorize_url.split('?')[0]}?{urlencode(params)}"
        landed = await browse(self.http, url, self.merchant)
        assert landed.startswith(CLIENT_REDIRECT), landed
        self.landed = query_of(landed)

    async def callback(self) -> AuthorizationCodeResult:
        return AuthorizationCodeResult(code=self.landed["code"], state=self.landed.get("state"))


class Session:
    """One MCP client session through the SDK provider, plus what it saw on the wire."""

    def __init__(self, dep: Deployment, person: Person) -> None:
        self.dep, self.person = dep, person
        self.storage = MemoryStorage()
        self.provider = OAuthClientProvider(
            server_url=dep.mcp_url,
            client_metadata=OAuthClientMetadata(
                redirect_uris=[AnyUrl(CLIENT_REDIRECT)],
                client_name="mcp python sdk test",
                grant_types=["authorization_code", "refresh_token"],
                response_types=["code"],
                token_endpoint_auth_method="none",
            ),
            storage=self.storage,
            redirect_handler=person.redirect,
            callback_handler=person.callback,
        )
        self.requests: list[tuple[str, str, int]] = []
        """(method, path, status) of every request the SDK made, OAuth ones included."""

    async def _record(self, response: httpx2.Response) -> None:
        self.requests.append((response.request.method, urlsplit(str(response.request.url)).path, response.status_code))

    def paths(self) -> list[str]:
        return [f"{method} {path} {status}" for method, path, status in self.requests if path != "/mcp"]

    @asynccontextmanager
    async def client(self, mode: Literal["auto", "legacy"] = "auto") -> AsyncIterator[Client]:
        async with (
            httpx2.AsyncClient(auth=self.provider, timeout=30, event_hooks={"response": [self._record]}) as http,
            Client(
                streamable_http_client(self.dep.mcp_url, http_client=http), mode=mode, raise_exceptions=True
            ) as client,
        ):
            yield client

    @property
    def access_token(self) -> str:
        assert self.storage.tokens is not None
        return self.storage.tokens.access_token


def ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    content: dict[str, Any] | None = result.structured_content
    assert content is not None
    return content


async def square_group(dep: Deployment, access_token: str, name: str) -> str:
    """A customer group made at "Square" with the person's own Square token (there is no create-group tool)."""
    access = await dep.oauth.sign_in.load_access_token(access_token)
    assert access is not None
    grant = await dep.oauth.store.grant(access.grant_id)
    assert grant is not None
    async with httpx.AsyncClient(timeout=10) as http:
        made = await http.post(
            f"{dep.square_url}/v2/customers/groups",
            json={"group": {"name": name}, "idempotency_key": f"group-{name}"},
            headers={"Authorization": f"Bearer {grant.square['access_token']}"},
        )
    assert made.status_code == 200, made.text
    group_id: str = made.json()["group"]["id"]
    return group_id


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
            called: set[str] = set()

            async def run(tool: str, **arguments: Any) -> dict[str, Any]:
                called.add(tool)
                return ok(await client.call_tool(tool, arguments))

            segments = (await run("list_customer_segments"))["segments"]
            assert segments, "a new merchant has Square's built-in segments"
            group_id = await square_group(dep, session.access_token, "Python SDK")
            groups = (await run("list_customer_groups"))["groups"]
            assert [group["id"] for group in groups] == [group_id]

            ada = (await run("create_customer", given_name="Ada", email_address="ada@example.com"))["customer"]
            assert dep.customer_ids_of(merchant) == [ada["id"]]
            made = await run("bulk_create_customers", customers=[{"given_name": "Bea"}, {"given_name": "Cy"}])
            others = [customer["id"] for customer in made["customers"]]
            assert len(others) == 2 and sorted(dep.customer_ids_of(merchant)) == sorted([ada["id"], *others])

            assert (await run("retrieve_customer", customer_id=ada["id"]))["customer"]["given_name"] == "Ada"
            fetched = await run("bulk_retrieve_customers", customer_ids=[ada["id"], *others])
            assert {customer["id"] for customer in fetched["customers"]} == {ada["id"], *others}
            listed_ids = {customer["id"] for customer in (await run("list_customers"))["customers"]}
            assert listed_ids == {ada["id"], *others}
            found = await run("search_customers", filter={"email_address": {"exact": "ada@example.com"}})
            assert [customer["id"] for customer in found["customers"]] == [ada["id"]]

            updated = await run("update_customer", customer_id=ada["id"], note="met at the fair")
            assert updated["customer"]["note"] == "met at the fair"
            bulk_updated = await run("bulk_update_customers", customers=[{"customer_id": others[0], "nickname": "B"}])
            assert bulk_updated["succeeded"] == 1 and bulk_updated["customers"][0]["id"] == others[0]

            assert (await run("add_group_to_customer", customer_id=ada["id"], group_id=group_id))["member"] is True
            assert (await run("retrieve_customer", customer_id=ada["id"]))["customer"]["group_ids"] == [group_id]
            assert (await run("remove_group_from_customer", customer_id=ada["id"], group_id=group_id))[
                "member"
            ] is False
            assert "group_ids" not in (await run("retrieve_customer", customer_id=ada["id"]))["customer"]

            card = (await run("create_customer_card", customer_id=ada["id"], card_nonce="cnon:card-nonce-ok"))["card"]
            assert card["id"]
            assert (await run("delete_customer_card", customer_id=ada["id"], card_id=card["id"]))["deleted"] is True

            assert (await run("delete_customer", customer_id=others[1]))["deleted"] is True
            assert (await run("bulk_delete_customers", customer_ids=[others[0]]))["succeeded"] == 1
            assert dep.customer_ids_of(merchant) == [ada["id"]]
            assert called == ALL_TOOLS
            # One sign-in for the whole session: no call made the SDK authorize again.
            assert person.sign_ins == 1 and session.storage.token_history == [session.access_token]


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
