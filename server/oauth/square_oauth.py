"""Square's OAuth API, as this server uses it: where to send a person to sign in, the code exchange, refreshes,
token status (Square's token answer does not say which scopes were granted) and revocation."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from square_customers_mcp import __version__
from square_customers_mcp.oauth.config import OAuthSettings

TIMEOUT = 10.0


class SquareOAuthError(Exception):
    """Square refused or could not be reached. The message is safe to show: it never holds a token."""

    def __init__(self, message: str, *, denied: bool = False) -> None:
        super().__init__(message)
        self.denied = denied
        """Square says the grant is no good (401/400): the person must sign in again."""


def pkce_verifier() -> str:
    return secrets.token_urlsafe(48)


def challenge_of(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def epoch(stamp: str | None) -> int | None:
    """Square's RFC 3339 time as epoch seconds."""
    if not stamp:
        return None
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


class SquareOAuth:
    def __init__(self, settings: OAuthSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        self._http = httpx.AsyncClient(
            base_url=settings.square_url,
            transport=transport,
            timeout=TIMEOUT,
            headers={"Accept": "application/json", "User-Agent": f"square-customers-mcp/{__version__}"},
        )

    @property
    def uses_pkce(self) -> bool:
        return self._settings.client_secret is None

    def authorize_url(self, state: str, scopes: list[str], code_challenge: str | None) -> str:
        params = {
            "client_id": self._settings.client_id,
            "scope": " ".join(scopes),
            "state": state,
            "redirect_uri": self._settings.callback_url,
        }
        if code_challenge:
            params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{self._settings.square_url}/oauth2/authorize?{urlencode(params)}"

    def _client_proof(self, verifier: str | None) -> dict[str, str]:
        if self._settings.client_secret:
            return {"client_secret": self._settings.client_secret}
        return {"code_verifier": verifier} if verifier else {}

    async def exchange_code(self, code: str, verifier: str | None) -> dict[str, Any]:
        body = {"client_id": self._settings.client_id, "grant_type": "authorization_code", "code": code,
                "redirect_uri": self._settings.callback_url, **self._client_proof(verifier)}  # fmt: skip
        return await self._post("/oauth2/token", body, "exchanging the sign-in code")

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        body = {"client_id": self._settings.client_id, "grant_type": "refresh_token",
                "refresh_token": refresh_token, **self._client_proof(None)}  # fmt: skip
        return await self._post("/oauth2/token", body, "refreshing the Square token")

    async def scopes(self, access_token: str) -> list[str]:
        status = await self._post(
            "/oauth2/token/status", {}, "reading the token's permissions", auth=f"Bearer {access_token}"
        )
        return [str(scope) for scope in status.get("scopes") or []]

    async def revoke(self, access_token: str) -> None:
        if not self._settings.client_secret:
            return  # Square's revoke needs the application secret; a PKCE-only app can't revoke
        await self._post(
            "/oauth2/revoke",
            {"client_id": self._settings.client_id, "access_token": access_token},
            "revoking the Square token",
            auth=f"Client {self._settings.client_secret}",
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, body: dict[str, Any], doing: str, auth: str | None = None) -> dict[str, Any]:
        try:
            response = await self._http.post(path, json=body, headers={"Authorization": auth} if auth else None)
        except httpx.HTTPError as error:
            raise SquareOAuthError(f"Square could not be reached while {doing} ({type(error).__name__})") from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code != 200 or not isinstance(answer, dict):
            raise SquareOAuthError(
                f"Square answered HTTP {response.status_code} while {doing}{_reason(answer)}",
                denied=response.status_code in (400, 401, 403),
            )
        return answer


def _reason(answer: object) -> str:
    """Square's error code or type, never its message (which could quote what was sent)."""
    if isinstance(answer, dict):
        errors = answer.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict) and errors[0].get("code"):
            return f" ({errors[0]['code']})"
        if isinstance(answer.get("type"), str):
            return f" ({answer['type'][:60]})"
    return ""
