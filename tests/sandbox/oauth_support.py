"""Helpers for the OAuth and merchant tests: registered apps, the consent step followed programmatically, tokens."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

SECRET_APP = {"client_id": "sq0idp-secret-app", "client_secret": "sq0csp-test-secret", "redirect_uris": ["http://127.0.0.1:9/cb"]}  # fmt: skip
PKCE_APP = {"client_id": "sq0idp-pkce-app", "redirect_uris": ["http://127.0.0.1:9/pkce", "http://127.0.0.1:9/other"]}
APPS = [SECRET_APP, PKCE_APP]
MERCHANT_A = "MERCHANTAAAAA"
MERCHANT_B = "MERCHANTBBBBB"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def redirect_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {key: values[0] for key, values in parse_qs(urlsplit(response.headers["location"]).query).items()}


async def consent(
    http: httpx.AsyncClient,
    app: dict[str, Any],
    *,
    scope: str = "CUSTOMERS_READ CUSTOMERS_WRITE",
    merchant: str = MERCHANT_A,
    challenge: str | None = None,
    redirect_uri: str | None = None,
    decision: str = "approve",
    state: str = "xyz-state",
) -> dict[str, str]:
    """Open the consent page as a browser would, then submit it: the parameters sent back to the app."""
    params = {"client_id": app["client_id"], "scope": scope, "state": state}
    if redirect_uri:
        params["redirect_uri"] = redirect_uri
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    page = await http.get("/oauth2/authorize", params=params)
    assert page.status_code == 200, page.text
    assert "<form" in page.text
    form = params | {"merchant_id": merchant, "decision": decision}
    return redirect_params(await http.post("/oauth2/authorize", data=form))


async def token_for(
    http: httpx.AsyncClient, merchant: str, scope: str = "CUSTOMERS_READ CUSTOMERS_WRITE"
) -> dict[str, Any]:
    """A code-flow ObtainToken answer for `merchant`."""
    code = (await consent(http, SECRET_APP, scope=scope, merchant=merchant))["code"]
    response = await http.post(
        "/oauth2/token",
        json={"client_id": SECRET_APP["client_id"], "client_secret": SECRET_APP["client_secret"],
              "code": code, "grant_type": "authorization_code"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
