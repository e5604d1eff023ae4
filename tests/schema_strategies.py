"""Hypothesis strategies for VALID arguments, drawn from a tool's validation schema (`tool.schema`).

hypothesis-jsonschema does not run on current Hypothesis, and the validation schemas use a small, known
subset: object (properties, required, additionalProperties false, min/maxProperties), string (enum,
min/maxLength, pattern, format), integer (minimum, maximum), boolean, and array (items, min/maxItems,
uniqueItems); no `$ref`, no type lists, no maps. A keyword outside that subset is an error here, so the
generator cannot silently produce arguments the schema forbids.

Nothing generated means "not given" (null, "", [], {} or a schema's `default`), which the dispatcher drops
before validation: the arguments drawn are exactly the arguments checked.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from hypothesis import strategies as st

JSON = dict[str, Any]
_ANNOTATIONS = {"type", "description", "default", "x-unlisted-enum", "x-unpublished", "x-nullable", "x-local"}
_KEYWORDS = {
    "object": {"properties", "required", "additionalProperties", "minProperties", "maxProperties"},
    "array": {"items", "minItems", "maxItems", "uniqueItems"},
    "string": {"enum", "minLength", "maxLength", "pattern", "format"},
    "integer": {"minimum", "maximum"},
    "boolean": set(),
}
FORMATS: dict[str, st.SearchStrategy[str]] = {
    "date-time": st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    "email": st.from_regex(r"\A[a-z0-9.]{1,12}@[a-z]{1,10}\.(com|org|io)\Z"),
}


def from_schema(schema: JSON, *, nested: bool = False) -> st.SearchStrategy[Any]:
    strategy = _of_type(schema, nested=nested)
    if "default" in schema:
        default = schema["default"]
        return strategy.filter(lambda value: not (type(value) is type(default) and value == default))
    return strategy


def _of_type(schema: JSON, *, nested: bool) -> st.SearchStrategy[Any]:
    kind = schema.get("type")
    if not isinstance(kind, str) or kind not in _KEYWORDS:
        raise ValueError(f"no strategy for type {kind!r}")
    unknown = set(schema) - _ANNOTATIONS - _KEYWORDS[kind]
    if unknown:
        raise ValueError(f"no strategy for {sorted(unknown)} in a {kind} schema")
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**31)), schema.get("maximum", 2**31))
    if kind == "string":
        return _string(schema)
    if kind == "array":
        return _array(schema)
    return _object(schema, nested=nested)


def _string(schema: JSON) -> st.SearchStrategy[str]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "format" in schema:
        return FORMATS[schema["format"]]
    low, high = max(1, schema.get("minLength", 0)), schema.get("maxLength", 10**9)
    if "pattern" in schema:
        pattern = schema["pattern"]
        anchored = pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern
        return st.from_regex(re.compile(anchored)).filter(lambda s: low <= len(s) <= high)
    return st.text(min_size=low, max_size=max(low, min(high, 40)))


def _array(schema: JSON) -> st.SearchStrategy[list[Any]]:
    items = schema["items"]
    low = max(1, schema.get("minItems", 0))
    high = max(low, min(schema.get("maxItems", 4), 4))
    if "enum" in items:
        high = min(high, len(items["enum"]))
    unique = (lambda value: repr(value)) if schema.get("uniqueItems") else None
    return st.lists(from_schema(items, nested=True), min_size=low, max_size=high, unique_by=unique)


def _object(schema: JSON, *, nested: bool) -> st.SearchStrategy[JSON]:
    if schema.get("additionalProperties", False) is not False:
        raise ValueError("only closed objects (additionalProperties: false) are supported")
    properties: JSON = schema.get("properties", {})
    required = list(schema.get("required", []))
    optional = sorted(set(properties) - set(required))
    # A nested object with nothing in it would read as "not given"; give it at least one property.
    low = max(schema.get("minProperties", 0) - len(required), 1 if nested and not required else 0)
    high = min(len(optional), schema.get("maxProperties", 10**6) - len(required))
    chosen = st.sets(st.sampled_from(optional), min_size=low, max_size=high) if optional else st.just(set())
    return chosen.flatmap(
        lambda names: st.fixed_dictionaries(
            {name: from_schema(properties[name], nested=True) for name in properties if name in {*required, *names}}
        )
    )
