"""Square's OAuth API, emulated: the authorize (consent) page, ObtainToken, RevokeToken, RetrieveTokenStatus.

The consent page stands in for Square's seller sign-in: whoever uses it names the merchant to act as, so it is a
test fixture, not a login. Registered applications are in `app.state.oauth_apps` (oauth_apps.py); codes and
tokens are in the store (oauth_tokens.py).
"""

from __future__ import annotations

import html
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from square_customers_mcp.sandbox import oauth_tokens as tokens
from square_customers_mcp.sandbox.endpoint import authorize, bearer_token, json_body, respond
from square_customers_mcp.sandbox.errors import SquareError
from square_customers_mcp.sandbox.merchants import MERCHANT_ID, ensure_merchant, known_merchants
from square_customers_mcp.sandbox.oauth_apps import DEFAULT_SCOPES, SQUARE_SCOPES, OAuthApp
from square_customers_mcp.sandbox.oauth_tokens import OAuthError, bad_request, not_authorized
from square_customers_mcp.sandbox.seed import DEFAULT_MERCHANT_ID

log = logging.getLogger("square_customers_mcp.sandbox")
_AUTHORIZE_FIELDS = ("client_id", "scope", "state", "redirect_uri", "code_challenge", "code_challenge_method")
_TOKEN_FIELDS = frozenset(
    {"client_id", "client_secret", "code", "redirect_uri", "grant_type", "refresh_token", "migration_token",
     "scopes", "short_lived", "code_verifier"}
)  # fmt: skip


class ConsentError(Exception):
    """An authorize request that can't be trusted with a redirect: shown as an error page instead."""


def _apps(request: Request) -> dict[str, OAuthApp]:
    apps: dict[str, OAuthApp] = request.app.state.oauth_apps
    return apps


def _checked_authorize(request: Request, params: Mapping[str, str]) -> dict[str, Any]:
    """The authorize parameters, checked before anything is shown or any redirect is made."""
    app = _apps(request).get(params.get("client_id", ""))
    if app is None:
        raise ConsentError("Unknown client_id: no application with this id is registered with the local API.")
    redirect_uri = params.get("redirect_uri") or None
    if redirect_uri is not None and redirect_uri not in app.redirect_uris:
        raise ConsentError("redirect_uri is not one the application registered (they must match exactly).")
    if redirect_uri is None and len(app.redirect_uris) != 1:
        raise ConsentError("The application registered several redirect URIs: name one with redirect_uri.")
    raw_scope = params.get("scope", "")
    scopes = list(dict.fromkeys(raw_scope.replace("+", " ").split())) or list(DEFAULT_SCOPES)
    unknown = [scope for scope in scopes if scope not in SQUARE_SCOPES]
    if unknown:
        raise ConsentError(f"Unknown scope(s): {', '.join(unknown)}. Use Square permission names.")
    challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or ("S256" if challenge else None)
    if challenge is not None and method != "S256":
        raise ConsentError("code_challenge_method must be S256.")
    if challenge is None and app.public:
        raise ConsentError("This application has no client secret, so it must use PKCE: send a code_challenge.")
    return {
        "app": app,
        "redirect_uri": redirect_uri,
        "target": redirect_uri or app.redirect_uris[0],
        "scopes": scopes,
        "state": params.get("state"),
        "code_challenge": challenge,
    }


def _error_page(message: str) -> HTMLResponse:
    body = f"<!doctype html><title>Authorization error</title><h1>Authorization error</h1><p>{html.escape(message)}"
    return HTMLResponse(body, status_code=400)


