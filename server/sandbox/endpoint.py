"""What every sandbox endpoint shares: bearer auth, JSON bodies, Square error bodies, the Square-Version echo."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from square_customers_mcp.sandbox.errors import API_ERROR, AUTHENTICATION, JSON, SquareError
from square_customers_mcp.sandbox.store import Store

Handler = Callable[[Request, Store], Awaitable[JSON]]
log = logging.getLogger("square_customers_mcp.sandbox")


def authorize(request: Request) -> None:
    """Any bearer token passes unless the app was built with `token=`; then only that one, compared in constant time."""
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
    expected: str | None = request.app.state.token
    if expected is not None and not hmac.compare_digest(token.encode(), expected.encode()):
        raise SquareError("UNAUTHORIZED", "This request could not be authorized.", status=401, category=AUTHENTICATION)


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
    return body


def respond(request: Request, body: JSON, status: int = 200) -> Response:
    response = JSONResponse(body, status_code=status)
    version = request.headers.get("square-version")
    if version:
        response.headers["Square-Version"] = version
    return response


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        try:
            authorize(request)
            return respond(request, await handler(request, request.app.state.store))
        except SquareError as error:
            return respond(request, error.body(), error.status)
        except Exception:  # a bug in the sandbox: answer like Square's 500, keep the trace in the log
            log.exception("sandbox error on %s %s", request.method, request.url.path)
            failure = SquareError("INTERNAL_SERVER_ERROR", "The local API failed to handle this request.", status=500)
            failure.category = API_ERROR
            return respond(request, failure.body(), 500)

    run.__name__ = handler.__name__
    return run


async def http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods, as Square-shaped errors rather than Starlette's plain text."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "BAD_REQUEST")
    detail = f"{request.method} {request.url.path} is not an endpoint of the Square Customers API sandbox."
    return respond(request, SquareError(code, detail, status=status).body(), status)
