"""Hypothesis strategies for the JSON Schema subset the tool input schemas use.

hypothesis-jsonschema does not run on current Hypothesis, and our schemas use a small, known subset:
object (properties, required, additionalProperties, propertyNames, min/maxProperties), string
(maxLength, minLength, pattern, enum, format), integer (minimum, maximum), boolean, array (items,
min/maxItems, uniqueItems), type lists with null, and local $ref into $defs.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st

JSON = dict[str, Any]
FORMATS: dict[str, st.SearchStrategy[str]] = {
    "date-time": st.datetimes(timezones=st.just(__import__("datetime").UTC)).map(
        lambda d: d.isoformat().replace("+00:00", "Z")
    ),
    "email": st.from_regex(r"\A[a-z0-9.]{1,12}@[a-z]{1,10}\.(com|org|io)\Z"),
}


def from_schema(schema: JSON, root: JSON | None = None) -> st.SearchStrategy[Any]:
    root = root or schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return from_schema(root["$defs"][name], root)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": k}, root) for k in kind])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**31)), schema.get("maximum", 2**31))
    if kind == "string":
        return _string(schema)
    if kind == "array":
        items = from_schema(schema.get("items", {"type": "string"}), root)
        return st.lists(
            items,
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 5), 5),
            unique_by=(lambda v: repr(v)) if schema.get("uniqueItems") else None,
        )
    return _object(schema, root)


def _string(schema: JSON) -> st.SearchStrategy[str]:
    if "format" in schema:
        return FORMATS[schema["format"]]
    low, high = schema.get("minLength", 0), min(schema.get("maxLength", 40), 40)
    if "pattern" in schema:
        pattern = schema["pattern"]
        anchored = pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern
        return st.from_regex(re.compile(anchored)).filter(lambda s: low <= len(s) <= schema.get("maxLength", 10**9))
    return st.text(min_size=low, max_size=max(low, high))


def _object(schema: JSON, root: JSON) -> st.SearchStrategy[JSON]:
    properties: JSON = schema.get("properties", {})
    required = set(schema.get("required", []))
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):  # a map: names from propertyNames, values from additionalProperties
        names = _string({"type": "string", **schema.get("propertyNames", {"minLength": 1, "maxLength": 12})})
        return st.dictionaries(
            names,
            from_schema(extra, root),
            min_size=schema.get("minProperties", 0),
            max_size=min(schema.get("maxProperties", 3), 3),
        )
    fixed = {name: from_schema(properties[name], root) for name in required}
    optional = {name: from_schema(sub, root) for name, sub in properties.items() if name not in required}
    strategy = st.fixed_dictionaries(fixed, optional=optional)
    low, high = schema.get("minProperties", 0), schema.get("maxProperties", 10**6)
    return strategy.filter(lambda d: low <= len(d) <= high)
