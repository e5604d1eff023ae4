"""Square's OAuth, emulated: consent, code flow with a secret and with PKCE, refresh, revoke, token status, scopes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from oauth_support import (
    MERCHANT_A,
    PKCE_APP,
    SECRET_APP,
    bearer,
    consent,
    pkce_pair,
    token_for,
)
from sandbox_support import BASE_URL, error_of, make_client
from spec_facts import operations, validate_schema
from starlette.applications import Starlette

from square_customers_mcp.sandbox import create_app, oauth_tokens
from square_customers_mcp.sandbox.oauth_apps import OAuthConfigError, load_file, parse_cli_app
from square_customers_mcp.sandbox.routes import ROUTES

pytestmark = pytest.mark.anyio


@pytest.fixture
def oauth_app() -> Iterator[Starlette]:
    application = create_app(":memory:", oauth_apps=[SECRET_APP, PKCE_APP], token_lifetime=3600)
    yield application
    application.state.store.close()


@pytest.fixture
async def http(oauth_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A plain client: Square's OAuth endpoints answer errors as {"message", "type"}, outside the v2 schemas."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=oauth_app), base_url=BASE_URL) as plain:
        yield plain


@pytest.fixture
async def checked(oauth_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(oauth_app) as client:
        yield client


def _exchange(code: str, **extra: Any) -> dict[str, Any]:
    return {"client_id": SECRET_APP["client_id"], "code": code, "grant_type": "authorization_code"} | extra


async def test_code_flow_with_a_secret(http: httpx.AsyncClient, checked: httpx.AsyncClient) -> None:
    sent_back = await consent(http, SECRET_APP, merchant=MERCHANT_A)
    assert sent_back["state"] == "xyz-state" and sent_back["code"]
    response = await http.post("/oauth2/token", json=_exchange(sent_back["code"], client_secret="sq0csp-test-secret"))
    assert response.status_code == 200, response.text
    answer = response.json()
    validate_schema(answer, "ObtainTokenResponse")
    assert answer["token_type"] == "bearer" and answer["merchant_id"] == MERCHANT_A
    assert answer["short_lived"] is False and "refresh_token_expires_at" not in answer  # code flow: never expires
    assert answer["expires_at"].endswith("Z")

    made = await checked.post("/v2/customers", json={"given_name": "Ada"}, headers=bearer(answer["access_token"]))
    assert made.status_code == 200
    status = await checked.post("/oauth2/token/status", headers=bearer(answer["access_token"]))
    assert status.json() == {
        "scopes": ["CUSTOMERS_READ", "CUSTOMERS_WRITE"],
        "expires_at": answer["expires_at"],
        "client_id": SECRET_APP["client_id"],
        "merchant_id": MERCHANT_A,
    }


@pytest.mark.parametrize(
    ("change", "status", "kind"),
    [
        ({"client_secret": "wrong-secret"}, 401, "service.not_authorized"),
        ({}, 401, "service.not_authorized"),  # no secret and no PKCE
        ({"client_secret": "sq0csp-test-secret", "client_id": "sq0idp-nobody"}, 401, "service.not_authorized"),
        ({"client_secret": "sq0csp-test-secret", "code": "sq0cgb-localmadeup"}, 401, "service.not_authorized"),
        ({"client_secret": "sq0csp-test-secret", "grant_type": "client_credentials"}, 400, "bad_request"),
        ({"client_secret": "sq0csp-test-secret", "surprise": 1}, 400, "bad_request"),
    ],
)
async def test_a_wrong_exchange_is_refused(
    http: httpx.AsyncClient, change: dict[str, Any], status: int, kind: str
) -> None:
    code = (await consent(http, SECRET_APP))["code"]
    response = await http.post("/oauth2/token", json=_exchange(code) | change)
    assert response.status_code == status
    assert response.json()["type"] == kind and response.json()["message"]


async def test_a_code_works_once_and_a_second_use_ends_the_first(http: httpx.AsyncClient) -> None:
    code = (await consent(http, SECRET_APP))["code"]
    first = await http.post("/oauth2/token", json=_exchange(code, client_secret="sq0csp-test-secret"))
    assert first.status_code == 200
    again = await http.post("/oauth2/token", json=_exchange(code, client_secret="sq0csp-test-secret"))
    assert again.status_code == 401 and "already claimed" in again.json()["message"]
    answer = await http.get("/v2/customers", headers=bearer(first.json()["access_token"]))
    assert answer.status_code == 401 and error_of(answer)["code"] == "ACCESS_TOKEN_REVOKED"


async def test_an_expired_code_is_refused(http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oauth_tokens, "CODE_LIFETIME", -1.0)
    code = (await consent(http, SECRET_APP))["code"]
    response = await http.post("/oauth2/token", json=_exchange(code, client_secret="sq0csp-test-secret"))
    assert response.status_code == 401 and "expired" in response.json()["message"]


async def test_the_redirect_uri_of_the_exchange_must_match(http: httpx.AsyncClient) -> None:
    verifier, challenge = pkce_pair()
    code = (await consent(http, PKCE_APP, challenge=challenge, redirect_uri="http://127.0.0.1:9/other"))["code"]
    body = {"client_id": PKCE_APP["client_id"], "code": code, "grant_type": "authorization_code",
            "code_verifier": verifier}  # fmt: skip
    wrong = await http.post("/oauth2/token", json=body | {"redirect_uri": "http://127.0.0.1:9/pkce"})
    assert wrong.status_code == 400
    right = await http.post("/oauth2/token", json=body | {"redirect_uri": "http://127.0.0.1:9/other"})
    assert right.status_code == 200


async def test_pkce_flow_and_rotating_refresh_tokens(http: httpx.AsyncClient) -> None:
    verifier, challenge = pkce_pair()
    sent_back = await consent(http, PKCE_APP, challenge=challenge, redirect_uri="http://127.0.0.1:9/pkce")
    body = {"client_id": PKCE_APP["client_id"], "code": sent_back["code"], "grant_type": "authorization_code",
            "redirect_uri": "http://127.0.0.1:9/pkce"}  # fmt: skip
    wrong = await http.post("/oauth2/token", json=body | {"code_verifier": pkce_pair()[0]})
    assert wrong.status_code == 401
    first = await http.post("/oauth2/token", json=body | {"code_verifier": verifier})
    assert first.status_code == 200, first.text
    tokens = first.json()
    assert tokens["refresh_token_expires_at"]  # PKCE refresh tokens expire (90 days)

    refresh = {"client_id": PKCE_APP["client_id"], "grant_type": "refresh_token"}
    renewed = await http.post("/oauth2/token", json=refresh | {"refresh_token": tokens["refresh_token"]})
    assert renewed.status_code == 200
    assert renewed.json()["refresh_token"] != tokens["refresh_token"]  # rotated
    reused = await http.post("/oauth2/token", json=refresh | {"refresh_token": tokens["refresh_token"]})
    assert reused.status_code == 401  # single use
    latest = await http.post("/oauth2/token", json=refresh | {"refresh_token": renewed.json()["refresh_token"]})
    assert latest.status_code == 200
    assert (await http.get("/v2/customers", headers=bearer(latest.json()["access_token"]))).status_code == 200


async def test_code_flow_refresh_returns_the_same_token_and_can_narrow_scopes(http: httpx.AsyncClient) -> None:
    tokens = await token_for(http, MERCHANT_A)
    body = {"client_id": SECRET_APP["client_id"], "client_secret": "sq0csp-test-secret",
            "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}  # fmt: skip
    assert (await http.post("/oauth2/token", json=body | {"client_secret": "nope"})).status_code == 401
    narrowed = await http.post("/oauth2/token", json=body | {"scopes": ["CUSTOMERS_READ", "ORDERS_READ"]})
    assert narrowed.status_code == 200 and narrowed.json()["refresh_token"] == tokens["refresh_token"]
    again = await http.post("/oauth2/token", json=body)  # a code-flow refresh token is reusable
    assert again.status_code == 200
    status = await http.post("/oauth2/token/status", headers=bearer(narrowed.json()["access_token"]))
    assert status.json()["scopes"] == ["CUSTOMERS_READ"]  # the intersection with what was granted


async def test_deny_sends_access_denied_back(http: httpx.AsyncClient) -> None:
    sent_back = await consent(http, SECRET_APP, decision="deny")
    assert sent_back == {"error": "access_denied", "error_description": "user_denied", "state": "xyz-state"}


@pytest.mark.parametrize(
    "params",
    [
        {"client_id": "sq0idp-unknown", "scope": "CUSTOMERS_READ"},
        {"client_id": SECRET_APP["client_id"], "redirect_uri": "http://127.0.0.1:9/cb/evil"},
        {"client_id": SECRET_APP["client_id"], "scope": "CUSTOMERS_READ CUSTOMERS_EVERYTHING"},
        {"client_id": PKCE_APP["client_id"], "redirect_uri": "http://127.0.0.1:9/pkce"},  # public client, no PKCE
        {"client_id": PKCE_APP["client_id"], "code_challenge": "abc"},  # two redirect URIs, none named
    ],
)
async def test_a_bad_authorize_request_gets_an_error_page_never_a_redirect(
    http: httpx.AsyncClient, params: dict[str, str]
) -> None:
    for response in (
        await http.get("/oauth2/authorize", params=params),
        await http.post("/oauth2/authorize", data=params | {"merchant_id": MERCHANT_A, "decision": "approve"}),
    ):
        assert response.status_code == 400 and "location" not in response.headers
        assert "Authorization error" in response.text


async def test_plus_separated_scopes_and_a_bad_merchant_id(http: httpx.AsyncClient) -> None:
    page = await http.get("/oauth2/authorize?client_id=sq0idp-secret-app&scope=CUSTOMERS_READ+CUSTOMERS_WRITE&state=s")
    assert page.status_code == 200 and "CUSTOMERS_WRITE" in page.text
    form = {"client_id": SECRET_APP["client_id"], "scope": "CUSTOMERS_READ", "decision": "approve"}
    bad = await http.post("/oauth2/authorize", data=form | {"merchant_id": "lower<script>"})
    assert bad.status_code == 400 and "<script>" not in bad.text


async def test_revoke_ends_the_tokens(http: httpx.AsyncClient) -> None:
    tokens = await token_for(http, MERCHANT_A)
    body = {"client_id": SECRET_APP["client_id"], "access_token": tokens["access_token"]}
    wrong = await http.post("/oauth2/revoke", json=body, headers={"Authorization": "Client not-the-secret"})
    assert wrong.status_code == 401
    assert (await http.post("/oauth2/revoke", json=body, headers=bearer("sq0csp-test-secret"))).status_code == 401
    done = await http.post("/oauth2/revoke", json=body, headers={"Authorization": "Client sq0csp-test-secret"})
    assert done.json() == {"success": True}
    refused = await http.get("/v2/customers", headers=bearer(tokens["access_token"]))
    assert refused.status_code == 401 and error_of(refused) == {
        "category": "AUTHENTICATION_ERROR",
        "code": "ACCESS_TOKEN_REVOKED",
        "detail": "The access token has been revoked.",
    }
    refresh = {"client_id": SECRET_APP["client_id"], "client_secret": "sq0csp-test-secret",
               "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}  # fmt: skip
    assert (await http.post("/oauth2/token", json=refresh)).status_code == 401  # the whole authorization ended
    status = await http.post("/oauth2/token/status", headers=bearer(tokens["access_token"]))
    assert status.status_code == 401 and error_of(status)["code"] == "UNAUTHORIZED"


async def test_revoke_only_the_access_token_keeps_the_authorization(http: httpx.AsyncClient) -> None:
    tokens = await token_for(http, MERCHANT_A)
    body = {"client_id": SECRET_APP["client_id"], "access_token": tokens["access_token"],
            "revoke_only_access_token": True}  # fmt: skip
    done = await http.post("/oauth2/revoke", json=body, headers={"Authorization": "Client sq0csp-test-secret"})
    assert done.status_code == 200
    assert (await http.get("/v2/customers", headers=bearer(tokens["access_token"]))).status_code == 401
    refresh = {"client_id": SECRET_APP["client_id"], "client_secret": "sq0csp-test-secret",
               "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}  # fmt: skip
    renewed = await http.post("/oauth2/token", json=refresh)
    assert (await http.get("/v2/customers", headers=bearer(renewed.json()["access_token"]))).status_code == 200


async def test_revoke_by_merchant_id(http: httpx.AsyncClient) -> None:
    tokens = await token_for(http, MERCHANT_A)
    body = {"client_id": SECRET_APP["client_id"], "merchant_id": MERCHANT_A}
    done = await http.post("/oauth2/revoke", json=body, headers={"Authorization": "Client sq0csp-test-secret"})
    assert done.json() == {"success": True}
    assert (await http.get("/v2/customers", headers=bearer(tokens["access_token"]))).status_code == 401


async def test_an_expired_access_token_is_refused() -> None:
    application = create_app(":memory:", oauth_apps=[SECRET_APP], token_lifetime=0.2)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url=BASE_URL) as http:
            tokens = await token_for(http, MERCHANT_A)
            assert (await http.get("/v2/customers", headers=bearer(tokens["access_token"]))).status_code == 200
            await anyio.sleep(0.3)
            expired = await http.get("/v2/customers", headers=bearer(tokens["access_token"]))
            assert expired.status_code == 401 and error_of(expired)["code"] == "ACCESS_TOKEN_EXPIRED"
            assert error_of(expired)["category"] == "AUTHENTICATION_ERROR"
    finally:
        application.state.store.close()


def _concrete(path: str) -> str:
    return path.format(customer_id="CUSTOMER0000000000000000001", group_id="GROUP", segment_id="SEG", card_id="CARD")


async def test_a_read_only_token_is_refused_every_write_and_allowed_every_read(
    http: httpx.AsyncClient, checked: httpx.AsyncClient
) -> None:
    read_only = bearer((await token_for(http, MERCHANT_A, scope="CUSTOMERS_READ"))["access_token"])
    write_only = bearer((await token_for(http, MERCHANT_A, scope="CUSTOMERS_WRITE"))["access_token"])
    for path, method, handler, scope in ROUTES:
        body = {} if method in ("POST", "PUT") else None
        as_reader = await checked.request(method, _concrete(path), json=body, headers=read_only)
        as_writer = await checked.request(method, _concrete(path), json=body, headers=write_only)
        refused, allowed = (as_writer, as_reader) if scope == "CUSTOMERS_READ" else (as_reader, as_writer)
        assert refused.status_code == 403, (handler.__name__, refused.text)
        assert error_of(refused)["code"] == "INSUFFICIENT_SCOPES"
        assert error_of(refused)["category"] == "AUTHENTICATION_ERROR"
        assert scope in error_of(refused)["detail"]
        assert allowed.status_code != 403, (handler.__name__, allowed.text)


def test_each_route_needs_the_scope_squares_spec_gives_it() -> None:
    required = {
        (method, path): operation["security"][0]["oauth2"]
        for method, path, operation in operations()
        if path.startswith("/v2/")
    }
    assert {(method, path): [scope] for path, method, _, scope in ROUTES} == required


async def test_tokens_and_codes_are_stored_only_as_hashes(oauth_app: Starlette, http: httpx.AsyncClient) -> None:
    tokens = await token_for(http, MERCHANT_A)

    def dump(conn: sqlite3.Connection) -> str:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return repr([list(map(tuple, conn.execute(f"SELECT * FROM {table}"))) for table in tables])

    stored = oauth_app.state.store.read_sync(dump)
    assert tokens["access_token"] not in stored and tokens["refresh_token"] not in stored
    assert oauth_tokens.digest(tokens["access_token"]) in stored


def test_bad_applications_are_refused() -> None:
    with pytest.raises(OAuthConfigError, match="redirect_uris"):
        create_app(":memory:", oauth_apps=[{"client_id": "x", "redirect_uris": []}])
    with pytest.raises(OAuthConfigError, match="twice"):
        create_app(":memory:", oauth_apps=[SECRET_APP, SECRET_APP])
    application = create_app(":memory:", oauth_apps=[SECRET_APP])
    assert "sq0csp-test-secret" not in repr(application.state.oauth_apps)  # a secret never reaches a log line
    application.state.store.close()


async def test_any_other_token_still_acts_for_the_default_merchant(checked: httpx.AsyncClient) -> None:
    status = await checked.post("/oauth2/token/status")
    assert status.json() == {"scopes": ["CUSTOMERS_READ", "CUSTOMERS_WRITE"], "merchant_id": "SANDBOXMERCH1"}


def test_applications_from_a_file_and_the_command_line(tmp_path: Path) -> None:
    apps_file = tmp_path / "apps.json"
    apps_file.write_text(json.dumps([SECRET_APP]))
    assert load_file(str(apps_file))[0].client_secret == SECRET_APP["client_secret"]
    public = parse_cli_app("sq0idp-cli:http://127.0.0.1:3000/cb?x=1")
    assert public.client_id == "sq0idp-cli" and public.redirect_uris == ("http://127.0.0.1:3000/cb?x=1",)
    assert public.public
    with pytest.raises(OAuthConfigError, match="CLIENT_ID:REDIRECT_URI"):
        parse_cli_app("no-uri")
    apps_file.write_text("{not json")
    with pytest.raises(OAuthConfigError, match="not valid JSON"):
        load_file(str(apps_file))


@pytest.mark.parametrize("path", ["/oauth2/token", "/oauth2/revoke"])
async def test_a_lone_surrogate_in_an_oauth_body_is_a_400_never_a_500(http: httpx.AsyncClient, path: str) -> None:
    body = b'{"client_id": "sq0idp-secret-app", "client_secret": "sq0csp-test-secret", '
    body += b'"grant_type": "authorization_code", "code": "\\udc00", "access_token": "\\ud800"}'
    auth = {"Authorization": "Client sq0csp-test-secret"}
    response = await http.post(path, content=body, headers={"Content-Type": "application/json", **auth})
    assert response.status_code == 400, response.text
