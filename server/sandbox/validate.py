"""Type checks for request bodies and query strings, raising Square's error codes with the field's path."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from square_customers_mcp.sandbox.errors import JSON, SquareError


def join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def expect_object(value: Any, field: str | None) -> JSON:
    if not isinstance(value, dict):
        raise SquareError("EXPECTED_OBJECT", f"Expected `{field or 'body'}` to be an object.", field=field)
    return value


def reject_unknown(obj: Mapping[str, Any], allowed: Iterable[str], prefix: str = "") -> None:
    """Square answers an unknown body field with an error naming it; so does the sandbox."""
    known = set(allowed)
    for key in obj:
        if key not in known:
            path = join(prefix, key)
            raise SquareError("UNKNOWN_BODY_PARAMETER", f"Unknown field `{path}`.", field=path)


def reject_unknown_query(params: Mapping[str, str], allowed: Iterable[str]) -> None:
    """Square answers a query parameter its endpoint doesn't document with an error naming it; so does the
    sandbox (`allowed`: the endpoint's documented names, from the spec)."""
    known = set(allowed)
    for key in params:
        if key not in known:
            raise SquareError("UNKNOWN_QUERY_PARAMETER", f"Unknown query parameter `{key[:100]}`.", field=key[:100])


def opt_str(obj: Mapping[str, Any], key: str, prefix: str = "") -> str | None:
    """A string field; None when absent or null (callers that must tell the two apart check `key in obj`)."""
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    path = join(prefix, key)
    raise SquareError("EXPECTED_STRING", f"Expected `{path}` to be a string.", field=path)


def opt_int(obj: Mapping[str, Any], key: str, prefix: str = "") -> int | None:
    value = obj.get(key)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    path = join(prefix, key)
    raise SquareError("EXPECTED_INTEGER", f"Expected `{path}` to be an integer.", field=path)


def opt_bool(obj: Mapping[str, Any], key: str, prefix: str = "") -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    path = join(prefix, key)
    raise SquareError("EXPECTED_BOOLEAN", f"Expected `{path}` to be a boolean.", field=path)


def opt_object(obj: Mapping[str, Any], key: str, prefix: str = "") -> JSON | None:
    value = obj.get(key)
    if value is None:
        return None
    return expect_object(value, join(prefix, key))


def opt_str_list(obj: Mapping[str, Any], key: str, prefix: str = "", max_items: int | None = None) -> list[str] | None:
    value = obj.get(key)
    if value is None:
        return None
    path = join(prefix, key)
    if not isinstance(value, list):
        raise SquareError("EXPECTED_ARRAY", f"Expected `{path}` to be an array.", field=path)
    if max_items is not None and len(value) > max_items:
        raise SquareError(
            "ARRAY_LENGTH_TOO_LONG",
            f"`{path}` must contain at most {max_items} items; got {len(value)}.",
            field=path,
        )
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise SquareError("INVALID_ARRAY_VALUE", f"Expected `{path}[{index}]` to be a string.", field=path)
    return value


def check_enum(value: str, allowed: Iterable[str], field: str) -> str:
    choices = tuple(allowed)
    if value not in choices:
        raise SquareError(
            "INVALID_ENUM_VALUE",
            f"`{value}` is not a valid value for `{field}`; expected one of {', '.join(choices)}.",
            field=field,
        )
    return value


def check_limit(value: int | None, field: str, maximum: int, default: int) -> int:
    if value is None:
        return default
    if value < 1:
        raise SquareError("VALUE_TOO_LOW", f"`{field}` must be at least 1; got {value}.", field=field)
    if value > maximum:
        raise SquareError("VALUE_TOO_HIGH", f"`{field}` must be at most {maximum}; got {value}.", field=field)
    return value


def query_int(params: Mapping[str, str], key: str) -> int | None:
    """An integer query parameter (`?limit=10`); None when absent."""
    raw = params.get(key)
    if raw is None:
        return None
    # Plain decimal digits only: Python's int() would also take "1_0" or " +5 ".
    if not re.fullmatch(r"-?[0-9]{1,18}", raw):
        raise SquareError("EXPECTED_INTEGER", f"Expected `{key}` to be an integer; got `{raw}`.", field=key)
    return int(raw)


def query_bool(params: Mapping[str, str], key: str) -> bool:
    raw = params.get(key)
    if raw is None:
        return False
    lowered = raw.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise SquareError("EXPECTED_BOOLEAN", f"Expected `{key}` to be a boolean; got `{raw}`.", field=key)


def map_entries(body: JSON, key: str, maximum: int = 100) -> JSON:
    """The `customers` map of a bulk create/update: 1 to `maximum` entries."""
    if key not in body or body[key] is None:
        raise SquareError("MISSING_REQUIRED_PARAMETER", f"Field `{key}` is required.", field=key)
    value = body[key]
    if not isinstance(value, dict):
        raise SquareError("EXPECTED_MAP", f"Expected `{key}` to be a map.", field=key)
    if not value:
        raise SquareError("VALUE_EMPTY", f"`{key}` must contain between 1 and {maximum} entries.", field=key)
    if len(value) > maximum:
        raise SquareError(
            "TOO_MANY_MAP_ENTRIES",
            f"`{key}` must contain between 1 and {maximum} entries; got {len(value)}.",
            field=key,
        )
    for entry_key in value:
        if not entry_key:
            raise SquareError("MAP_KEY_LENGTH_TOO_SHORT", f"Keys of `{key}` must not be empty.", field=key)
    return value


def list_entries(body: JSON, key: str, maximum: int = 100) -> list[str]:
    """The `customer_ids` list of a bulk retrieve/delete: 1 to `maximum` strings."""
    if key not in body or body[key] is None:
        raise SquareError("MISSING_REQUIRED_PARAMETER", f"Field `{key}` is required.", field=key)
    values = opt_str_list(body, key) or []
    if not values:
        raise SquareError("ARRAY_EMPTY", f"`{key}` must contain between 1 and {maximum} IDs.", field=key)
    if len(values) > maximum:
        raise SquareError(
            "ARRAY_LENGTH_TOO_LONG",
            f"`{key}` must contain between 1 and {maximum} IDs; got {len(values)}.",
            field=key,
        )
    return values
