"""Write tests/data/square_spec_facts.json: the facts the tests need from Square's OpenAPI spec, no prose.

Run from anywhere: `python tests/data/make_spec_facts.py [SPEC]` (SPEC defaults to
../shared/square-customers-openapi.json beside the repository). The output keeps the spec's shape (`paths`,
`components.schemas`, `$ref`s unchanged) so it validates like the spec itself, but holds only facts: types,
required fields, enums, limits, formats, readOnly/nullable flags, the operations (method, path, parameters,
request and response schemas, OAuth scopes, deprecation), the error codes' categories and the top-level
request/response examples (data the tests replay). Every description, summary, title and `x-*` field is
dropped; a keyword this script does not know stops it, so no fact is lost and no prose slips in silently.
tests/test_spec_facts.py checks the committed file against a fresh run whenever the spec is present.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent
FACTS_PATH = DATA / "square_spec_facts.json"
# tests/data -> tests -> the repository -> the folder holding shared/.
SPEC_PATH = DATA.parents[2] / "shared" / "square-customers-openapi.json"
SPEC_NAME = "../shared/square-customers-openapi.json"

PROSE = frozenset({"description", "summary", "title", "externalDocs", "tags"})
# Schema keywords kept as they are (values are facts: numbers, flags, names, type strings).
SCHEMA_FACTS = frozenset(
    {
        "type",
        "format",
        "enum",
        "required",
        "nullable",
        "readOnly",
        "writeOnly",
        "deprecated",
        "default",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "$ref",
    }
)
SCHEMA_MAPS = frozenset({"properties"})  # name -> schema
SCHEMA_ONE = frozenset({"items", "not"})  # a schema
SCHEMA_MANY = frozenset({"allOf", "anyOf", "oneOf"})  # a list of schemas
OPERATION_FACTS = frozenset({"operationId", "deprecated", "security"})
PARAMETER_FACTS = frozenset({"name", "in", "required", "deprecated", "style", "explode"})
METHODS = ("get", "put", "post", "delete", "patch")


def _dropped(key: str) -> bool:
    return key in PROSE or key.startswith("x-")


def _unknown(where: str, key: str) -> ValueError:
    return ValueError(f"{where}: unknown key {key!r}; add it to make_spec_facts.py as a fact or as prose")


def _schema(node: dict[str, Any], where: str, *, top: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        if _dropped(key):
            continue
        if key in SCHEMA_FACTS:
            out[key] = value
        elif key in SCHEMA_MAPS:
            out[key] = {name: _schema(sub, f"{where}.{key}.{name}") for name, sub in value.items()}
        elif key in SCHEMA_ONE:
            out[key] = _schema(value, f"{where}.{key}")
        elif key in SCHEMA_MANY:
            out[key] = [_schema(sub, f"{where}.{key}[{i}]") for i, sub in enumerate(value)]
        elif key == "additionalProperties":
            out[key] = value if isinstance(value, bool) else _schema(value, f"{where}.{key}")
        elif key == "example" and top:
            out[key] = value  # a whole request or response: data the tests replay
        else:
            raise _unknown(where, key)
    return out


def _content(node: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        if _dropped(key):
            continue
        if key == "required":
            out[key] = value
        elif key == "content":
            out[key] = {
                media: {"schema": _schema(body["schema"], f"{where}.content.{media}.schema")}
                for media, body in value.items()
            }
        else:
            raise _unknown(where, key)
    return out


def _parameter(node: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        if _dropped(key):
            continue
        if key in PARAMETER_FACTS:
            out[key] = value
        elif key == "schema":
            out[key] = _schema(value, f"{where}.schema")
        else:
            raise _unknown(where, key)
    return out


def _operation(node: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        if _dropped(key):
            continue
        if key in OPERATION_FACTS:
            out[key] = value
        elif key == "parameters":
            out[key] = [_parameter(p, f"{where}.parameters.{p['name']}") for p in value]
        elif key == "requestBody":
            out[key] = _content(value, f"{where}.requestBody")
        elif key == "responses":
            out[key] = {status: _content(body, f"{where}.responses.{status}") for status, body in value.items()}
        else:
            raise _unknown(where, key)
    return out


def _paths(paths: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for template, item in paths.items():
        unknown = [key for key in item if key not in METHODS and not _dropped(key)]
        if unknown:
            raise _unknown(template, unknown[0])
        out[template] = {
            method: _operation(op, f"{method} {template}") for method, op in item.items() if method in METHODS
        }
    return out


def _security_schemes(schemes: dict[str, Any], scopes: set[str]) -> dict[str, Any]:
    """Each scheme's type, location and URLs, and the OAuth scopes the operations use (names, no descriptions)."""
    out: dict[str, Any] = {}
    for name, scheme in schemes.items():
        kept: dict[str, Any] = {}
        for key, value in scheme.items():
            if _dropped(key):
                continue
            if key in {"type", "in", "name", "scheme", "bearerFormat"}:
                kept[key] = value
            elif key == "flows":
                kept[key] = {
                    flow: {
                        **{url: link for url, link in spec.items() if url.endswith("Url")},
                        "scopes": {scope: "" for scope in sorted(scopes & set(spec.get("scopes", {})))},
                    }
                    for flow, spec in value.items()
                }
            else:
                raise _unknown(f"securitySchemes.{name}", key)
        out[name] = kept
    return out


