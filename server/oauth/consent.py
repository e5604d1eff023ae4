"""This server's own consent page, between an MCP client's /authorize and Square's sign-in (MCP security best
practices, "Confused Deputy Problem"). Anyone may register a client, and Square's page names only this server's
Square application; so before Square, the person sees which client asks, for what, and where the answer will go.

Approving binds the sign-in to that browser with a cookie (HttpOnly, SameSite=Lax, 10 minutes), which Square's
callback must bring back: a Square sign-in link handed to someone else can't complete in their browser. The form
carries the cookie's value too (double submit), and a cross-site POST carries no Lax cookie, so another site
can't approve on the person's behalf."""

from __future__ import annotations

import hmac
import secrets
from html import escape
from urllib.parse import urlsplit

from mcp.server.auth.provider import construct_redirect_uri
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from square_customers_mcp.oauth.provider import READ, WRITE, SquareSignIn
from square_customers_mcp.oauth.square_oauth import challenge_of
from square_customers_mcp.state.store import Item, digest

_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",  # no clickjacking the Approve button
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
}
_WHAT = {READ: "read your customers, customer groups and segments", WRITE: "create, change and delete customers"}
GONE = "This sign-in is unknown, finished or expired (10 minutes). Start again from your MCP client."


def cookie_name(sign_in: SquareSignIn) -> str:
    # __Host-: only over https, for this host and every path; plain http is for loopback use.
    return "__Host-sqmcp_signin" if sign_in.settings.public_url.startswith("https://") else "sqmcp_signin"


def from_this_browser(sign_in: SquareSignIn, request: Request, pending: Item) -> bool:
    presented = request.cookies.get(cookie_name(sign_in), "")
    return bool(presented) and hmac.compare_digest(digest(presented), str(pending.data.get("browser", "")))


def _page(client_name: str, client_id: str, redirect_uri: str, scopes: list[str], request_id: str, token: str) -> str:
    where = urlsplit(redirect_uri)
    asked = "".join(f"<li><code>{escape(scope)}</code>: {escape(_WHAT.get(scope, scope))}</li>" for scope in scopes)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Allow access to Square?</title>
<style>body{{font-family:sans-serif;max-width:36em;margin:3em auto;line-height:1.4}}code{{word-break:break-all}}</style>
</head><body><h1>Allow access to your Square account?</h1>
<p><strong>{escape(client_name)}</strong> (client <code>{escape(client_id)}</code>) asks to use the Square Customers
MCP server as you. It will be able to:</p><ul>{asked}</ul>
<p>After you sign in at Square, you will be sent to <code>{escape(where.scheme)}://{escape(where.netloc)}</code>
(<code>{escape(redirect_uri)}</code>). Only continue if you started this from that application.</p>
<form method="post"><input type="hidden" name="request" value="{escape(request_id)}">
<input type="hidden" name="token" value="{escape(token)}">
<button name="decision" value="approve">Continue to Square</button>
<button name="decision" value="deny">Cancel</button></form></body></html>"""


def consent_endpoint(sign_in: SquareSignIn):  # type: ignore[no-untyped-def]  # a Starlette endpoint
    async def consent(request: Request) -> Response:
        if request.method == "POST":
            return await _decide(sign_in, request)
        request_id = request.query_params.get("request", "")
        pending = await sign_in.store.get("pending", request_id) if 0 < len(request_id) <= 200 else None
        client = await sign_in.get_client(pending.client_id) if pending else None
        if pending is None or client is None:
            return PlainTextResponse(GONE, status_code=400, headers=_HEADERS)
        # Whoever opens the page last owns the sign-in: an earlier viewer's cookie stops working.
        browser = secrets.token_urlsafe(32)
        await sign_in.store.update("pending", request_id, pending.data | {"browser": digest(browser)})
        html = _page(client.client_name or "An unnamed application", pending.client_id, pending.data["redirect_uri"],
                     pending.data["scopes"], request_id, browser)  # fmt: skip
        response = HTMLResponse(html, headers=_HEADERS)
        response.set_cookie(cookie_name(sign_in), browser, max_age=sign_in.lifetimes.sign_in, path="/",
                            secure=sign_in.settings.public_url.startswith("https://"), httponly=True, samesite="lax")  # fmt: skip
        return response

    return consent


async def _decide(sign_in: SquareSignIn, request: Request) -> Response:
    form = await request.form()
    request_id, token = str(form.get("request", "")), str(form.get("token", ""))
    pending = await sign_in.store.get("pending", request_id) if 0 < len(request_id) <= 200 else None
    if pending is None:
        return PlainTextResponse(GONE, status_code=400, headers=_HEADERS)
    presented = request.cookies.get(cookie_name(sign_in), "")
    if not (presented and hmac.compare_digest(presented, token) and from_this_browser(sign_in, request, pending)):
        return PlainTextResponse("This consent was not given on the page this browser opened.", status_code=403,
                                 headers=_HEADERS)  # fmt: skip
    if form.get("decision") != "approve":
        await sign_in.store.take("pending", request_id)
        url = construct_redirect_uri(pending.data["redirect_uri"], error="access_denied",
                                     error_description="the person declined", state=pending.data["state"])  # fmt: skip
        return RedirectResponse(url, status_code=303, headers=_HEADERS)
    verifier = pending.data.get("verifier")
    url = sign_in.square.authorize_url(request_id, pending.data["scopes"], challenge_of(verifier) if verifier else None)
    return RedirectResponse(url, status_code=303, headers=_HEADERS)
