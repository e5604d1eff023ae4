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
from itertools import groupby
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


# Letters that print as nothing (Hangul fillers, the braille blank): a wall of them hides what follows.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def visible(text: str) -> str:
    """`text` with every character that prints nothing, moves text or changes the character before it
    (controls, bidi overrides, zero-width and line separators, combining marks, blank letters, lone
    surrogates) written as its escape, and each run of them (or of spaces) written once with its length."""
    parts = []
    for char, run in groupby(text):
        count = len(list(run))
        hidden = (unicodedata.category(char)[0] in "CZM" and char != " ") or char in _BLANK_LETTERS
        shown = ascii(char)[1:-1] if hidden else char
        if count > 1 and (hidden or char == " "):
            parts.append(f"<{count} spaces>" if char == " " else f"<{count} x {shown}>")
        else:
            parts.append(shown * count)
    return "".join(parts)


def summary(found: Changes) -> list[str]:
    """One short line per customer naming what changes (no values), so a long value can't push a later
    customer's changes out of sight."""
    return [
        f"{'the whole call' if subject is None else subject}: "
        + ", ".join(
            line.split(": ", 1)[0] + (f" {line.split(': ', 1)[1]}" if line.startswith("erase: ") else "")
            for line in lines
        )
        for subject, lines in found
        if lines
    ]
