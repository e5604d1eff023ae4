"""Two replicas of the real console script in OAuth mode, sharing one PostgreSQL (issue 13's "done when"): register
and authorize on one, exchange the code and call tools on the other, refresh on the first, revoke on the second;
a confirmation asked by one replica and answered on the other runs once, and its replay on the first asks again.

`pytest -m postgres` with SQUARE_MCP_TEST_POSTGRES_URL set (.ci/run starts the server with .ci/postgres.sh)."""

from __future__ import annotations

import collections
import itertools
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from conftest import postgres_url, reset_postgres
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitResult, InputRequiredResult
from oauth_mcp_support import (
    SQUARE_APP_ID,
    SQUARE_APP_SECRET,
    Deployment,
    query_of,
    refresh,
    replica_set,
    sign_in,
)
from sdk_client_support import ALL_TOOLS, Person, Session, every_tool

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


@pytest.fixture
async def replicas(tmp_path: Path) -> Any:
    url = postgres_url()
    await reset_postgres(url)
    with replica_set(tmp_path, url, 2, SQUARE_CONFIRM_DESTRUCTIVE="true") as pair:
        yield pair
    logs = "".join((tmp_path / name).read_text() for name in ("replica-0.log", "replica-1.log"))
    assert "Traceback" not in logs, logs


@pytest.fixture
async def http() -> Any:
    async with httpx.AsyncClient(timeout=20) as client:
        yield client


