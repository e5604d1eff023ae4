"""Masking of personal data in results, for hosts that must not show email or phone to the model.

Two halves: what the model sees is masked (fields by name, and any email- or phone-looking text in
errors, notes and progress), and what the model sends may not probe the real values piece by piece
(fuzzy email/phone filters would let it rebuild a masked value one character at a time)."""

from __future__ import annotations

import re
from typing import Any

PII_FIELDS = ("email_address", "phone_number")
"""The fields SQUARE_REDACT_PII masks, in results and in search filters alike."""
FUZZY = "fuzzy"
"""The text-filter key that matches part of a value (the other, `exact`, matches the whole of it)."""
OPAQUE_KEYS = frozenset({"id", "customer_id", "group_id", "card_id", "cursor", "next_cursor", "idempotency_key"})
"""Result keys whose values are tokens the model passes back verbatim: never rewritten by text masking."""

_NOT_DIGIT = re.compile(r"\D")
# local@domain: anything but spaces, quotes, brackets and separators on either side of one `@`. Matched
# only from the start of such a run, without backtracking (possessive), so a long run costs linear time.
_EMAIL = re.compile(r"(?<![^\s@\"<>()\[\]{},;:`\\])[^\s@\"<>()\[\]{},;:`\\]++@[^\s@\"'<>()\[\]{},;:`\\]++")
# An optional `+`, then digits with the separators phones are written with; not part of a longer token
# (an id, a UUID, a base64 cursor); bounded, so each start costs a few steps and a long run linear time.
_PHONE = re.compile(r"(?<![\w+/=\-.])\+?\(?\d[\d ().\-]{0,28}\d(?![\w\-])")
_FIRST_GROUP = re.compile(r"\+?\(?\d+\)?[ ().\-]*")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_PHONE_DIGITS = range(7, 17)
_MASK = re.compile(r"\*\*\*@|\d\*+\d{4}(?!\d)")  # what mask_email and mask_phone leave in a text


def mask_email(email: str) -> str:
    local, at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if at else "***"


def mask_phone(phone: str) -> str:
    digits = _NOT_DIGIT.sub("", phone)
    plus = "+" if phone.strip().startswith("+") else ""
    if len(digits) <= 5:
        return plus + "*" * len(digits)
    return f"{plus}{digits[0]}{'*' * (len(digits) - 5)}{digits[-4:]}"


def _phone_or_not(match: re.Match[str]) -> str:
    text = match.group()
    digits = len(_NOT_DIGIT.sub("", text))
    if digits > _PHONE_DIGITS.stop - 1:  # numbers run together ("2 4155550199"): a phone may start later
        head = _FIRST_GROUP.match(text)
        cut = head.end() if head else len(text)
        return text[:cut] + _PHONE.sub(_phone_or_not, text[cut:])
    if digits not in _PHONE_DIGITS or _DATE.fullmatch(text):
        return text  # too short for a phone, or a date (a birthday)
    return mask_phone(text)


def mask_text(text: str) -> str:
    """`text` with every email- and phone-looking substring masked as the fields are (idempotent)."""
    return _PHONE.sub(_phone_or_not, _EMAIL.sub(lambda match: mask_email(match.group()), text))


def redact_pii(value: Any, key: str = "") -> Any:
    """A copy of a result with email_address and phone_number masked, and email/phone-looking text in
    any other string (notes, per-entry errors) masked too; ids and cursors are kept as they are."""
    if isinstance(value, dict):
        return {name: redact_pii(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [redact_pii(item, key) for item in value]
    if not isinstance(value, str) or key in OPAQUE_KEYS or key.endswith("_ids"):
        return value
    if key == "email_address":
        return mask_email(value)
    if key == "phone_number":
        return mask_phone(value)
    return mask_text(value)


def masked_values(value: Any, path: str = "$", key: str = "") -> list[str]:
    """JSON paths of arguments holding what SQUARE_REDACT_PII shows the model: a masked email or phone
    field, or a mask inside other text (a note read back, edited and written would lose the real value)."""
    if isinstance(value, dict):
        return [found for name, item in value.items() for found in masked_values(item, f"{path}.{name}", name)]
    if isinstance(value, list):  # bulk entries
        return [found for index, item in enumerate(value) for found in masked_values(item, f"{path}[{index}]", key)]
    if isinstance(value, str) and ("***" in value if key in PII_FIELDS else _MASK.search(value)):
        return [path]
    return []


def fuzzy_pii_filters(value: Any, path: str = "$") -> list[str]:
    """JSON paths of fuzzy filters on a masked field (e.g. $.filter.phone_number.fuzzy): each answer to
    one says whether the hidden value contains the guessed piece, so repeated ones rebuild it."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in PII_FIELDS and isinstance(item, dict) and item.get(FUZZY) is not None:
                found.append(f"{path}.{key}.{FUZZY}")
            else:
                found += fuzzy_pii_filters(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += fuzzy_pii_filters(item, f"{path}[{index}]")
    return found
