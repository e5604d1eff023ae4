"""What every sandbox endpoint shares: bearer auth, the Square-Version check and answer, the documented query
parameters, JSON bodies, Square error bodies."""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from square_customers_mcp.sandbox import oauth_tokens
from square_customers_mcp.sandbox.errors import AUTHENTICATION, JSON, SquareError
from square_customers_mcp.sandbox.merchants import DEFAULT_PRINCIPAL, Principal
from square_customers_mcp.sandbox.square_facts import QUERY_PARAMETERS
from square_customers_mcp.sandbox.store import Store
from square_customers_mcp.sandbox.validate import reject_unknown_query
from square_customers_mcp.sandbox.versions import requested_version, response_version

Handler = Callable[[Request, Store], Awaitable[JSON]]
log = logging.getLogger("square_customers_mcp.sandbox")


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise SquareError(
            "UNAUTHORIZED",
            "This request could not be authorized: send an `Authorization: Bearer <access token>` header.",
            status=401,
            category=AUTHENTICATION,
        )
    return token


async def authorize(request: Request) -> Principal:
    """Who the request acts for. An OAuth access token this local API issued: its merchant and scopes (expired or
    revoked: 401). Any other token: the default merchant with every scope, as long as it is the configured token
    (`token=`, compared in constant time) or none was configured."""
    token = bearer_token(request)
    if token.startswith(oauth_tokens.ACCESS_PREFIX):  # only tokens shaped like ours cost a look-up
        row = await request.app.state.store.read(lambda conn: oauth_tokens.access_token_row(conn, token))
        if row is not None:
            state = oauth_tokens.token_state(row)
            if state == "revoked":
                raise SquareError("ACCESS_TOKEN_REVOKED", "The access token has been revoked.", status=401)
            if state == "expired":
                raise SquareError("ACCESS_TOKEN_EXPIRED", "The access token has expired: refresh it.", status=401)
            return oauth_tokens.principal_of(row)
    expected: str | None = request.app.state.token
    if expected is not None and not hmac.compare_digest(token.encode(), expected.encode()):
        raise SquareError("UNAUTHORIZED", "This request could not be authorized.", status=401, category=AUTHENTICATION)
    return DEFAULT_PRINCIPAL


def insufficient_scopes(scope: str) -> SquareError:
    return SquareError(
        "INSUFFICIENT_SCOPES",
        f"The access token lacks a permission this call needs; the merchant must authorize the scope {scope}.",
        status=403,
    )


async def json_body(request: Request) -> JSON:
    """The request body as a JSON object; an empty body counts as `{}`."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise SquareError("EXPECTED_JSON_BODY", f"The request body is not valid JSON: {error}.") from None
    except RecursionError:  # json recurses per nesting level; no Square body nests more than a few levels
        raise SquareError("BAD_REQUEST", "The request body nests JSON arrays or objects too deeply.") from None
    if not isinstance(body, dict):
        raise SquareError("EXPECTED_OBJECT", "The request body must be a JSON object.")
    if _SURROGATE_ESCAPE.search(raw):  # the only way a body's strings can hold one: raw UTF-8 cannot
        where = _lone_surrogate(body)
        if where is not None:
            # Not Unicode: SQLite could not store it (a 500, which clients retry), nor could an answer carry it.
            raise SquareError(
                "INVALID_VALUE",
                f"{f'`{where}`' if where else 'A key of the request body'} holds a lone surrogate escape "
                "(\\ud800-\\udfff without its pair), which is not Unicode text.",
                field=where or None,
            )
    return body


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _lone_surrogate(body: JSON) -> str | None:
    """The path (`customer.note`, `customers.K.tax_ids.eu_vat`) of the first string or key that is not Unicode (a
    lone surrogate), "" when it is a key, None when there is none. Iterative: nesting depth is not bounded here."""
    stack: list[tuple[str, object]] = [("", body)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if not _is_unicode(value):
                return path
        elif isinstance(value, dict):
            for key, item in value.items():
                if not _is_unicode(key):
                    return ""
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def respond(request: Request, body: JSON, status: int = 200) -> Response:
    """Every answer names the Square-Version it was made with, as Square's do: the request's, or the default
    when it sent none (none when the request's version was refused)."""
    response = JSONResponse(body, status_code=status)
    version = response_version(request.headers)
    if version is not None:
        response.headers["Square-Version"] = version
    return response


def endpoint(handler: Handler, scope: str | None = None) -> Callable[[Request], Awaitable[Response]]:
    """`handler` as a route. The request's Principal (authorize) goes into `request.state.principal`; a route
    whose operation needs `scope` refuses a token without it (403 INSUFFICIENT_SCOPES)."""

    async def run(request: Request) -> Response:
        try:
            principal = await authorize(request)
            if scope is not None and not principal.allows(scope):
                raise insufficient_scopes(scope)
            request.state.principal = principal
            requested_version(request.headers)
            # The spec's query parameters of the operation this handler serves (named after it); None: not one.
            allowed = QUERY_PARAMETERS.get(handler.__name__)
            if allowed is not None:
                reject_unknown_query(request.query_params, allowed)
            return respond(request, await handler(request, request.app.state.store))
        except SquareError as error:
            return respond(request, error.body(), error.status)
        except Exception:  # a bug in the sandbox: answer like Square's 500, keep the trace in the log
            log.exception("sandbox error on %s %s", request.method, request.url.path)
            failure = SquareError("INTERNAL_SERVER_ERROR", "The local API failed to handle this request.", status=500)
            return respond(request, failure.body(), 500)

    run.__name__ = handler.__name__
    return run


async def http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods, as Square-shaped errors rather than Starlette's plain text."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "BAD_REQUEST")
    detail = f"{request.method} {request.url.path} is not an endpoint of the Square Customers API sandbox."
    return respond(request, SquareError(code, detail, status=status).body(), status)
