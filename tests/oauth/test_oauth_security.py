"""OAuth mode's security points, each tried as an attacker would (issue 13): PKCE, redirect URIs, the `state` of
Square's callback, single-use short-lived codes, audience binding, hashed storage, and no token in any log."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from oauth_mcp_support import (
    CLIENT_REDIRECT,
    Deployment,
    approve_at_square,
    browse,
    consent_here,
    deployment,
    exchange,
    mcp,
    pkce,
    query_of,
    register,
    sign_in,
)

from square_customers_mcp.oauth.provider import Lifetimes

pytestmark = pytest.mark.anyio


def authorize_url(dep: Deployment, client: dict[str, Any], challenge: str | None, **extra: str) -> str:
    params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": CLIENT_REDIRECT,
              "state": "st", "resource": dep.resource} | extra  # fmt: skip
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return str(httpx.URL(f"{dep.base}/authorize", params=params))


async def code_for(http: httpx.AsyncClient, dep: Deployment, client: dict[str, Any], challenge: str) -> str:
    return query_of(await browse(http, authorize_url(dep, client, challenge), "MERCHANTSEC01"))["code"]


async def test_pkce_s256_is_required(tmp_path: Path) -> None:
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        client = await register(http, dep.base)
        for extra in ({}, {"code_challenge": "x" * 43, "code_challenge_method": "plain"}):
            answer = await http.get(authorize_url(dep, client, None, **extra))
            assert answer.status_code == 302 and "error=invalid_request" in answer.headers["location"], extra
            assert dep.square_url not in answer.headers["location"]  # never sent on to Square
        _, challenge = pkce()
        code = await code_for(http, dep, client, challenge)
        wrong = await exchange(http, dep, client, code, pkce()[0])  # another verifier than the challenge's
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


async def test_redirect_uris_must_match_exactly(tmp_path: Path) -> None:
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        client = await register(http, dep.base)
        _, challenge = pkce()
        for other in (CLIENT_REDIRECT + "/x", CLIENT_REDIRECT.replace("9", "99"), "http://evil.example/cb"):
            answer = await http.get(authorize_url(dep, client, challenge, redirect_uri=other))
            assert answer.status_code == 400, other  # an error page, never a redirect to the unregistered URI
            assert "location" not in answer.headers


async def test_squares_callback_needs_the_state_it_was_given_once(tmp_path: Path) -> None:
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        client = await register(http, dep.base)
        _, challenge = pkce()
        forged = await http.get(f"{dep.base}/oauth/square/callback", params={"code": "sq-code", "state": "guess"})
        assert forged.status_code == 400 and "location" not in forged.headers
        to_consent = await http.get(authorize_url(dep, client, challenge))
        to_square = await consent_here(http, to_consent.headers["location"])
        back = await approve_at_square(http, to_square.headers["location"], "MERCHANTSEC01")
        assert (await http.get(back)).status_code == 302
        replayed = await http.get(back)  # the same callback again: the sign-in is used up
        assert replayed.status_code == 400


async def test_codes_work_once_and_a_second_use_revokes_what_the_first_issued(tmp_path: Path) -> None:
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        client = await register(http, dep.base)
        verifier, challenge = pkce()
        code = await code_for(http, dep, client, challenge)
        first = await exchange(http, dep, client, code, verifier)
        assert first.status_code == 200
        again = await exchange(http, dep, client, code, verifier)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        assert (await mcp(http, dep, first.json()["access_token"], "tools/list")).status_code == 401


@pytest.mark.slow  # waits out lifetimes or floods the server: run by `pytest -m slow`
async def test_codes_expire(tmp_path: Path) -> None:
    async with deployment(tmp_path, lifetimes=Lifetimes(code=1)) as dep, httpx.AsyncClient(timeout=10) as http:
        client = await register(http, dep.base)
        verifier, challenge = pkce()
        code = await code_for(http, dep, client, challenge)
        await anyio.sleep(2.1)
        late = await exchange(http, dep, client, code, verifier)
        assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


async def test_another_client_cannot_use_a_code(tmp_path: Path) -> None:
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        owner, thief = await register(http, dep.base), await register(http, dep.base)
        verifier, challenge = pkce()
        code = await code_for(http, dep, owner, challenge)
        stolen = await exchange(http, dep, thief, code, verifier)
        assert stolen.status_code == 400
        assert (await exchange(http, dep, owner, code, verifier)).status_code == 200


async def test_tokens_are_bound_to_this_server(tmp_path: Path) -> None:
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        client = await register(http, dep.base)
        _, challenge = pkce()
        elsewhere = await http.get(authorize_url(dep, client, challenge, resource="https://other.example/mcp"))
        assert elsewhere.status_code == 302 and "error=invalid_request" in elsewhere.headers["location"]
        # A token of the same store but issued for another resource (another deployment sharing the database).
        tokens = await sign_in(http, dep, "MERCHANTSEC01")
        store = dep.oauth.store
        item = await store.get("access", tokens["access_token"])
        assert item is not None and item.data["resource"] == dep.mcp_url
        await store.put("access", "token-for-another-server", client_id=item.client_id, grant_id=item.grant_id,
                        data=item.data | {"resource": "https://other.example/mcp"}, lifetime=60)  # fmt: skip
        assert (await mcp(http, dep, "token-for-another-server", "tools/list")).status_code == 401
        assert (await mcp(http, dep, tokens["access_token"], "tools/list")).status_code == 200


async def test_the_state_database_holds_no_usable_token(tmp_path: Path) -> None:
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        tokens = await sign_in(http, dep, "MERCHANTSEC01")
        grant = (await dep.oauth.sign_in.load_access_token(tokens["access_token"])).grant_id  # type: ignore[union-attr]
        square_token = (await dep.oauth.store.grant(grant)).square["access_token"]  # type: ignore[union-attr]
    files = [tmp_path / "state.db", *tmp_path.glob("state.db-*")]  # noqa: ASYNC240 - the servers have stopped
    raw = b"".join(path.read_bytes() for path in files)
    for secret in (tokens["access_token"], tokens["refresh_token"], square_token):
        assert secret.encode() not in raw


async def test_no_token_reaches_any_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as http:
        tokens = await sign_in(http, dep, "MERCHANTSEC01")
        client = tokens["client"]
        await mcp(http, dep, tokens["access_token"], "tools/call", name="list_customers", arguments={})
        renewed = (await http.post(f"{dep.base}/token", data={"grant_type": "refresh_token", "client_id": client["client_id"],
                                                               "refresh_token": tokens["refresh_token"]})).json()  # fmt: skip
        grant = (await dep.oauth.sign_in.load_access_token(renewed["access_token"])).grant_id  # type: ignore[union-attr]
        square = (await dep.oauth.store.grant(grant)).square  # type: ignore[union-attr]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "signed in a Square merchant" in logged  # the flow did log
    secrets = [tokens["access_token"], tokens["refresh_token"], renewed["access_token"], renewed["refresh_token"],
               square["access_token"], square["refresh_token"], "sq0csp-mcp-server-secret"]  # fmt: skip
    assert [secret for secret in secrets if secret in logged] == []
