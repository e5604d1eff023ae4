"""What the tests know of Square's OpenAPI spec: tests/data/square_spec_facts.json, facts only (schemas with
their types, limits, enums and required fields; the operations; the request/response examples), made by
tests/data/make_spec_facts.py from ../shared/square-customers-openapi.json and committed, so a fresh clone runs
every test. tests/test_spec_facts.py checks the file against the spec whenever ../shared is present."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator

FACTS_PATH = Path(__file__).resolve().parent / "data" / "square_spec_facts.json"
REGENERATE = "python tests/data/make_spec_facts.py (reads ../shared/square-customers-openapi.json)"


@cache
def spec_facts() -> dict[str, Any]:
    """The committed facts file, parsed once. Callers must not modify it (copy what they change)."""
    if not FACTS_PATH.is_file():
        raise FileNotFoundError(f"{FACTS_PATH} is missing; regenerate it with {REGENERATE}")
    facts: dict[str, Any] = json.loads(FACTS_PATH.read_text(encoding="utf-8"))
    return facts


def schemas() -> dict[str, Any]:
    found: dict[str, Any] = spec_facts()["components"]["schemas"]
    return found


def schema_example(name: str) -> Any:
    """A fresh copy of components.schemas.<name>.example: one of Square's request or response examples."""
    return copy.deepcopy(schemas()[name]["example"])


def _strict(node: Any) -> Any:
    """`additionalProperties: false` on every object schema that lists its properties, so a stray field fails."""
    if isinstance(node, dict):
        out = {key: _strict(value) for key, value in node.items() if key != "example"}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(item) for item in node]
    return node


@cache
def _strict_components() -> dict[str, Any]:
    components: dict[str, Any] = _strict(spec_facts()["components"])
    return components


def validate_schema(body: Any, schema_name: str) -> None:
    """Validate `body` against `#/components/schemas/<schema_name>` strictly (no unknown fields); raises."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _strict_components()}
    OAS30Validator(schema).validate(body)


def schema_ref_name(content: dict[str, Any]) -> str:
    """`CreateCustomerRequest` from a requestBody or response object whose JSON schema is a $ref."""
    ref: str = content["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path template, operation) for every operation of the spec."""
    return [
        (method.upper(), template, operation)
        for template, item in spec_facts()["paths"].items()
        for method, operation in item.items()
    ]


@cache
def _response_routes() -> list[tuple[str, re.Pattern[str], str]]:
    """(method, path regex, 200-response schema name) for each operation, fixed paths first."""
    routes = sorted(operations(), key=lambda route: route[1].count("{"))
    return [
        (
            method,
            re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"),
            schema_ref_name(op["responses"]["200"]),
        )
        for method, template, op in routes
    ]


def response_schema(method: str, path: str) -> str | None:
    """The name of the spec's 200-response schema for a request, or None when no operation matches."""
    for route_method, pattern, name in _response_routes():
        if route_method == method and pattern.match(path):
            return name
    return None


def square_errors(body: Any) -> list[dict[str, Any]]:
    """Every error object in a response body: the top-level `errors` and those of bulk entries."""
    found: list[dict[str, Any]] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "errors" and isinstance(value, list):
                found += [error for error in value if isinstance(error, dict)]
            else:
                found += square_errors(value)
    elif isinstance(body, list):
        for item in body:
            found += square_errors(item)
    return found


def check_error_categories(body: Any, deviations: Mapping[str, str] | None = None) -> None:
    """Each error's category is the one Square's spec gives its code (ErrorCode's per-value category), or
    for a code in `deviations`, the category given there."""
    categories: dict[str, str] = spec_facts()["error_categories"]
    for error in square_errors(body):
        code, category = error.get("code", ""), error.get("category")
        expected = categories.get(code)
        if category != expected and (deviations or {}).get(code) != category:
            raise AssertionError(f"{error}: Square's spec files {code} under {expected}")
