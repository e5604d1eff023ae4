"""Every tool's Tool JSON: snapshot, lint of the published (portable) input schema and of the validation
schema behind it, the record's rules, and the README table generated from the registry."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from spec_facts import spec_facts

from square_customers_mcp.app import mcp_tool
from square_customers_mcp.tools import TOOLS, TOOLS_BY_NAME, TOOLSETS, ToolSpec
from square_customers_mcp.tools.dialect import portable
from square_customers_mcp.tools.table import tool_table

SNAPSHOTS = Path(__file__).parent / "snapshots"
README = Path(__file__).parents[1] / "README.md"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
DESIGN_ORDER = [
    "list_customers", "create_customer", "bulk_create_customers", "bulk_delete_customers",
    "bulk_retrieve_customers", "bulk_update_customers", "search_customers", "delete_customer",
    "retrieve_customer", "update_customer", "create_customer_card", "delete_customer_card",
    "remove_group_from_customer", "add_group_to_customer", "list_customer_groups", "list_customer_segments",
]  # fmt: skip
READ_ONLY = {
    "list_customers", "search_customers", "retrieve_customer", "bulk_retrieve_customers", "list_customer_groups",
    "list_customer_segments",
}  # fmt: skip
DESTRUCTIVE = {
    "delete_customer", "bulk_delete_customers", "update_customer", "bulk_update_customers",
    "delete_customer_card", "remove_group_from_customer",
}  # fmt: skip
# What some model APIs or their strict modes reject or mangle (DESIGN.md: one portable dialect).
NOT_PORTABLE = {
    "$ref", "$defs", "definitions", "anyOf", "oneOf", "allOf", "not", "uniqueItems", "propertyNames",
    "minProperties", "maxProperties", "patternProperties", "pattern", "format", "additionalProperties",
    "const", "if", "then", "else",
}  # fmt: skip
TYPES = {"object", "array", "string", "integer", "number", "boolean"}

by_name = pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)


def tool_json(tool: ToolSpec) -> dict[str, Any]:
    return mcp_tool(tool).model_dump(mode="json", by_alias=True, exclude_none=True)


def subschemas(schema: dict[str, Any], path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema in the tree (not property names, which are data), with a readable path; a nullable
    value's `anyOf [T, null]` is yielded, then T at the same path."""
    yield path, schema
    if "anyOf" in schema:
        yield from subschemas(schema["anyOf"][0], path)
        return
    for name, sub in schema.get("properties", {}).items():
        yield from subschemas(sub, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from subschemas(schema["items"], f"{path}[]")


def assert_nullable_form(path: str, schema: dict[str, Any]) -> None:
    """The one combinator every adapter takes (tools/dialect.py NULLABLE): anyOf [T, null] with a description
    beside it, for an optional number that has no empty value of its own to say "not given" with."""
    assert set(schema) <= {"anyOf", "description"}, f"{path}: {sorted(schema)} beside anyOf"
    assert len(schema["anyOf"]) == 2 and schema["anyOf"][1] == {"type": "null"}, f"{path}: only anyOf [T, null]"
    assert schema["anyOf"][0].get("type") in ("integer", "number"), f"{path}: nullable {schema['anyOf'][0]}"
    assert "description" not in schema["anyOf"][0], f"{path}: the description goes beside anyOf"


def test_registry_has_the_16_tools_in_design_order() -> None:
    assert [t.name for t in TOOLS] == DESIGN_ORDER


@by_name
def test_tool_json_matches_snapshot(tool: ToolSpec) -> None:
    path = SNAPSHOTS / f"{tool.name}.json"
    current = json.dumps(tool_json(tool), indent=2, sort_keys=True) + "\n"
    if UPDATE or not path.exists():
        path.write_text(current)
        if not UPDATE:
            pytest.fail(f"snapshot {path.name} was missing and has been written; review and commit it")
    assert current == path.read_text(), f"{tool.name} changed; rerun with UPDATE_SNAPSHOTS=1 if intended"


def test_every_snapshot_belongs_to_a_tool() -> None:
    assert sorted(p.stem for p in SNAPSHOTS.glob("*.json")) == sorted(DESIGN_ORDER)


@by_name
def test_five_annotations_are_set_on_purpose(tool: ToolSpec) -> None:
    annotations = tool_json(tool)["annotations"]
    assert set(annotations) == {"title", "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}
    assert annotations["readOnlyHint"] is (tool.name in READ_ONLY)
    assert annotations["destructiveHint"] is (tool.name in DESTRUCTIVE)


@by_name
def test_no_delete_or_put_tool_is_read_only(tool: ToolSpec) -> None:
    if tool.method in ("DELETE", "PUT"):
        assert not tool.read_only


@by_name
def test_every_destructive_tool_needs_confirmation(tool: ToolSpec) -> None:
    assert tool.needs_confirmation or not tool.destructive


def test_a_destructive_tool_without_confirmation_cannot_be_declared() -> None:
    with pytest.raises(ValueError, match="delete_customer: a destructive tool must ask for confirmation"):
        dataclasses.replace(TOOLS_BY_NAME["delete_customer"], needs_confirmation=False)


@by_name
def test_every_tool_has_a_toolset(tool: ToolSpec) -> None:
    assert tool.toolset in TOOLSETS


def test_every_toolset_has_tools() -> None:
    assert {tool.toolset for tool in TOOLS} == set(TOOLSETS)


@by_name
def test_published_schema_is_the_portable_form_of_the_validation_schema(tool: ToolSpec) -> None:
    assert portable(tool.schema) == tool.input_schema
    assert tool_json(tool)["inputSchema"] == tool.input_schema


@by_name
def test_published_schema_is_in_the_portable_dialect(tool: ToolSpec) -> None:
    schema = tool.input_schema
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    for path, sub in subschemas(schema):
        if "anyOf" in sub:
            assert_nullable_form(path, sub)
            continue
        assert isinstance(sub.get("type"), str) and sub["type"] in TYPES, f"{path}: one plain type string"
        assert not NOT_PORTABLE & set(sub), f"{path} uses {sorted(NOT_PORTABLE & set(sub))}"
        assert not [key for key in sub if key.startswith("x-")], f"{path}: private marks are not published"
        if sub["type"] == "object":
            assert isinstance(sub.get("properties"), dict) and sub["properties"], f"{path}: a map-shaped object"
            assert set(sub.get("required", [])) <= set(sub["properties"]), path
            for name in sub.get("required", []):
                assert "anyOf" not in sub["properties"][name], f"{path}.{name}: required, so never null"
        if sub["type"] == "array":
            assert isinstance(sub.get("items"), dict) and sub["items"].get("type") in TYPES, f"{path}: untyped items"
        if "enum" in sub:
            assert sub["type"] == "string" and all(isinstance(v, str) for v in sub["enum"]), path


@by_name
def test_validation_schema_is_valid_and_strict(tool: ToolSpec) -> None:
    schema = tool.schema
    Draft202012Validator.check_schema(schema)
    assert set(tool.path_params) <= set(schema.get("required", [])), "path parameters must be required"
    assert set(tool.query_params) | set(tool.local_params) <= set(schema["properties"])
    assert set(tool.defaults) <= set(schema["properties"])
    assert tool.entries is None or tool.entries in schema.get("required", [])
    for path, sub in subschemas(schema):
        assert isinstance(sub.get("type"), str), f"{path}: one type, never a list"
        assert not {"anyOf", "oneOf", "allOf", "$ref"} & set(sub), f"{path}: the validation schema is plain too"
        if sub["type"] == "object":
            assert sub.get("additionalProperties") is False, f"{path}: unexpected arguments are named"


@by_name
def test_output_schema_is_an_object_schema(tool: ToolSpec) -> None:
    schema = tool_json(tool)["outputSchema"]
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert "anyOf" not in json.dumps(schema) and "$ref" not in json.dumps(schema)


@by_name
def test_description_says_when_and_what_in_one_to_three_sentences(tool: ToolSpec) -> None:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", tool.description.strip()) if s]
    assert 1 <= len(sentences) <= 3
    assert "return" in tool.description.lower() or tool.method == "DELETE"
    if tool.deprecated:
        assert "deprecated" in tool.description.lower()


@by_name
def test_a_pattern_is_said_in_words_where_it_is_published(tool: ToolSpec) -> None:
    """Adapters drop `pattern`: a format other than an id's is described (E.164 phone, YYYY-MM-DD, ISO country)."""
    for path, sub in subschemas(tool.schema):
        if "pattern" in sub and sub["pattern"] != r"^\w[\w.:-]*$" and not sub.get("x-unpublished"):
            assert sub.get("description"), f"{path}: pattern {sub['pattern']} is not described"


def test_square_limits_are_validation_keywords() -> None:
    create = TOOLS_BY_NAME["create_customer"].schema["properties"]
    assert create["given_name"]["maxLength"] == 300
    assert create["family_name"]["maxLength"] == 300
    assert create["company_name"]["maxLength"] == 500
    assert create["nickname"]["maxLength"] == 100
    assert create["reference_id"]["maxLength"] == 100
    assert create["email_address"]["maxLength"] == 254
    assert create["eu_vat"]["maxLength"] == 20
    assert create["address"]["properties"]["country"]["pattern"] == "^[A-Z]{2}$"
    listing = TOOLS_BY_NAME["list_customers"].schema["properties"]
    assert (listing["limit"]["minimum"], listing["limit"]["maximum"]) == (1, 100)
    assert listing["sort_field"]["enum"] == ["DEFAULT", "CREATED_AT"]
    for name in ("bulk_create_customers", "bulk_update_customers"):
        entries = TOOLS_BY_NAME[name].schema["properties"]["customers"]
        assert (entries["type"], entries["minItems"], entries["maxItems"]) == ("array", 1, 100)
    ids = TOOLS_BY_NAME["bulk_delete_customers"].schema["properties"]["customer_ids"]
    assert (ids["minItems"], ids["maxItems"], ids["uniqueItems"]) == (1, 100, True)


def test_long_enums_are_enforced_but_not_published() -> None:
    search = TOOLS_BY_NAME["search_customers"]
    sources = search.schema["properties"]["filter"]["properties"]["creation_source"]["properties"]["values"]
    assert "THIRD_PARTY" in sources["items"]["enum"]
    published = search.input_schema["properties"]["filter"]["properties"]["creation_source"]["properties"]
    assert "enum" not in published["values"]["items"]
    assert "THIRD_PARTY" in published["values"]["description"] or "DIRECTORY" in published["values"]["description"]
    update = TOOLS_BY_NAME["update_customer"]
    assert "enum" in update.schema["properties"]["clear"]["items"]
    assert "enum" not in update.input_schema["properties"]["clear"]["items"]
    assert update.input_schema["properties"]["clear"]["description"]


def test_rare_address_fields_are_accepted_but_not_published() -> None:
    address = TOOLS_BY_NAME["create_customer"].schema["properties"]["address"]["properties"]
    published = TOOLS_BY_NAME["create_customer"].input_schema["properties"]["address"]["properties"]
    rare = {"address_line_3", "sublocality", "administrative_district_level_2"}
    assert rare <= set(address)
    assert rare.isdisjoint(published)
    assert set(address) - rare == set(published)


def test_no_field_is_nullable_and_clearing_is_explicit() -> None:
    update = TOOLS_BY_NAME["update_customer"].input_schema["properties"]
    for name in ("given_name", "email_address", "phone_number", "note", "birthday", "eu_vat"):
        assert update[name] == {"type": "string", **({"description": update[name]["description"]}
                                                     if "description" in update[name] else {})}  # fmt: skip
    assert update["address"]["type"] == "object"
    assert update["clear"]["type"] == "array" and update["clear"]["items"] == {"type": "string"}
    assert "tax_ids" not in update


def test_readme_tool_table_is_generated_from_the_registry() -> None:
    readme = README.read_text()
    begin, end = "<!-- tools-table:begin -->\n", "<!-- tools-table:end -->"
    assert begin in readme and end in readme, "README needs the tools-table markers"
    head, rest = readme.split(begin, 1)
    current, tail = rest.split(end, 1)
    if UPDATE:
        README.write_text(head + begin + tool_table() + end + tail)
        return
    assert current == tool_table(), "README tool table drifted from the registry; run UPDATE_SNAPSHOTS=1 pytest"
    for tool in TOOLS:
        assert f"| `{tool.name}` |" in current


@pytest.mark.parametrize("tool", TOOLS, ids=lambda tool: tool.name)
def test_each_tools_square_scope_is_the_one_squares_spec_requires(tool: ToolSpec) -> None:
    """OAuth mode lists and allows tools by this permission, so it must be exactly the endpoint's `security`."""
    security = spec_facts()["paths"][tool.path][tool.method.lower()]["security"]
    assert security == [{"oauth2": [tool.square_scope]}]
