"""Reads a published or converted tool schema the way a model would, and lists what a converter lost.

Converters emit several dialects (JSON Schema with `$ref`/`anyOf`/type lists, Gemini's `types.Schema`
with upper-case types and `nullable`), so both sides are first normalised to one shape:
`Node(types, nullable, properties, required, items, values, enum)`, where `values` is the schema of a
map's values (`additionalProperties: {schema}`) and `types` never holds "null".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# Keywords OpenAI's strict mode refuses (Structured Outputs, "Supported schemas"): a strict tool whose
# schema still holds one is rejected by the API, so an adapter that passes them through is not accepted.
# pydantic-ai's strict transformer moves the same ones into descriptions.
OPENAI_STRICT_REFUSED = frozenset(
    {
        "patternProperties",
        "unevaluatedProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "unevaluatedItems",
        "contains",
        "minContains",
        "maxContains",
        "uniqueItems",
        "allOf",
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
    }
)
# Keywords whose value maps names (not keywords) to subschemas.
_NAME_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "defs"})


@dataclass
class Node:
    types: frozenset[str] = frozenset()
    nullable: bool = False
    properties: dict[str, Node] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    items: Node | None = None
    values: Node | None = None
    enum: frozenset[str] | None = None

    @property
    def shape(self) -> str:
        return "/".join(sorted(self.types)) or "any"

    @property
    def is_open_object(self) -> bool:
        return "object" in self.types and not self.properties and self.values is None


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    target: Any = root
    for part in ref.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        # Gemini's Schema keeps definitions under "defs" while refs still say "$defs".
        target = target.get(part) if part in target else target.get(part.lstrip("$"))
    return target


def normalize(
    schema: Mapping[str, Any], root: Mapping[str, Any] | None = None, seen: frozenset[str] = frozenset()
) -> Node:
    root = schema if root is None else root
    node = Node()
    ref = schema.get("$ref") or schema.get("ref")  # Gemini's Schema dumps it as "ref"
    if isinstance(ref, str) and ref not in seen:
        node = normalize(_resolve(ref, root), root, seen | {ref})
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key) or ():
            _merge(node, normalize(branch, root, seen))

    raw_type = schema.get("type")
    declared = raw_type if isinstance(raw_type, list) else [raw_type] if raw_type else []
    for name in declared:
        name = str(getattr(name, "value", name)).lower()
        if name == "null":
            node.nullable = True
        elif name != "type_unspecified":
            node.types |= {name}
    node.nullable |= bool(schema.get("nullable"))

    if schema.get("enum") is not None:
        values = list(schema["enum"])
        node.nullable |= None in values
        node.enum = frozenset(str(v) for v in values if v is not None)
        if not node.types:  # Anthropic's transform_schema keeps the enum and drops the type
            node.types = frozenset(_json_type(v) for v in values if v is not None)
    props = schema.get("properties")
    if isinstance(props, Mapping):
        node.properties.update({name: normalize(sub, root, seen) for name, sub in props.items()})
        node.required |= frozenset(schema.get("required") or ())
        if not node.types:
            node.types = frozenset({"object"})
    items = schema.get("items")
    if isinstance(items, Mapping):
        node.items = normalize(items, root, seen)
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping) and extra:
        node.values = normalize(extra, root, seen)
    return node


def _merge(into: Node, other: Node) -> None:
    into.types |= other.types
    into.nullable |= other.nullable
    into.properties.update(other.properties)
    into.required |= other.required
    into.items = into.items or other.items
    into.values = into.values or other.values
    if other.enum is not None:
        into.enum = (into.enum or frozenset()) | other.enum


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return "number" if isinstance(value, float) else "string"


def walk(node: Node, path: str = "") -> Iterator[tuple[str, Node, Node]]:
    """(path, node, parent) for every nested property, array item ("[]") and map value ("{}")."""
    for name, child in node.properties.items():
        yield from _visit(f"{path}.{name}" if path else name, child, node)
    if node.items is not None:
        yield from _visit(f"{path}[]", node.items, node)
    if node.values is not None:
        yield from _visit(f"{path}{{}}", node.values, node)


def _visit(path: str, node: Node, parent: Node) -> Iterator[tuple[str, Node, Node]]:
    yield path, node, parent
    yield from walk(node, path)


def _raw_nodes(schema: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path, raw schema) for every nested property and array item, with the paths `walk` uses."""
    for name, sub in (schema.get("properties") or {}).items():
        child = f"{path}.{name}" if path else name
        yield child, sub
        yield from _raw_nodes(sub, child)
    if isinstance(schema.get("items"), Mapping):
        yield from [(f"{path}[]", schema["items"]), *_raw_nodes(schema["items"], f"{path}[]")]


def sayable_nothing(validation: Mapping[str, Any]) -> frozenset[str]:
    """Paths where a required, non-nullable value can still say "not given" to this server: it reads "",
    [], {} and a value equal to the validation schema's `default` as not given (server/validation.py)."""
    return frozenset(
        path
        for path, node in _raw_nodes(validation)
        if node.get("type") in ("string", "array", "object") or "default" in node
    )


def problems(
    published: Mapping[str, Any], converted: Mapping[str, Any], quiet: frozenset[str] = frozenset()
) -> list[str]:
    """What a model can no longer say through `converted` that `published` let it say. `quiet`: paths
    where a forced value can still mean "not given" (see `sayable_nothing`)."""
    found: list[str] = []
    forced: list[str] = []
    converted_paths = {path: (node, parent) for path, node, parent in walk(normalize(converted))}
    lost: list[str] = []
    for path, node, parent in walk(normalize(published)):
        if any(path.startswith(prefix) and path[len(prefix)] in ".[{" for prefix in lost):
            continue  # its parent was already reported
        if path not in converted_paths:
            found.append(f"{path}: missing")
            lost.append(path)
            continue
        got, got_parent = converted_paths[path]
        if (node.properties or node.values) and got.is_open_object:
            found.append(f"{path}: degraded to an open object")
            lost.append(path)
        elif node.types and got.types != node.types:
            found.append(f"{path}: {node.shape} became {got.shape}")
            lost.append(path)
        if node.enum is not None and got.enum != node.enum:
            found.append(f"{path}: enum lost")
        name = path.rsplit(".", 1)[-1]
        optional = name in parent.properties and name not in parent.required
        if optional and name in got_parent.required and not got.nullable and path not in quiet:
            forced.append(path)
    if forced:  # strict converters require every property; without null the model must invent a value
        found.append(f"optional, now required, not nullable and with no value meaning 'not given': {', '.join(forced)}")
    return found


def keywords(schema: object) -> Iterator[str]:
    """Every keyword used anywhere in a schema (property names are not keywords)."""
    if isinstance(schema, Mapping):
        for key, value in schema.items():
            yield key
            subschemas = value.values() if key in _NAME_MAPS and isinstance(value, Mapping) else [value]
            for sub in subschemas:
                yield from keywords(sub)
    elif isinstance(schema, list):
        for item in schema:
            yield from keywords(item)