def _error_categories(error_code: dict[str, Any]) -> dict[str, str]:
    """ErrorCode value -> its ErrorCategory, which the spec gives per enum element."""
    categories = {element["name"]: element["error-category"] for element in error_code["x-enum-elements"]}
    if list(categories) != error_code["enum"]:
        raise ValueError("ErrorCode: the enum elements and the enum disagree")
    return categories


def _square_version(schemes: dict[str, Any]) -> str:
    for scheme in schemes.values():
        for header in scheme.get("x-additional-headers", []):
            if header["name"] == "Square-Version":
                return str(header["schema"]["default"])
    raise ValueError("no Square-Version header in the security schemes")


def spec_facts(spec: dict[str, Any]) -> dict[str, Any]:
    """The facts-only form of Square's spec (see the module docstring)."""
    paths = _paths(spec["paths"])
    scopes = {
        scope
        for item in paths.values()
        for operation in item.values()
        for requirement in operation.get("security", [])
        for granted in requirement.values()
        for scope in granted or []
    }
    schemes = spec["components"]["securitySchemes"]
    schemas = spec["components"]["schemas"]
    return {
        "generated_by": f"tests/data/make_spec_facts.py from {SPEC_NAME}",
        "source": "Square connect-api-specification (Apache-2.0, copyright Square, Inc.): facts and examples only",
        "openapi": spec["openapi"],
        "square_version": _square_version(schemes),
        "paths": paths,
        "components": {
            "schemas": {name: _schema(schema, name, top=True) for name, schema in schemas.items()},
            "securitySchemes": _security_schemes(schemes, scopes),
        },
        "error_categories": _error_categories(schemas["ErrorCode"]),
    }


def render(facts: dict[str, Any]) -> str:
    """The file's exact text: sorted keys and fixed indentation, so a rerun gives no diff."""
    return json.dumps(facts, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def facts_text(spec_path: Path = SPEC_PATH) -> str:
    return render(spec_facts(json.loads(spec_path.read_text(encoding="utf-8"))))


def main(argv: list[str]) -> int:
    spec_path = Path(argv[0]) if argv else SPEC_PATH
    if not spec_path.is_file():
        print(f"Square's spec not found at {spec_path} (expected {SPEC_NAME} beside the repository)", file=sys.stderr)
        return 1
    text = facts_text(spec_path)
    changed = not FACTS_PATH.is_file() or FACTS_PATH.read_text(encoding="utf-8") != text
    FACTS_PATH.write_text(text, encoding="utf-8")
    print(f"{'wrote' if changed else 'unchanged:'} {FACTS_PATH} ({len(text.encode()):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
