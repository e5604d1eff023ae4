"""Square credentials are stored sealed (Fernet: AES-128-CBC + HMAC-SHA256, from `cryptography`) under keys from
SQUARE_MCP_STATE_KEY, so a copy of the state database alone gives away no Square token.

Rotation: put a new key first and keep the old ones after it (comma-separated). Everything is sealed with the
first key and opened with any of them; each person's credentials are sealed again on every Square refresh (at
least weekly while in use), so an old key can be dropped once no credentials sealed with it are left."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

NEW_KEY_HINT = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


class SealError(Exception):
    pass


class Sealer:
    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise SealError(f"SQUARE_MCP_STATE_KEY is empty; make a key with: {NEW_KEY_HINT}")
        try:
            self._fernet = MultiFernet([Fernet(part.encode()) for part in parts])
        except (ValueError, TypeError):
            # Never quote the value: it is a secret, even when malformed.
            raise SealError(
                "SQUARE_MCP_STATE_KEY must be one or more Fernet keys (32 url-safe base64 bytes), comma-separated, "
                f"newest first; make one with: {NEW_KEY_HINT}"
            ) from None

    def seal(self, value: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        try:
            value = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            raise SealError(
                "stored Square credentials can't be opened with any key in SQUARE_MCP_STATE_KEY "
                "(was the key that sealed them removed?)"
            ) from None
        if not isinstance(value, dict):
            raise SealError("stored Square credentials are not an object")
        return value