def _consent_page(params: Mapping[str, str], checked: dict[str, Any], merchants: list[str]) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params[name])}">'
        for name in _AUTHORIZE_FIELDS
        if params.get(name)
    )
    options = "".join(f'<option value="{html.escape(merchant)}">' for merchant in merchants)
    scopes = "".join(f"<li>{html.escape(scope)}</li>" for scope in checked["scopes"])
    body = (
        "<!doctype html><title>Local API: authorize</title>"
        f"<h1>{html.escape(checked['app'].client_id)} asks for access</h1>"
        f"<p>Permissions asked:</p><ul>{scopes}</ul>"
        f'<form method="post" action="/oauth2/authorize">{hidden}'
        '<label>Sign in as merchant <input name="merchant_id" list="merchants" '
        f'value="{DEFAULT_MERCHANT_ID}" pattern="[A-Z0-9]{{8,32}}" required></label>'
        f'<datalist id="merchants">{options}</datalist> '
        '<button name="decision" value="approve">Approve</button> '
        '<button name="decision" value="deny" formnovalidate>Deny</button></form>'
    )
    return HTMLResponse(body)


def _back_to_app(target: str, params: dict[str, str]) -> RedirectResponse:
    separator = "&" if "?" in target else "?"
    return RedirectResponse(target + separator + urlencode(params), status_code=302)


async def authorize_page(request: Request) -> Response:
    params = dict(request.query_params)
    try:
        checked = _checked_authorize(request, params)
    except ConsentError as error:
        return _error_page(str(error))
    merchants = await request.app.state.store.read(known_merchants)
    return _consent_page(params, checked, merchants)


async def authorize_decision(request: Request) -> Response:
    """The consent form's answer: a code (approve) or access_denied (deny), sent to the registered redirect URI."""
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    try:
        checked = _checked_authorize(request, form)
    except ConsentError as error:
        return _error_page(str(error))
    state = {"state": checked["state"]} if checked["state"] else {}
    if form.get("decision") != "approve":
        return _back_to_app(checked["target"], {"error": "access_denied", "error_description": "user_denied"} | state)
    merchant_id = form.get("merchant_id", "")
    if not MERCHANT_ID.fullmatch(merchant_id):
        return _error_page("merchant_id must be 8 to 32 capital letters and digits, like Square's merchant ids.")

    def work(conn: sqlite3.Connection) -> str:
        ensure_merchant(conn, merchant_id)
        return tokens.issue_code(
            conn, checked["app"].client_id, merchant_id, checked["scopes"], checked["redirect_uri"],
            checked["code_challenge"],
        )  # fmt: skip

    code = await request.app.state.store.write(work)
    return _back_to_app(checked["target"], {"code": code, "response_type": "code"} | state)


def _oauth_endpoint(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except OAuthError as error:
            return JSONResponse(error.body(), status_code=error.status)
        except SquareError as error:
            return respond(request, error.body(), error.status)

    run.__name__ = handler.__name__
    return run


async def _body(request: Request) -> dict[str, Any]:
    """The body as the other endpoints read it (json_body: JSON, an object, Unicode text, not too deep), its
    refusals in the OAuth endpoints' error shape."""
    try:
        body = await json_body(request)
    except SquareError as error:
        raise bad_request(error.detail) from None
    return {key: value for key, value in body.items() if value is not None}  # null means "not given"


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"`{name}` must be a string.")
    return value or None


async def obtain_token(request: Request) -> Response:
    body = await _body(request)
    unknown = sorted(set(body) - _TOKEN_FIELDS)
    if unknown:
        raise bad_request(f"Unknown field(s): {', '.join(unknown)}.")
    client_id, grant_type = _text(body, "client_id"), _text(body, "grant_type")
    if not client_id or not grant_type:
        raise bad_request("`client_id` and `grant_type` are required.")
    app = _apps(request).get(client_id)
    if app is None:
        raise not_authorized("Not Authorized: unknown client_id.")
    secret_ok = tokens.same(_text(body, "client_secret"), app.client_secret)
    short_lived = body.get("short_lived", False)
    requested = body.get("scopes")
    if not isinstance(short_lived, bool):
        raise bad_request("`short_lived` must be true or false.")
    if requested is not None and (not isinstance(requested, list) or not all(isinstance(s, str) for s in requested)):
        raise bad_request("`scopes` must be a list of permission names.")
    lifetime: float = request.app.state.token_lifetime

    if grant_type == "authorization_code":
        code = _text(body, "code")
        if not code:
            raise bad_request("`code` is required for grant_type authorization_code.")
        redirect_uri, verifier = _text(body, "redirect_uri"), _text(body, "code_verifier")

        def exchange(conn: sqlite3.Connection) -> dict[str, Any]:
            grant = tokens.redeem_code(conn, client_id, code, redirect_uri, secret_ok, verifier)
            return tokens.issue_tokens(conn, grant, grant.scopes, lifetime, short_lived)

        answer = await _write_keeping_error(request, exchange)
    elif grant_type == "refresh_token":
        refresh = _text(body, "refresh_token")
        if not refresh:
            raise bad_request("`refresh_token` is required for grant_type refresh_token.")

        def renew(conn: sqlite3.Connection) -> dict[str, Any]:
            grant = tokens.use_refresh_token(conn, client_id, refresh, secret_ok)
            # Code flow: the same refresh token comes back; PKCE: a new single-use one.
            again = None if grant.pkce else refresh
            return tokens.issue_tokens(conn, grant, tokens.narrowed(grant, requested), lifetime, short_lived, again)

        answer = await _write_keeping_error(request, renew)
    else:
        raise bad_request("`grant_type` must be authorization_code or refresh_token (migration_token is legacy).")
    return JSONResponse(answer)


