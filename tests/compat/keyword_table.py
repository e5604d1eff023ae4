"""Prints what each adapter does with each schema keyword: the table the portable dialect is chosen from.

Run in the compat venv: `python tests/compat/keyword_table.py`. Each probe is a one-property tool whose
property `p` uses one keyword; cells say whether the adapter rejects it, falls back to non-strict, emits
a strict schema OpenAI refuses, loses what the model can say (degrades), or else keeps the keyword,
moves it into a description, or drops it silently (the server's own validator still enforces it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from compat_adapters import ADAPTERS, Converted
from compat_schema import OPENAI_STRICT_REFUSED, keywords, problems

Q = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
S = {"type": "string"}
OPT_S = {"anyOf": [S, {"type": "null"}]}
REF = {"$ref": "#/$defs/Q", "description": "d"}
# (label, schema of p, p required, keyword to look for in the converted schema)
PROBES: list[tuple[str, dict[str, Any], bool, str]] = [
    ("optional property", S, False, ""),
    ("optional, anyOf [T, null]", OPT_S, False, "anyOf"),
    ("optional, type [T, null]", {"type": ["string", "null"]}, False, ""),
    ("nested object", Q, True, ""),
    ("nested optional property", {"type": "object", "properties": {"q": S}}, True, ""),
    ("nested optional, anyOf [T, null]", {"type": "object", "properties": {"q": OPT_S}}, True, ""),
    ("additionalProperties: false", {**Q, "additionalProperties": False}, True, "additionalProperties"),
    ("array of objects", {"type": "array", "items": Q}, True, ""),
    ("$ref / $defs", {"$ref": "#/$defs/Q"}, True, "$ref"),
    ("$ref + description", REF, True, "$ref"),
    ("array of $ref + description", {"type": "array", "items": REF}, True, "$ref"),
    ("map (additionalProperties: {schema})", {"type": "object", "additionalProperties": S}, True, ""),
    ("open object {type: object}", {"type": "object"}, True, ""),
    ("anyOf of two types", {"anyOf": [S, {"type": "integer"}]}, True, "anyOf"),
    ("oneOf", {"oneOf": [S, {"type": "integer"}]}, True, "oneOf"),
    ("allOf (one entry)", {"allOf": [Q]}, True, "allOf"),
    ("enum", {"type": "string", "enum": ["A", "B"]}, True, "enum"),
    ("const", {"type": "string", "const": "A"}, True, "const"),
    ("default", {"type": "integer", "default": 25}, True, "default"),
    ("minLength / maxLength", {"type": "string", "minLength": 1, "maxLength": 5}, True, "maxLength"),
    ("pattern", {"type": "string", "pattern": "^[A-Z]{2}$"}, True, "pattern"),
    ("format: date-time", {"type": "string", "format": "date-time"}, True, "format"),
    ("format: email", {"type": "string", "format": "email"}, True, "format"),
    ("minimum / maximum", {"type": "integer", "minimum": 1, "maximum": 100}, True, "maximum"),
    ("minItems / maxItems", {"type": "array", "items": S, "minItems": 1, "maxItems": 100}, True, "maxItems"),
    ("uniqueItems", {"type": "array", "items": S, "uniqueItems": True}, True, "uniqueItems"),
    ("propertyNames", {**Q, "propertyNames": {"pattern": "^q$"}}, True, "propertyNames"),
    ("minProperties / maxProperties", {**Q, "minProperties": 1, "maxProperties": 1}, True, "maxProperties"),
    ("patternProperties", {**Q, "patternProperties": {"^x": S}}, True, "patternProperties"),
]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name.lstrip("$")).lower()


def _descriptions(schema: object) -> str:
    if isinstance(schema, dict):
        own = schema.get("description") if isinstance(schema.get("description"), str) else ""
        return own + " ".join(_descriptions(value) for value in schema.values())
    return " ".join(_descriptions(value) for value in schema) if isinstance(schema, list) else ""


def verdict(adapter_name: str, label: str, p: dict[str, Any], required: bool, keyword: str) -> str:
    schema: dict[str, Any] = {"type": "object", "properties": {"p": p}, "required": ["p"] if required else []}
    if "$ref" in str(p):
        schema["$defs"] = {"Q": Q}
    tool = {"name": "probe", "description": "probe", "inputSchema": schema}
    try:
        converted: Converted = ADAPTERS[adapter_name].convert(tool)
    except ImportError:
        raise
    except Exception as error:
        return f"REJECTS ({type(error).__name__})"
    used = set(keywords(converted.schema))
    if converted.strict is False:
        return "non-strict"
    if converted.openai_strict and OPENAI_STRICT_REFUSED & used:
        return "API refuses"
    lost = problems(schema, converted.schema)
    if lost:
        return "degrades: " + ("required" if lost[0].startswith("optional") else lost[0].split(": ", 1)[1])
    if not keyword:
        return "ok"
    if keyword in used or _snake(keyword) in used:
        return "keeps"
    if keyword in _descriptions(converted.schema):  # pydantic-ai writes "maxLength=5", Anthropic "{maxLength: 5}"
        return "→ description"
    return "ok, rewritten" if keyword in ("anyOf", "oneOf", "allOf", "$ref", "type") else "drops"


def main() -> None:
    names = list(ADAPTERS)
    print("| keyword | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label, p, required, keyword in PROBES:
        cells = [verdict(name, label, p, required, keyword) for name in names]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
