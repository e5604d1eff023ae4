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
    if error.validator == "format":
        message = f"{error.instance!r} is not a valid {error.validator_value}"
        if error.cause is not None:
            message += f" ({error.cause})"
    quoted = repr(error.instance)
    if len(quoted) > 60 and quoted in message:
        message = message.replace(quoted, quoted[:40] + "...", 1)
    if len(message) > _MAX_MESSAGE and error.validator != "enum":  # unlisted enums: the values are the fix
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


_NO_DEFAULT = object()


def _says_nothing(value: Any, schema: dict[str, Any]) -> bool:
    if value is None or (isinstance(value, str | list | dict) and not value):
        return True
    default = schema.get("default", _NO_DEFAULT)
    return type(value) is type(default) and value == default


def given(value: Any, schema: Any = None) -> Any:
    """The arguments minus everything that says "not given", at any depth: null, "", [] and {} (objects
    left empty by this too), and a value equal to the `default` its (validation) schema declares.

    Strict adapters send every property: with null where the model had nothing to say (OpenAI's
    nullable pattern), or, where a converter made a property required but not nullable, the emptiest
    value the model can give ("", [], false, an enum's default). That must read exactly like the sparse
    call, and never as "erase" (erasing is the explicit `clear`).
    """
    schema = schema if isinstance(schema, dict) else {}
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        out = {}
        for key, item in value.items():
            found = properties.get(key)
            sub: dict[str, Any] = found if isinstance(found, dict) else {}
            kept = given(item, sub)
            if not _says_nothing(kept, sub):
                out[key] = kept
        return out
    if isinstance(value, list):
        items = schema.get("items")
        return [given(item, items) if isinstance(item, dict | list) else item for item in value]
    return value


def _has_empty_value(value: Any) -> bool:
    if value == "" or value == []:
        return True
    return isinstance(value, dict) and any(_has_empty_value(item) for item in value.values())


def emptied(raw: dict[str, Any], args: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Arguments that must not be empty (minProperties, e.g. a search filter) that the caller filled with
    empty values ("" or []) and so hold nothing once those are dropped. Dropping them would widen the call
    to everything (a filter on an id list that came back empty would match every customer), so they are
    errors. Nulls alone say "no condition" and are simply not given."""
    properties = schema.get("properties") or {}
    return [
        f"$.{name}: every condition in it is empty, so it would match everything; give a condition, or leave "
        "it out (or null) to match all"
        for name, value in raw.items()
        if name not in args and (properties.get(name) or {}).get("minProperties") and _has_empty_value(value)
    ]


def integral(value: Any) -> Any:
    """5.0 passes JSON Schema's integer type; Square must receive 5, not "5.0"."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [integral(item) for item in value]
    return value
