"""The mcp Python SDK's OAuth client (mcp.client.auth.OAuthClientProvider) driven by a scripted person, and a run of
every tool through it; shared by the one-server and the two-replica tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

import httpx
import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from mcp.types import CallToolResult
from oauth_mcp_support import CLIENT_REDIRECT, Deployment, browse, query_of
from pydantic import AnyUrl

from square_customers_mcp.tools import TOOLS

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

    def __init__(self, dep: Deployment, person: Person, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        """`transport`: how requests reach the server (e.g. spread over replicas); default: straight to it."""
        self.dep, self.person, self.transport = dep, person, transport
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
    async def client(self, mode: Literal["auto", "legacy"] = "auto", human: Any = None) -> AsyncIterator[Client]:
        """`human`: the elicitation callback answering confirmation questions (SQUARE_CONFIRM_DESTRUCTIVE)."""
        async with (
            httpx2.AsyncClient(
                auth=self.provider, timeout=30, event_hooks={"response": [self._record]}, transport=self.transport
            ) as http,
            Client(
                streamable_http_client(self.dep.mcp_url, http_client=http),
                mode=mode,
                raise_exceptions=True,
                elicitation_callback=human,
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


async def every_tool(
    client: Client, merchant: str, make_group: Callable[[str], Awaitable[str]], ids_of: Callable[[str], list[str]]
) -> set[str]:
    """Call each of the 16 tools once or more as `merchant`, checking each outcome, also at "Square" (`ids_of`: the
    merchant's customer ids there; `make_group`: a group made there, as no tool makes one). The tools called."""
    called: set[str] = set()

    async def run(tool: str, **arguments: Any) -> dict[str, Any]:
        called.add(tool)
        return ok(await client.call_tool(tool, arguments))

    segments = (await run("list_customer_segments"))["segments"]
    assert segments, "a new merchant has Square's built-in segments"
    group_id = await make_group("Python SDK")
    groups = (await run("list_customer_groups"))["groups"]
    assert [group["id"] for group in groups] == [group_id]

    ada = (await run("create_customer", given_name="Ada", email_address="ada@example.com"))["customer"]
    assert ids_of(merchant) == [ada["id"]]
    made = await run("bulk_create_customers", customers=[{"given_name": "Bea"}, {"given_name": "Cy"}])
    others = [customer["id"] for customer in made["customers"]]
    assert len(others) == 2 and sorted(ids_of(merchant)) == sorted([ada["id"], *others])

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
    assert (await run("remove_group_from_customer", customer_id=ada["id"], group_id=group_id))["member"] is False
    assert "group_ids" not in (await run("retrieve_customer", customer_id=ada["id"]))["customer"]

    card = (await run("create_customer_card", customer_id=ada["id"], card_nonce="cnon:card-nonce-ok"))["card"]
    assert card["id"]
    assert (await run("delete_customer_card", customer_id=ada["id"], card_id=card["id"]))["deleted"] is True

    assert (await run("delete_customer", customer_id=others[1]))["deleted"] is True
    assert (await run("bulk_delete_customers", customer_ids=[others[0]]))["succeeded"] == 1
    assert ids_of(merchant) == [ada["id"]]
    return called
