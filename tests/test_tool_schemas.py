"""Every tool's Tool JSON: snapshot, lint, and the README table generated from the registry."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from server.app import mcp_tool
from tools import TOOLS, ToolSpec
from tools.table import tool_table

SNAPSHOTS = Path(__file__).parent / "snapshots"
README = Path(__file__).parents[1] / "README.md"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
DESIGN_ORDER = [
    "list_customers", "create_customer", "bulk_create_customers", "bulk_delete_customers",
    "bulk_retrieve_customers", "bulk_update_customers", "search_customers", "delete_customer",
    "retrieve_customer", "update_customer", "create_customer_card", "delete_customer_card",
    "remove_group_from_customer", "add_group_to_customer",
]  # fmt: skip
READ_ONLY = {"list_customers", "search_customers", "retrieve_customer", "bulk_retrieve_customers"}
DESTRUCTIVE = {
    "delete_customer", "bulk_delete_customers", "update_customer", "bulk_update_customers",
    "delete_customer_card", "remove_group_from_customer",
}  # fmt: skip

by_name = pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)


def tool_json(tool: ToolSpec) -> dict[str, Any]:
    return mcp_tool(tool).model_dump(mode="json", by_alias=True, exclude_none=True)


def test_registry_has_the_14_tools_in_design_order() -> None:
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
def test_input_schema_lint(tool: ToolSpec) -> None:
    schema = tool.input_schema
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert not {"anyOf", "oneOf", "allOf"} & set(schema), "some model APIs reject top-level combinators"
    assert set(schema.get("required", [])) <= set(schema["properties"])
    assert set(tool.path_params) <= set(schema.get("required", [])), "path parameters must be required"
    assert set(tool.query_params) <= set(schema["properties"])
    text = json.dumps(schema)
    assert '"anyOf"' not in text and '"oneOf"' not in text, "optional means not required, never anyOf [T, null]"


@by_name
def test_output_schema_is_an_object_schema(tool: ToolSpec) -> None:
    schema = tool_json(tool)["outputSchema"]
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert "anyOf" not in json.dumps(schema)


@by_name
def test_description_says_when_and_what_in_one_to_three_sentences(tool: ToolSpec) -> None:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", tool.description.strip()) if s]
    assert 1 <= len(sentences) <= 3
    assert "return" in tool.description.lower() or tool.method == "DELETE"
    if tool.deprecated:
        assert "deprecated" in tool.description.lower()


def test_update_fields_accept_null_as_a_type_list() -> None:
    update = next(t for t in TOOLS if t.name == "update_customer").input_schema["properties"]
    for name in ("given_name", "email_address", "phone_number", "note", "birthday"):
        assert update[name]["type"] == ["string", "null"]
    assert update["address"]["type"] == ["object", "null"]


def test_square_limits_are_schema_keywords() -> None:
    create = next(t for t in TOOLS if t.name == "create_customer").input_schema["properties"]
    assert create["given_name"]["maxLength"] == 300
    assert create["family_name"]["maxLength"] == 300
    assert create["company_name"]["maxLength"] == 500
    assert create["nickname"]["maxLength"] == 100
    assert create["reference_id"]["maxLength"] == 100
    assert create["email_address"]["maxLength"] == 254
    assert create["address"]["properties"]["country"]["pattern"] == "^[A-Z]{2}$"
    listing = next(t for t in TOOLS if t.name == "list_customers").input_schema["properties"]
    assert (listing["limit"]["minimum"], listing["limit"]["maximum"]) == (1, 100)
    assert listing["sort_field"]["enum"] == ["DEFAULT", "CREATED_AT"]
    bulk = next(t for t in TOOLS if t.name == "bulk_create_customers").input_schema["properties"]["customers"]
    assert (bulk["minProperties"], bulk["maxProperties"]) == (1, 100)


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
