"""What a call would change, per customer, as the person asked to confirm it reads it.

The order is the schema's, never the model's: customers sorted by id, each one's fields in the order its
schema declares them (address lines too), and the fields to erase in the order `clear` lists its choices.
Values are shown whole, as JSON, with invisible and control characters escaped, so a value can neither
hide nor forge a line of the question.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from square_customers_mcp.tools.spec import ToolSpec

SUBJECT = "customer_id"
"""The argument (of the call, or of each bulk entry) naming the customer a change applies to."""
_LABELS = {"clear": "erase", "version": "only if its version is still"}

Changes = list[tuple[str | None, list[str]]]
"""(customer id, or None for what applies to the whole call; one line per field), in display order."""


def changes(tool: ToolSpec, args: Mapping[str, Any]) -> Changes:
    properties = tool.schema["properties"]
    entries = args.get(tool.entries) if tool.entries else None
    if not isinstance(entries, list):
        subject = args.get(SUBJECT)
        return [(None if subject is None else visible(str(subject)), _lines(args, tool.schema))]
    items = properties[tool.entries]["items"]
    found: Changes = [
        (visible(str(entry.get(SUBJECT))), _lines(entry, items))
        if isinstance(entry, Mapping)
        else (visible(str(entry)), [])
        for entry in entries
    ]
    found.sort(key=lambda change: change[0] or "")
    rest = {name: value for name, value in args.items() if name != tool.entries}
    return ([(None, _lines(rest, tool.schema))] if rest else []) + found


def _lines(fields: Mapping[str, Any], schema: Mapping[str, Any], prefix: str = "") -> list[str]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    # Names the schema does not know cannot pass validation; if one ever did, it is shown, never hidden.
    names = [name for name in properties if name in fields] + sorted(name for name in fields if name not in properties)
    lines: list[str] = []
    for name in names:
        if name == SUBJECT and not prefix:
            continue
        value, sub = fields[name], properties.get(name, {})
        label = prefix + _LABELS.get(name, name)
        if isinstance(value, Mapping):
            lines += _lines(value, sub, f"{label}.")
        elif isinstance(value, list) and "enum" in sub.get("items", {}):
            choices: list[Any] = sub["items"]["enum"]
            ordered = sorted(value, key=lambda v: (choices.index(v) if v in choices else len(choices), str(v)))
            lines.append(f"{label}: {', '.join(visible(str(v)) for v in ordered)}")
        else:
            lines.append(f"{label}: {shown(value)}")
    return lines


def shown(value: Any) -> str:
    return visible(json.dumps(value, ensure_ascii=False))


def visible(text: str) -> str:
    """`text` with every character that prints nothing or moves text (controls, bidi overrides, zero-width
    and line separators, lone surrogates) written as its escape."""
    return "".join(
        ascii(char)[1:-1] if unicodedata.category(char)[0] in "CZ" and char != " " else char for char in text
    )
