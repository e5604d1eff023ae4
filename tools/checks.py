"""Argument rules JSON Schema cannot say. Each returns messages that start with the JSON path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from tools.schemas import IDENTIFYING_FIELDS

_DIGIT = re.compile(r"\d")
# Square's rule: an optional leading +, digits and the usual separators (space ( ) . -).
_PHONE_CHARS = re.compile(r"\+?[0-9 ().-]+")


def _identifies(fields: Mapping[str, Any]) -> bool:
    return any(isinstance(fields.get(name), str) and fields[name].strip() for name in IDENTIFYING_FIELDS)


def _phone_problem(path: str, phone: Any) -> list[str]:
    if not isinstance(phone, str):
        return []
    if phone == "" or (_PHONE_CHARS.fullmatch(phone) and 9 <= len(_DIGIT.findall(phone)) <= 16):
        return []  # "" is how Square clears a string field
    return [f"{path}: a phone number needs 9-16 digits with an optional leading +, got {phone!r}"]


def _birthday_problem(path: str, birthday: Any) -> list[str]:
    if not isinstance(birthday, str) or not birthday:
        return []
    year, month_day = ("2000", birthday) if len(birthday) == 5 else (birthday[:4], birthday[5:])
    try:
        # Year 0000 is how Square writes "no year"; 2000 is a leap year, so 02-29 stays valid.
        date.fromisoformat(f"{'2000' if year == '0000' else year}-{month_day}")
    except ValueError:
        return [f"{path}: {birthday!r} is not a real date (YYYY-MM-DD or MM-DD)"]
    return []


def fields_are_valid(args: Mapping[str, Any]) -> list[str]:
    """Phone digits and a real birthday, on one customer's fields."""
    return _phone_problem("$.phone_number", args.get("phone_number")) + _birthday_problem(
        "$.birthday", args.get("birthday")
    )


def create_needs_identity(args: Mapping[str, Any]) -> list[str]:
    if _identifies(args):
        return []
    return [f"$: give at least one of {', '.join(IDENTIFYING_FIELDS)}"]


def bulk_create_entries(args: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for key, entry in (args.get("customers") or {}).items():
        if not _identifies(entry):
            problems.append(f"$.customers.{key}: give at least one of {', '.join(IDENTIFYING_FIELDS)}")
        problems += _entry_fields(key, entry)
    return problems


def _entry_fields(key: str, entry: Mapping[str, Any]) -> list[str]:
    return _phone_problem(f"$.customers.{key}.phone_number", entry.get("phone_number")) + _birthday_problem(
        f"$.customers.{key}.birthday", entry.get("birthday")
    )


def _changes(fields: Mapping[str, Any]) -> bool:
    return any(name not in ("customer_id", "version") for name in fields)


def update_changes_something(args: Mapping[str, Any]) -> list[str]:
    return [] if _changes(args) else ["$: name at least one field to change (set it to null to clear it)"]


def bulk_update_entries(args: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for key, entry in (args.get("customers") or {}).items():
        if not _changes(entry):
            problems.append(f"$.customers.{key}: name at least one field to change")
        problems += _entry_fields(key, entry)
    return problems