async def _write_keeping_error(request: Request, work: Callable[[sqlite3.Connection], dict[str, Any]]) -> Any:
    """Run `work` in a write; an OAuthError still commits what was done before it (a reused code's revocation)."""
    failure: list[OAuthError] = []

    def guarded(conn: sqlite3.Connection) -> dict[str, Any] | None:
        try:
            return work(conn)
        except OAuthError as error:
            failure.append(error)
            return None

    answer = await request.app.state.store.write(guarded)
    if failure:
        raise failure[0]
    return answer


async def revoke_token(request: Request) -> Response:
    body = await _body(request)
    unknown = sorted(set(body) - {"client_id", "access_token", "merchant_id", "revoke_only_access_token"})
    if unknown:
        raise bad_request(f"Unknown field(s): {', '.join(unknown)}.")
    client_id = _text(body, "client_id")
    app = _apps(request).get(client_id or "")
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if app is None or scheme.lower() != "client" or not tokens.same(secret.strip(), app.client_secret):
        raise not_authorized("Not Authorized: send `Authorization: Client <application secret>` and its client_id.")
    access_token, merchant_id = _text(body, "access_token"), _text(body, "merchant_id")
    if (access_token is None) == (merchant_id is None):
        raise bad_request("Send either `access_token` or `merchant_id`, not both and not neither.")
    only_access = body.get("revoke_only_access_token", False) is True
    done = await request.app.state.store.write(
        lambda conn: tokens.revoke(conn, app.client_id, access_token, merchant_id, only_access)
    )
    if not done:
        raise OAuthError(404, "not_found", "No token of this application matches.")
    return JSONResponse({"success": True})


async def token_status(request: Request) -> Response:
    """RetrieveTokenStatus: an expired, revoked or unknown token is UNAUTHORIZED here, as the spec says."""
    token = bearer_token(request)
    if token.startswith(tokens.ACCESS_PREFIX):
        row = await request.app.state.store.read(lambda conn: tokens.access_token_row(conn, token))
        if row is None or tokens.token_state(row) != "valid":
            raise SquareError("UNAUTHORIZED", "The access token is expired, revoked or unknown.", status=401)
        return respond(request, tokens.status_of(row))
    principal = await authorize(request)  # a token that is not an OAuth one: the configured or any token
    return respond(request, {"scopes": ["CUSTOMERS_READ", "CUSTOMERS_WRITE"], "merchant_id": principal.merchant_id})


OAUTH_ROUTES = [
    Route("/oauth2/authorize", authorize_page, methods=["GET"]),
    Route("/oauth2/authorize", authorize_decision, methods=["POST"]),
    Route("/oauth2/token", _oauth_endpoint(obtain_token), methods=["POST"]),
    Route("/oauth2/revoke", _oauth_endpoint(revoke_token), methods=["POST"]),
    Route("/oauth2/token/status", _oauth_endpoint(token_status), methods=["POST"]),
]
