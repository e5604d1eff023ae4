"""The committed spec facts (tests/data/square_spec_facts.json) are well formed, hold no prose, match Square's
spec when ../shared/square-customers-openapi.json is present (made by tests/data/make_spec_facts.py), and agree
with the tool records."""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from spec_facts import FACTS_PATH, REGENERATE, operations, schema_ref_name, schemas, spec_facts, validate_schema

from square_customers_mcp.tools import TOOLS

SCRIPT = Path(__file__).resolve().parent / "data" / "make_spec_facts.py"
PROSE = {"description", "summary", "title", "externalDocs", "tags"}
TOP_LEVEL = {"generated_by", "source", "openapi", "square_version", "paths", "components", "error_categories"}


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_spec_facts", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _walk(node: Any, path: str = "") -> list[tuple[str, str, Any]]:
    """(path, key, value) of every object member, examples left out (they are data, not schema)."""
    found: list[tuple[str, str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "example":
                continue
            found.append((path, key, value))
            if key == "properties":  # its keys are field names, not keywords
                for name, sub in value.items():
                    found += _walk(sub, f"{path}.properties.{name}")
            else:
                found += _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _walk(item, f"{path}[{index}]")
    return found


def facts_problems(text: str, render: Any) -> list[str]:
    """What is wrong with the facts file's text; empty when it is well formed."""
    try:
        facts = json.loads(text)
    except ValueError as error:
        return [f"not JSON: {error}"]
    problems: list[str] = []
    if text != render(facts):
        problems.append("not in make_spec_facts.py's form (sorted keys, indent 1, final newline): edited by hand?")
    if set(facts) != TOP_LEVEL:
        return [*problems, f"top-level keys {sorted(facts)}, expected {sorted(TOP_LEVEL)}"]
    named = facts["components"]["schemas"]
    for path, key, value in _walk(facts):
        if key in PROSE or key.startswith("x-"):
            problems.append(f"prose field {path}.{key}")
        if key == "$ref" and (not value.startswith("#/components/schemas/") or value.rsplit("/", 1)[-1] not in named):
            problems.append(f"{path}: $ref {value} does not resolve")
    for name, schema in named.items():
        try:
            OAS30Validator.check_schema(schema)
        except Exception as error:
            problems.append(f"schema {name}: {str(error).splitlines()[0]}")
    for template, item in facts["paths"].items():
        for method, operation in item.items():
            if "operationId" not in operation or "$ref" not in str(operation.get("responses", {}).get("200")):
                problems.append(f"{method} {template}: no operationId or no 200 response schema")
    codes, categories = named["ErrorCode"]["enum"], named["ErrorCategory"]["enum"]
    if sorted(facts["error_categories"]) != sorted(codes) or not set(facts["error_categories"].values()) <= set(
        categories
    ):
        problems.append("error_categories: not one ErrorCategory per ErrorCode value")
    return problems


def test_committed_facts_are_well_formed_and_match_the_spec() -> None:
    """The drift check. With ../shared present, a fresh run of the script must give the committed text byte for
    byte; without it (a fresh clone), the committed file must exist and be well formed."""
    script = _script()
    assert FACTS_PATH.is_file(), f"{FACTS_PATH} is missing; regenerate it with {REGENERATE}"
    committed = FACTS_PATH.read_text(encoding="utf-8")
    problems = facts_problems(committed, script.render)
    assert not problems, f"{FACTS_PATH} is malformed; regenerate it with {REGENERATE}:\n" + "\n".join(problems)
    if not script.SPEC_PATH.is_file():
        warnings.warn(
            f"drift not checked: {script.SPEC_PATH} is absent (the committed facts are well formed)", stacklevel=1
        )
        return
    assert committed == script.facts_text(script.SPEC_PATH), (
        f"{FACTS_PATH} differs from what {script.SPEC_PATH} gives; regenerate it with {REGENERATE}"
    )


def test_the_well_formed_check_catches_damage() -> None:
    render = _script().render
    good = FACTS_PATH.read_text(encoding="utf-8")
    assert facts_problems(good, render) == []
    assert facts_problems(good[:-2], render)
    damaged = json.loads(good)
    damaged["components"]["schemas"]["Customer"]["description"] = "prose"
    damaged["components"]["schemas"]["Error"]["properties"]["code"]["$ref"] = "#/components/schemas/Nope"
    damaged["components"]["schemas"]["Address"]["maxLength"] = "long"
    problems = facts_problems(render(damaged), render)
    assert len(problems) == 3, problems


def test_the_script_refuses_unknown_keywords_and_drops_prose() -> None:
    script = _script()
    schema = {"type": "string", "description": "words", "x-release-status": "PUBLIC", "maxLength": 5}
    assert script._schema(schema, "S") == {"type": "string", "maxLength": 5}
    with pytest.raises(ValueError, match="unknown key 'const'"):
        script._schema({"const": 1}, "S")


@pytest.mark.parametrize("kind", ["Request", "Response"])
def test_examples_are_valid_against_their_own_schemas(kind: str) -> None:
    """Square's own examples pass the strict validator (every object schema closed to unknown fields)."""
    checked = [name for name, schema in schemas().items() if name.endswith(kind) and "example" in schema]
    assert len(checked) >= 10
    for name in checked:
        validate_schema(schemas()[name]["example"], name)


def test_the_strict_validator_refuses_unknown_fields_and_wrong_types() -> None:
    customer = {"customer": {"id": "C1", "version": 1}}
    validate_schema(customer, "RetrieveCustomerResponse")
    for bad in ({"customer": {"id": "C1", "colour": "red"}}, {"customer": {"id": 7}}, {"extra": 1}):
        with pytest.raises(Exception, match=r"Additional properties|is not of type"):
            validate_schema(bad, "RetrieveCustomerResponse")


@pytest.mark.parametrize("tool", TOOLS, ids=lambda tool: tool.name)
def test_each_tool_is_a_spec_operation(tool: Any) -> None:
    """Method, path, parameters, OAuth scope and deprecation of each tool agree with Square's operation."""
    operation = spec_facts()["paths"][tool.path][tool.method.lower()]
    assert operation["operationId"] == "".join(word.capitalize() for word in tool.name.split("_"))
    parameters = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
    assert {name for place, name in parameters if place == "path"} == set(tool.path_params)
    assert set(tool.query_params) <= {name for place, name in parameters if place == "query"}
    scopes = [scope for requirement in operation["security"] for scope in requirement["oauth2"]]
    assert scopes == ["CUSTOMERS_READ" if tool.read_only else "CUSTOMERS_WRITE"]
    assert tool.deprecated == operation.get("deprecated", False)


def test_every_operation_names_its_request_and_response_schemas() -> None:
    for method, template, operation in operations():
        assert schema_ref_name(operation["responses"]["200"]) in schemas(), f"{method} {template}"
        if "requestBody" in operation:
            assert schema_ref_name(operation["requestBody"]) in schemas(), f"{method} {template}"
