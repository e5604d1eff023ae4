"""Two replicas of the real console script in OAuth mode, sharing one PostgreSQL (issue 13's "done when"): register
and authorize on one, exchange the code and call tools on the other, refresh on the first, revoke on the second;
a confirmation asked by one replica and answered on the other runs once, and its replay on the first asks again.

`pytest -m postgres` with SQUARE_MCP_TEST_POSTGRES_URL set (.ci/run starts the server with .ci/postgres.sh)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from conftest import postgres_url, reset_postgres
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitResult, InputRequiredResult
from oauth_mcp_support import Deployment, refresh, replica_set, sign_in

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
