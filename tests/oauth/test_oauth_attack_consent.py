"""Attack probes (security review): the confused-deputy / consent-phishing chain of an OAuth proxy with open dynamic
client registration and a static Square application id (MCP security best practices, "Confused Deputy Problem";
cf. FastMCP CVE-2026-27124). Each test PASSES when the server is safe and FAILS when the attack works."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from oauth_mcp_support import approve_at_square, call, deployment, exchange, pkce, query_of, register

pytestmark = pytest.mark.anyio

EVIL_REDIRECT = "https://evil.example/steal"


async def test_authorize_for_an_unknown_client_asks_this_server_s_consent_before_square(tmp_path: Path) -> None:
    """Any anonymous party can register a client with a redirect URI of its choosing. /authorize for it must not go
    straight on to Square (whose consent page names only this server's Square application, never the MCP client
    nor where the code will go): this server must first show its own consent naming the client and redirect."""
    async with deployment(tmp_path) as dep, httpx.AsyncClient(timeout=10) as attacker:
        client = await register(attacker, dep.base, redirect_uris=[EVIL_REDIRECT], client_name="Claude")
        _, challenge = pkce()
        params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": EVIL_REDIRECT,
                  "code_challenge": challenge, "code_challenge_method": "S256", "state": "x"}  # fmt: skip
        answer = await attacker.get(f"{dep.base}/authorize", params=params)
        location = answer.headers.get("location", "")
        assert not location.startswith(dep.square_url), "no consent step of ours: straight on to Square's page"


async def test_square_callback_only_completes_in_the_browser_that_started_the_sign_in(tmp_path: Path) -> None:
    """Attacker registers a client (redirect: their site), starts /authorize in their own browser, and sends the
    resulting Square URL to a victim. The victim approves at Square (a genuine Square page) with their merchant; our
    callback, in the victim's browser, must refuse a sign-in that browser did not start (the `state` must be bound
    to the starting browser, e.g. a __Host- cookie set at /authorize / consent). Otherwise the attacker's redirect
    URI receives a code for the victim's merchant and the attacker holds a token to all its customers."""
    async with (
        deployment(tmp_path) as dep,
        httpx.AsyncClient(timeout=10) as attacker,
        httpx.AsyncClient(timeout=10) as victim,
    ):
        client = await register(attacker, dep.base, redirect_uris=[EVIL_REDIRECT])
        verifier, challenge = pkce()
        params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": EVIL_REDIRECT,
                  "code_challenge": challenge, "code_challenge_method": "S256", "state": "x",
                  "resource": dep.resource}  # fmt: skip
        started = await attacker.get(f"{dep.base}/authorize", params=params)
        square_url = started.headers.get("location", "")
        if not square_url.startswith(dep.square_url):
            return  # a consent page of our own stands in the way: nothing to hand to a victim
        # The victim's browser (its own cookies) opens the link, approves at Square, comes back to our callback.
        back = await approve_at_square(victim, square_url, "MERCHANTVICTIM")
        landed = await victim.get(back)
        stolen = query_of(landed.headers.get("location", "")).get("code")
        if stolen is None:
            return  # refused: safe
        tokens = await exchange(attacker, dep, client, stolen, verifier, redirect_uri=EVIL_REDIRECT)
        if tokens.status_code == 200:
            made = await call(attacker, dep, tokens.json()["access_token"], "create_customer", given_name="Planted",
                              idempotency_key="attacker")  # fmt: skip
            planted = made.get("structuredContent", {}).get("customer", {}).get("id")
            pytest.fail(f"attacker got a token acting as MERCHANTVICTIM (wrote customer {planted} into "
                        f"{dep.customer_ids_of('MERCHANTVICTIM')})")  # fmt: skip
