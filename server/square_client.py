"""The one async client that talks to Square (or the local sandbox) over HTTP."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from server import __version__
from server.config import Settings

# Any bearer token opens the local sandbox, as any Square token opens Square's.
LOCAL_TOKEN = "local-sandbox"  # noqa: S105 - not a secret, the sandbox accepts any token


@dataclass(frozen=True)
class SquareResponse:
    status: int
    body: Any
    """Parsed JSON, or None when Square sent no JSON."""
    text: str
    """The raw body, for errors that are not JSON."""


class SquareClient:
    """Builds Square requests (auth, Square-Version, JSON) and returns parsed responses.

    The transport is injected: httpx's default for Square, an ASGI transport for the in-process
    sandbox, a MockTransport in tests. Connection errors and timeouts propagate as httpx errors.
    """

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        token = settings.access_token or LOCAL_TOKEN
        self._http = httpx.AsyncClient(
            base_url=settings.resolved_base_url,
            transport=transport,
            timeout=httpx.Timeout(settings.timeout_seconds, connect=min(10.0, settings.timeout_seconds)),
            headers={
                "Authorization": f"Bearer {token}",
                "Square-Version": settings.square_version,
                "Accept": "application/json",
                "User-Agent": f"square-customers-mcp/{__version__}",
            },
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> SquareResponse:
        response = await self._http.request(
            method,
            path,
            params=_query_params(query),
            content=None if body is None else json.dumps(body, separators=(",", ":")),
            headers={"Content-Type": "application/json"} if body is not None else None,
        )
        text = response.text
        try:
            parsed = response.json() if text else None
        except ValueError:
            parsed = None
        return SquareResponse(response.status_code, parsed, text)

    async def aclose(self) -> None:
        await self._http.aclose()


def expand_path(template: str, values: dict[str, Any]) -> str:
    """Fill a path template, percent-encoding each value so it stays one path segment."""
    path = template
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    return path


def _query_params(query: dict[str, Any] | None) -> dict[str, str] | None:
    if not query:
        return None
    # Square expects lower-case booleans in query strings.
    return {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in query.items()}
