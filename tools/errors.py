"""How Square's error objects read to a model: the code, the field, the detail, what to do next."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# What the agent can do about each error code it may meet on the Customers API.
NEXT_STEP: dict[str, str] = {
    "NOT_FOUND": "check the id; search_customers or list_customers finds customers",
    "CUSTOMER_NOT_FOUND": "check the id; search_customers or list_customers finds customers",
    "CONFLICT": "retrieve the customer for its current version and retry with it",
    "VERSION_MISMATCH": "retrieve the customer for its current version and retry with it",
    "IDEMPOTENCY_KEY_REUSED": "use a new idempotency_key for different data",
    "UNAUTHORIZED": "check SQUARE_ACCESS_TOKEN and SQUARE_ENVIRONMENT",
    "ACCESS_TOKEN_EXPIRED": "renew the access token",
    "ACCESS_TOKEN_REVOKED": "issue a new access token",
    "FORBIDDEN": "the token lacks permission for this operation",
    "INSUFFICIENT_SCOPES": "grant the token CUSTOMERS_READ/CUSTOMERS_WRITE",
    "RATE_LIMITED": "wait a few seconds and retry",
    "INVALID_CURSOR": "start again without a cursor",
    "CARD_DECLINED": "the card was declined; ask for another card",
}
_RETRY_LATER = "Square had a problem; retry the call later"


def describe_error(error: Mapping[str, Any]) -> str:
    code = str(error.get("code") or "ERROR")
    field = error.get("field")
    head = f"{code} ({field})" if field else code
    detail = error.get("detail")
    return f"{head}: {detail}" if detail else head


def describe_errors(errors: Iterable[Mapping[str, Any]]) -> str:
    return "; ".join(describe_error(error) for error in errors)


def next_step(codes: Iterable[str], status: int, hints: Mapping[str, str] | None = None) -> str | None:
    """What to do next: the tool's own hint for a code first, then the general one."""
    for code in codes:
        if hints and code in hints:
            return hints[code]
        if code in NEXT_STEP:
            return NEXT_STEP[code]
    if status >= 500:
        return _RETRY_LATER
    return None


def square_error_text(
    status: int, body: Any, text: str, *, step: bool = True, hints: Mapping[str, str] | None = None
) -> str:
    """Square's error answer (status, parsed body, raw text) as the model reads it: CODE (field): detail.
    Next step: ... (the tool's `hints` first)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and all(isinstance(e, Mapping) for e in errors):
        said = describe_errors(errors).rstrip(".")
        codes = [str(e.get("code")) for e in errors]
        if status >= 500:
            said += f" (HTTP {status})"
    else:
        snippet = " ".join(text.split())[:200] or "empty body"
        if status < 400:
            said = f"UNEXPECTED_RESPONSE: Square answered HTTP {status} without a JSON object ({snippet})"
        else:
            said = f"HTTP_{status}: Square answered without a JSON error ({snippet})"
        codes = []
    hint = next_step(codes, status, hints) if step else None
    return f"{said}. Next step: {hint}." if hint else f"{said}."
