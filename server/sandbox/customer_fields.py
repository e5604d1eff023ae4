"""The rules for a customer's writable fields: types, lengths, formats, and how create and update read them."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from square_customers_mcp.sandbox.errors import JSON, SquareError
from square_customers_mcp.sandbox.square_facts import COUNTRIES
from square_customers_mcp.sandbox.validate import expect_object, join, opt_int, opt_object, opt_str, reject_unknown

# Square's documented maximum lengths; None means the spec gives no limit.
TEXT_FIELDS: dict[str, int | None] = {
    "given_name": 300,
    "family_name": 300,
    "company_name": 500,
    "nickname": 100,
    "email_address": 254,
    "phone_number": None,
    "reference_id": 100,
    "note": None,
    "birthday": None,
}
IDENTITY_FIELDS = ("given_name", "family_name", "company_name", "email_address", "phone_number")
ADDRESS_FIELDS = (
    "address_line_1",
    "address_line_2",
    "address_line_3",
    "locality",
    "sublocality",
    "sublocality_2",
    "sublocality_3",
    "administrative_district_level_1",
    "administrative_district_level_2",
    "administrative_district_level_3",
    "postal_code",
    "country",
)
# Square ignores these two on customer addresses; the sandbox accepts and drops them the same way.
IGNORED_ADDRESS_FIELDS = ("first_name", "last_name")
CREATE_FIELDS = (*TEXT_FIELDS, "address", "tax_ids")
UPDATE_FIELDS = (*CREATE_FIELDS, "version")
EU_VAT_MAX = 20

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_PHONE = re.compile(r"^\+?[0-9 ().\-]+$")
_BIRTHDAY_FULL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_BIRTHDAY_SHORT = re.compile(r"^(\d{2})-(\d{2})$")
_ALNUM = re.compile(r"^[A-Za-z0-9]+$")

MISSING_IDENTITY_DETAIL = (
    "At least one of given_name, family_name, company_name, email_address, or phone_number is required for a customer."
)


def phone_digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def check_phone(value: str, field: str) -> str:
    digits = phone_digits(value)
    if not _PHONE.fullmatch(value) or "+" in value[1:] or not 9 <= len(digits) <= 16:
        raise SquareError(
            "INVALID_PHONE_NUMBER",
            f"`{value}` is not a valid phone number: use 9 to 16 digits with an optional leading `+`.",
            field=field,
        )
    return value


def to_e164(value: str) -> str:
    """The standard E.164 form Square compares exact phone searches against.

    Without a `+`, the sandbox assumes the North American plan: ten digits get country code 1.
    """
    digits = phone_digits(value)
    if not value.strip().startswith("+") and len(digits) == 10:
        digits = "1" + digits
    return "+" + digits


def check_email(value: str, field: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise SquareError("INVALID_EMAIL_ADDRESS", f"`{value}` is not a valid email address.", field=field)
    return value


def check_birthday(value: str, field: str) -> str:
    """`YYYY-MM-DD` or `MM-DD`, a real date; stored as `YYYY-MM-DD` with `0000` for no year."""
    full = _BIRTHDAY_FULL.fullmatch(value)
    short = _BIRTHDAY_SHORT.fullmatch(value)
    if full:
        year, month, day = (int(part) for part in full.groups())
    elif short:
        year, (month, day) = 0, (int(part) for part in short.groups())
    else:
        year = month = day = -1
    try:
        date(year or 2000, month, day)  # year 0000 means "no year": allow 02-29 as a leap year does
    except ValueError:
        raise SquareError(
            "INVALID_TIME", f"`{value}` is not a valid birthday: use `YYYY-MM-DD` or `MM-DD`.", field=field
        ) from None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _check_text(name: str, value: str, field: str) -> str:
    limit = TEXT_FIELDS[name]
    if limit is not None and len(value) > limit:
        raise SquareError(
            "VALUE_TOO_LONG", f"`{field}` must be at most {limit} characters long; got {len(value)}.", field=field
        )
    if name == "email_address":
        return check_email(value, field)
    if name == "phone_number":
        return check_phone(value, field)
    if name == "birthday":
        return check_birthday(value, field)
    return value


def read_address(value: JSON, field: str) -> dict[str, str | None]:
    """Address fields present in the request: a value, or None to clear it (null or empty string)."""
    reject_unknown(value, (*ADDRESS_FIELDS, *IGNORED_ADDRESS_FIELDS), field)
    out: dict[str, str | None] = {}
    for key in ADDRESS_FIELDS:
        if key not in value:
            continue
        text = opt_str(value, key, field)
        if text and key == "country" and text not in COUNTRIES:
            path = join(field, key)
            raise SquareError(
                "INVALID_ENUM_VALUE", f"`{text[:40]}` is not a country code of Square's Country enum.", field=path
            )
        out[key] = text or None
    for key in IGNORED_ADDRESS_FIELDS:
        opt_str(value, key, field)  # type-checked, then dropped
    return out


def read_tax_ids(value: JSON, field: str) -> dict[str, str | None]:
    reject_unknown(value, ("eu_vat",), field)
    if "eu_vat" not in value:
        return {}
    vat = opt_str(value, "eu_vat", field)
    path = join(field, "eu_vat")
    if vat and len(vat) > EU_VAT_MAX:
        raise SquareError("VALUE_TOO_LONG", f"`{path}` must be at most {EU_VAT_MAX} characters long.", field=path)
    if vat and not _ALNUM.fullmatch(vat):
        raise SquareError("INVALID_VALUE", f"`{path}` may contain letters and digits only.", field=path)
    return {"eu_vat": vat or None}


def read_changes(body: JSON, prefix: str = "") -> dict[str, Any]:
    """Every customer field present in `body`, checked. None (from null or "") means "clear this field".

    `address` and `tax_ids` map to None (clear all) or a dict of their own present sub-fields.
    """
    changes: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        if name not in body:
            continue
        value = opt_str(body, name, prefix)
        changes[name] = _check_text(name, value, join(prefix, name)) if value else None
    for name, reader in (("address", read_address), ("tax_ids", read_tax_ids)):
        if name not in body:
            continue
        nested = opt_object(body, name, prefix)
        changes[name] = None if nested is None else reader(nested, join(prefix, name))
    return changes


def read_create(body: JSON, prefix: str = "", *, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of a new customer, only those set (nulls and empty strings mean "not set")."""
    expect_object(body, prefix or None)
    reject_unknown(body, (*CREATE_FIELDS, *extra), prefix)
    changes = read_changes(body, prefix)
    fields = {key: value for key, value in changes.items() if value is not None}
    for nested in ("address", "tax_ids"):
        if nested in fields:
            kept = {key: value for key, value in fields[nested].items() if value is not None}
            if kept:
                fields[nested] = kept
            else:
                del fields[nested]
    require_identity(fields)
    return fields


def read_update(body: JSON, prefix: str = "") -> tuple[dict[str, Any], int | None]:
    """(changes, expected version) of a sparse update."""
    expect_object(body, prefix or None)
    reject_unknown(body, UPDATE_FIELDS, prefix)
    return read_changes(body, prefix), opt_int(body, "version", prefix)


def require_identity(fields: dict[str, Any]) -> None:
    if not any(fields.get(name) for name in IDENTITY_FIELDS):
        raise SquareError("BAD_REQUEST", MISSING_IDENTITY_DETAIL)


def apply_changes(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The customer's fields after a sparse update; address and tax_ids merge field by field."""
    merged = dict(current)
    for name, value in changes.items():
        if name in ("address", "tax_ids") and value is not None:
            nested = {**(merged.get(name) or {}), **value}
            nested = {key: item for key, item in nested.items() if item is not None}
            value = nested or None
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged
