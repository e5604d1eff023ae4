"""Where Square sends the person back after its sign-in page (CALLBACK_PATH): check our `state`, exchange Square's
code for the person's Square tokens (which stay on the server, sealed), learn the granted scopes, and send the
person on to their MCP client's redirect URI with our own authorization code."""

from __future__ import annotations

import logging

from mcp.server.auth.provider import construct_redirect_uri
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from square_customers_mcp.oauth.consent import GONE, from_this_browser
from square_customers_mcp.oauth.provider import SquareSignIn
from square_customers_mcp.oauth.square_oauth import SquareOAuthError, epoch
from square_customers_mcp.state.store import Item

log = logging.getLogger("square_customers_mcp.oauth")
_NO_STORE = {"Cache-Control": "no-store"}


def _back(pending: Item, **params: str | None) -> Response:
    """Redirect to the MCP client's redirect URI (checked against its registration at /authorize)."""
    url = construct_redirect_uri(pending.data["redirect_uri"], state=pending.data["state"], **params)
    return RedirectResponse(url, status_code=302, headers=_NO_STORE)


def callback_endpoint(sign_in: SquareSignIn):  # type: ignore[no-untyped-def]  # a Starlette endpoint
    async def square_callback(request: Request) -> Response:
        state = request.query_params.get("state", "")
        # Only the `state` we sent Square finds the sign-in, once: a forged, replayed or stale callback finds nothing;
        # and only in the browser that consented to it (oauth/consent.py): a Square link sent to someone else fails.
        pending = await sign_in.store.get("pending", state) if 0 < len(state) <= 200 else None
        if pending is not None and not from_this_browser(sign_in, request, pending):
            return PlainTextResponse(
                "This sign-in was started in another browser. Start again from your MCP client.",
                status_code=403,
                headers=_NO_STORE,
            )
        pending = await sign_in.store.take("pending", state) if pending is not None else None
        if pending is None:
            return PlainTextResponse(GONE, status_code=400, headers=_NO_STORE)
        if request.query_params.get("error"):
            # Square's own error text is not passed on: the client learns the standard code.
            return _back(pending, error="access_denied", error_description="the Square sign-in was not approved")
        code = request.query_params.get("code", "")
        if not code:
            return _back(pending, error="server_error", error_description="Square sent no authorization code")
        try:
            tokens = await sign_in.square.exchange_code(code, pending.data.get("verifier"))
            granted = await sign_in.square.scopes(str(tokens["access_token"]))
        except (SquareOAuthError, KeyError) as error:
            log.warning("Square sign-in failed: %s", error if isinstance(error, SquareOAuthError) else "no token")
            return _back(pending, error="server_error", error_description="Square's token exchange failed")
        scopes = [scope for scope in pending.data["scopes"] if scope in granted]
        if not scopes:
            return _back(
                pending, error="access_denied", error_description="Square granted none of the permissions asked"
            )
        square = {
            "access_token": tokens["access_token"],
            "refresh_token": tokens.get("refresh_token"),
            "expires_at": epoch(tokens.get("expires_at")),
        }
        grant_id = await sign_in.store.new_grant(pending.client_id, str(tokens.get("merchant_id", "")), scopes, square)
        our_code = await sign_in.issue_code(pending, grant_id, scopes)
        log.info("signed in a Square merchant for client %s with %s", pending.client_id, " ".join(scopes))
        return _back(pending, code=our_code)

    return square_callback
