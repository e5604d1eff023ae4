"""Argument checking for the dispatcher: JSON Schema with ECMA-262 pattern anchoring, messages a model
can act on, and the normalisations and guards applied to arguments before they are sent."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

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


# Schema failures that mean a value is not of the shape the rules read; other failures (pattern, format,
# length, enum, ...) leave it well-typed, so the rules still judge it.
_SHAPE_FAILURES = frozenset({"type", "anyOf", "oneOf", "allOf", "not"})
_PLACEHOLDERS: dict[str, Callable[[], Any]] = {
    "object": dict, "array": list, "string": str, "integer": int, "number": float, "boolean": bool,
}  # fmt: skip


def problems(
    validator: Validator, checks: Sequence[Callable[[Mapping[str, Any]], list[str]]], args: Mapping[str, Any]
) -> list[str]:
    """Every problem in one answer, each starting with its JSON path: the schema's, and those of the rules
    JSON Schema can't say, judged on the well-typed part of the arguments; no repeats, in path order."""
    errors = sorted(validator.iter_errors(args), key=lambda e: (e.json_path, e.message))
    found = [describe(error) for error in errors]
    typed, unjudged = _well_typed(args, errors)
    if typed is None:  # the arguments as a whole have the wrong shape: nothing for the rules to read
        return found
    for check in checks:
        try:
            found += [problem for problem in check(typed) if not unjudged(problem.partition(": ")[0])]
        except (TypeError, AttributeError, KeyError, ValueError):
            if not errors:
                raise  # on schema-valid arguments a rule must not fail: that is a bug, not bad input
            # Shapes the schema already named can still trip a rule; its messages say what to fix first.
    return sorted(dict.fromkeys(found), key=_path_order)


_PATH_STEP = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def _path_order(problem: str) -> list[tuple[int, int, str]]:
    """Problems sorted by path, list items by number ([2] before [10]), so each entry's problems sit together;
    the sort is stable, so the schema's message on a path comes before a rule's."""
    path = problem.partition(": ")[0].removeprefix("$")
    return [(0, int(index), "") if index else (1, 0, key) for index, key in _PATH_STEP.findall(path)]


def _json_path(parts: Sequence[str | int]) -> str:
    """jsonschema's `json_path` spelling: $.customers[1].note."""
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts)


def _well_typed(
    args: Mapping[str, Any], errors: list[ValidationError]
) -> tuple[Mapping[str, Any] | None, Callable[[str], bool]]:
    """(a copy of `args` without the values of the wrong shape and without unknown properties, or None if the
    whole is of the wrong shape; whether a rule's message at a path must be dropped because it judges a value
    that was taken out (or an object that lost one of its fields).

    A list item is replaced by an empty value of its type, not removed, so later items keep their index."""
    if not errors:
        return args, lambda path: False
    typed = copy.deepcopy(args)
    removed: list[str] = []
    parents: set[str] = set()
    for error in errors:
        parts = list(error.absolute_path)
        if error.validator == "additionalProperties":
            target = _at(typed, parts)
            known = (error.schema.get("properties") or {}) if isinstance(error.schema, Mapping) else {}
            if isinstance(target, dict):
                for key in [key for key in target if key not in known]:
                    del target[key]
            continue
        if error.validator not in _SHAPE_FAILURES:
            continue
        if not parts:
            return None, lambda path: True
        container = _at(typed, parts[:-1])
        key = parts[-1]
        if isinstance(container, dict) and isinstance(key, str):
            container.pop(key, None)
        elif isinstance(container, list) and isinstance(key, int) and key < len(container):
            expected = error.validator_value if error.validator == "type" else None
            container[key] = _PLACEHOLDERS.get(expected, dict)() if isinstance(expected, str) else None
        removed.append(error.json_path)
        if isinstance(container, dict):  # an object that lost a field can't be judged as a whole
            parents.add(_json_path(parts[:-1]))

    def unjudged(path: str) -> bool:
        return path in parents or any(path == r or path.startswith((f"{r}.", f"{r}[")) for r in removed)

    return typed, unjudged


def _at(value: Any, parts: Sequence[str | int]) -> Any:
    """The value at `parts` inside `value`, or None where the path no longer leads anywhere."""
    for part in parts:
        if isinstance(value, dict) and isinstance(part, str):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            return None
    return value


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
