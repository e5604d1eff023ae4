"""Masking of personal data in results, for hosts that must not show email or phone to the model."""

from __future__ import annotations

import re
from typing import Any

_NOT_DIGIT = re.compile(r"\D")


def mask_email(email: str) -> str:
    local, at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if at else "***"


def mask_phone(phone: str) -> str:
    digits = _NOT_DIGIT.sub("", phone)
    plus = "+" if phone.strip().startswith("+") else ""
    if len(digits) <= 5:
        return plus + "*" * len(digits)
    return f"{plus}{digits[0]}{'*' * (len(digits) - 5)}{digits[-4:]}"


def redact_pii(value: Any) -> Any:
    """A copy of a trimmed result with every email_address and phone_number masked."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "email_address" and isinstance(item, str):
                out[key] = mask_email(item)
            elif key == "phone_number" and isinstance(item, str):
                out[key] = mask_phone(item)
            else:
                out[key] = redact_pii(item)
        return out
    if isinstance(value, list):
        return [redact_pii(item) for item in value]
    return value


def masked_values(value: Any, path: str = "$") -> list[str]:
    """JSON paths of email/phone arguments that look like what SQUARE_REDACT_PII shows the model."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("email_address", "phone_number") and isinstance(item, str) and "***" in item:
                found.append(f"{path}.{key}")
            else:
                found += masked_values(item, f"{path}.{key}")
    elif isinstance(value, list):  # bulk entries
        for index, item in enumerate(value):
            found += masked_values(item, f"{path}[{index}]")
    return found
