"""Argument rules JSON Schema cannot say. Each returns messages that start with the JSON path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from square_customers_mcp.tools.schemas import IDENTIFYING_FIELDS

_DIGIT = re.compile(r"\d")
# Square's rule: an optional leading +, digits and the usual separators (space ( ) . -).
_PHONE_CHARS = re.compile(r"\+?[0-9 ().-]+")


def _identifies(fields: Mapping[str, Any]) -> bool:
    return any(isinstance(fields.get(name), str) and fields[name].strip() for name in IDENTIFYING_FIELDS)


def _phone_problem(path: str, phone: Any) -> list[str]:
    if not isinstance(phone, str):
        return []
    if _PHONE_CHARS.fullmatch(phone) and 9 <= len(_DIGIT.findall(phone)) <= 16:
        return []
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


def _entry_problems(path: str, fields: Mapping[str, Any]) -> list[str]:
    return _phone_problem(f"{path}.phone_number", fields.get("phone_number")) + _birthday_problem(
        f"{path}.birthday", fields.get("birthday")
    )


def fields_are_valid(args: Mapping[str, Any]) -> list[str]:
    """Phone digits and a real birthday, on one customer's fields."""
    return _entry_problems("$", args)


def create_needs_identity(args: Mapping[str, Any]) -> list[str]:
    if _identifies(args):
        return []
    return [f"$: give at least one of {', '.join(IDENTIFYING_FIELDS)}"]


def _duplicates(path: str, entries: list[Mapping[str, Any]], key: str) -> list[str]:
    seen: set[Any] = set()
    problems = []
    for index, entry in enumerate(entries):
        if key in entry and entry[key] in seen:
            problems.append(f"{path}[{index}].{key}: {entry[key]!r} is already used by an earlier entry")
        seen.add(entry.get(key))
    return problems


def bulk_create_entries(args: Mapping[str, Any]) -> list[str]:
    entries = args.get("customers") or []
    problems = _duplicates("$.customers", entries, "idempotency_key")
    for index, entry in enumerate(entries):
        path = f"$.customers[{index}]"
        if not _identifies(entry):
            problems.append(f"{path}: give at least one of {', '.join(IDENTIFYING_FIELDS)}")
        problems += _entry_problems(path, entry)
    return problems


def _is_set(fields: Mapping[str, Any], name: str) -> bool:
    """Whether the call sets `name` (a field, or "address.<line>"), or a part of it."""
    head, _, part = name.partition(".")
    if head not in fields:
        return False
    return not part or part in (fields[head] or {})


def _update_problems(path: str, fields: Mapping[str, Any]) -> list[str]:
    if not any(name not in ("customer_id", "version") for name in fields):
        return [f"{path}: name at least one field to change, or list fields to erase in clear"]
    both = [name for name in fields.get("clear") or () if _is_set(fields, name)]
    problems = [f"{path}.clear: {name} is both set and cleared; do one or the other" for name in both]
    return problems + _entry_problems(path, fields)


def update_changes_something(args: Mapping[str, Any]) -> list[str]:
    return _update_problems("$", args)


def bulk_update_entries(args: Mapping[str, Any]) -> list[str]:
    entries = args.get("customers") or []
    problems = _duplicates("$.customers", entries, "customer_id")
    for index, entry in enumerate(entries):
        problems += _update_problems(f"$.customers[{index}]", entry)
    return problems