class Spread(httpx2.AsyncBaseTransport):
    """A load balancer in front of the replicas: each request goes to the next one, round robin, Host unchanged."""

    def __init__(self, replicas: list[Deployment]) -> None:
        self._ports = itertools.cycle([httpx2.URL(replica.base).port for replica in replicas])
        self._inner = httpx2.AsyncHTTPTransport()
        self.sent: collections.Counter[int | None] = collections.Counter()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        port = next(self._ports)
        self.sent[port] += 1
        request.url = request.url.copy_with(port=port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def square_token(http: httpx.AsyncClient, square_url: str, merchant: str) -> str:
    """A Square token for `merchant`, from the local API's OAuth with this deployment's Square application (for what
    no tool does: making a customer group)."""
    params = {"client_id": SQUARE_APP_ID, "scope": "CUSTOMERS_READ CUSTOMERS_WRITE", "state": "direct"}
    answer = await http.post(
        f"{square_url}/oauth2/authorize", data=params | {"merchant_id": merchant, "decision": "approve"}
    )
    code = query_of(answer.headers["location"])["code"]
    tokens = await http.post(f"{square_url}/oauth2/token", json={"client_id": SQUARE_APP_ID, "client_secret": SQUARE_APP_SECRET,
                                                                  "code": code, "grant_type": "authorization_code"})  # fmt: skip
    token: str = tokens.json()["access_token"]
    return token


async def test_an_oauth_client_calls_every_tool_through_both_replicas(
    replicas: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """The mcp SDK's OAuth client behind a round-robin balancer: discovery, registration, sign-in, code exchange and
    every tool call (confirmations included: asked on one replica, answered on the next) land on alternate replicas."""
    a, b = replicas
    merchant = "MERCHANTREPL3"
    spread = Spread([a, b])
    person = Person(http, merchant)
    session = Session(a, person, transport=spread)

    async def make_group(name: str) -> str:
        token = await square_token(http, a.square_url, merchant)
        made = await http.post(f"{a.square_url}/v2/customers/groups", json={"group": {"name": name}},
                               headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        group_id: str = made.json()["group"]["id"]
        return group_id

    def ids_of(who: str) -> list[str]:
        with sqlite3.connect(f"file:{tmp_path / 'sq.db'}?mode=ro", uri=True) as db:
            return [row[0] for row in db.execute("SELECT id FROM customers WHERE merchant_id = ? ORDER BY id", (who,))]

    human = Human()
    async with session.client(human=human) as client:
        assert len((await client.list_tools()).tools) == 16
        assert await every_tool(client, merchant, make_group, ids_of) == ALL_TOOLS
    assert person.sign_ins == 1 and min(spread.sent.values()) >= 10, spread.sent
    assert human.asked == 6  # one question per destructive call, each answered through the other replica


class Human:
    """Approves every confirmation question, and counts them."""

    def __init__(self) -> None:
        self.asked = 0

    async def __call__(self, context: object, params: object) -> ElicitResult:
        self.asked += 1
        return ElicitResult(action="accept", content={"confirm": True})


def _connected(dep: Deployment, token: str, human: Any = None) -> Any:
    transport = streamable_http_client(
        dep.mcp_url, http_client=httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    )
    return Client(transport, elicitation_callback=human)


async def test_sign_in_and_calls_move_between_replicas(replicas: Any, http: httpx.AsyncClient) -> None:
    a, b = replicas
    # Register and authorize on A (the public URL), Square's callback lands on A; the code is exchanged on B.
    tokens = await sign_in(http, a, "MERCHANTREPL1", exchange_at=b)
    async with _connected(b, tokens["access_token"]) as client:
        assert len((await client.list_tools()).tools) == 16
        made = await client.call_tool("create_customer", {"given_name": "Replica", "idempotency_key": "r-1"})
        assert not made.is_error, made.content
    renewed = await refresh(http, a, tokens["client"], tokens["refresh_token"])  # refresh on A
    assert renewed.status_code == 200, renewed.text
    fresh = renewed.json()
    async with _connected(a, fresh["access_token"]) as client:
        listed = await client.call_tool("list_customers", {})
        assert [c["given_name"] for c in listed.structured_content["customers"]] == ["Replica"]  # type: ignore[index]
    # Revoke on B: both replicas refuse the tokens at once.
    form = {"token": fresh["access_token"], "client_id": tokens["client"]["client_id"], "client_secret": ""}
    assert (await http.post(f"{b.base}/revoke", data=form)).status_code == 200
    for dep in (a, b):
        answer = await http.post(dep.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                                 headers={"Authorization": f"Bearer {fresh['access_token']}",
                                          "Accept": "application/json, text/event-stream"})  # fmt: skip
        assert answer.status_code == 401
    # The old refresh token was rotated out on A; presented on B it is refused too.
    assert (await refresh(http, b, tokens["client"], tokens["refresh_token"])).status_code == 400


async def test_an_approval_runs_once_across_replicas(replicas: Any, http: httpx.AsyncClient) -> None:
    a, b = replicas
    tokens = await sign_in(http, a, "MERCHANTREPL2")
    accepted = {"confirm": ElicitResult(action="accept", content={"confirm": True})}

    async def never_asked(*_: object) -> ElicitResult:
        raise AssertionError("2026-07-28 asks through the call's result, not elicitation/create")

    async with (
        _connected(a, tokens["access_token"], never_asked) as on_a,
        _connected(b, tokens["access_token"], never_asked) as on_b,
    ):
        made = await on_a.call_tool("create_customer", {"given_name": "Gone", "idempotency_key": "r-2"})
        args = {"customer_id": made.structured_content["customer"]["id"]}  # type: ignore[index]
        asked = await on_a.session.call_tool("delete_customer", args, allow_input_required=True)
        assert isinstance(asked, InputRequiredResult)
        done = await on_b.session.call_tool("delete_customer", args, input_responses=accepted,
                                            request_state=asked.request_state, allow_input_required=True)  # fmt: skip
        assert not isinstance(done, InputRequiredResult) and not done.is_error, done
        replay = await on_a.session.call_tool("delete_customer", args, input_responses=accepted,
                                              request_state=asked.request_state, allow_input_required=True)  # fmt: skip
        assert isinstance(replay, InputRequiredResult)  # spent on B: A asks afresh and runs nothing
