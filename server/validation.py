"""Argument checking for the dispatcher: JSON Schema with ECMA-262 pattern anchoring, messages a model
can act on, and the normalisations and guards applied to arguments before they are sent."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

_MAX_MESSAGE = 240


def describe(error: ValidationError) -> str:
    # jsonschema quotes the offending value first; a 1 MB string must not hide the reason.
    message = error.message
    quoted = repr(error.instance)
    if len(quoted) > 60 and quoted in message:
        message = message.replace(quoted, quoted[:40] + "...", 1)
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    return f"{error.json_path}: {message}"


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    # ECMA-262 `$` (which JSON Schema uses) matches only at the very end; Python's also matches
    # before a final newline, which would let "ID\n" through.
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterable[ValidationError]:
    if isinstance(instance, str) and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


StrictValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})  # type: ignore[no-untyped-call]


def integral(value: Any) -> Any:
    """5.0 passes JSON Schema's integer type; Square must receive 5, not "5.0"."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [integral(item) for item in value]
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
    return found
