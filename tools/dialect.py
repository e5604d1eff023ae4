"""The published schema dialect: what `tools/list` shows, derived from each tool's validation schema.

`portable()` keeps the tree of objects, arrays, types, required fields, enums and descriptions, and drops the
keywords that some model APIs or their strict modes reject, rewrite or ignore (docs/tools.md has the table of
adapters). The server still enforces all of them. `with_refs()` is the same schema with nested objects moved
into `$defs`, for llama-index's MCP converter, which reads nested objects only through `$ref`.
"""

from __future__ import annotations

import json
from typing import Any

JSON = dict[str, Any]

# Strict modes reject uniqueItems and the *Properties family, move length and range limits into descriptions,
# or ignore formats. Strict converters add `additionalProperties: false` themselves and Gemini's MCP path
# rejects it; the validator names any unexpected argument, so it is not worth ~5 tokens per object either.
# `default` is read by the server (a value equal to it means "not given") and costs tokens to publish.
_VALIDATION_ONLY = frozenset(
    {"pattern", "format", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems",
     "uniqueItems", "minProperties", "maxProperties", "propertyNames", "patternProperties",
     "additionalProperties", "default"}
)  # fmt: skip
UNLISTED = "x-unlisted-enum"
"""Marks an enum too long to publish in every prompt: the validator lists the values when one is wrong."""
UNPUBLISHED = "x-unpublished"
"""Marks a rarely used property that is accepted but not offered in every prompt."""
LOCAL = "x-local"
"""Marks an argument the server uses itself and never sends to Square (e.g. `fields`, a projection)."""
NULLABLE = "x-nullable"
"""Marks an optional value with no "nothing" value of its own type (no "", [] or default): published as
`anyOf [T, null]`, the one nullable form every adapter accepts, so that a strict converter that makes every
property required still lets the model say "not given"."""


def unpublished(schema: JSON) -> JSON:
    return {**schema, UNPUBLISHED: True}


def portable(schema: Any) -> Any:
    """The published form of a validation schema: the same shape, without validation-only keywords."""
    if isinstance(schema, list):
        return [portable(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get(NULLABLE):
        plain = {key: value for key, value in schema.items() if key != NULLABLE}
        described = {"description": plain.pop("description")} if "description" in plain else {}
        return {"anyOf": [portable(plain), {"type": "null"}], **described}
    out: JSON = {}
    for key, value in schema.items():
        if key in _VALIDATION_ONLY or key in (UNLISTED, LOCAL) or (key == "enum" and schema.get(UNLISTED)):
            continue
        if key == "properties":  # names here are data, not keywords
            out[key] = {name: portable(sub) for name, sub in value.items() if not sub.get(UNPUBLISHED)}
        else:
            out[key] = portable(value)
    return out


def with_refs(published: JSON) -> JSON:
    """`published` with every nested object in `$defs` (one definition per distinct shape), referenced by
    `$ref` beside a description (a bare `$ref` makes some strict converters give up on strict mode)."""
    definitions: dict[str, JSON] = {}
    names: dict[str, str] = {}

    def hoist(node: JSON, name: str) -> JSON:
        description = node.get("description") or name.replace("_", " ")
        shape = {key: value for key, value in node.items() if key != "description"}
        key = json.dumps(shape, sort_keys=True)
        if key not in names:
            base = "".join(part.title() for part in name.split("_")) or "Item"
            unique = base
            while unique in definitions:
                unique += "_"
            names[key], definitions[unique] = unique, shape
        return {"$ref": f"#/$defs/{names[key]}", "description": description}

    def walk(node: Any, name: str, root: bool = False) -> Any:
        if not isinstance(node, dict):
            return node
        out = dict(node)
        if isinstance(out.get("properties"), dict):
            out["properties"] = {prop: walk(sub, prop) for prop, sub in out["properties"].items()}
        if isinstance(out.get("items"), dict):
            out["items"] = walk(out["items"], name.removesuffix("s") if name.endswith("s") else f"{name}_item")
        return hoist(out, name) if out.get("type") == "object" and not root else out

    result: JSON = walk(published, "", root=True)
    if definitions:
        result["$defs"] = definitions
    return result
