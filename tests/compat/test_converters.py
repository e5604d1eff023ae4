"""The published tool list through every provider adapter's converter (see README.md beside this file).

One test per (tool, adapter): the converter accepts the schema, stays strict where it has a strict mode,
and the converted schema still lets a model say everything the published one lets it say.
"""

from __future__ import annotations

import json
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from compat_adapters import ADAPTERS, Adapter
from compat_schema import OPENAI_STRICT_REFUSED, keywords, problems, sayable_nothing

from square_customers_mcp.app import mcp_tool
from square_customers_mcp.tools import TOOLS

pytestmark = pytest.mark.compat

QUIET = {spec.name: sayable_nothing(spec.schema) for spec in TOOLS}
# The default dialect (nested objects inline) and SQUARE_SCHEMA_REFS=true (nested objects in $defs).
DIALECTS = {
    "inline": [mcp_tool(spec).model_dump(mode="json", by_alias=True, exclude_none=True) for spec in TOOLS],
    "refs": [
        mcp_tool(spec, schema_refs=True).model_dump(mode="json", by_alias=True, exclude_none=True) for spec in TOOLS
    ],
}
# llama-index-tools-mcp reads nested objects only through $ref (run-llama/llama_index#22141): with the inline
# dialect it shows them as open objects, which test_llama_index_needs_refs asserts, so its users run with
# SQUARE_SCHEMA_REFS=true. Every other adapter must take both dialects.
NEEDS_REFS = {"llama-index"}
CASES = [
    pytest.param(dialect, tool, adapter, id=f"{tool['name']}-{adapter.name}-{dialect}")
    for dialect, tools in DIALECTS.items()
    for tool in tools
    for adapter in ADAPTERS.values()
    if dialect == "refs" or adapter.name not in NEEDS_REFS
]


def _convert(tool: dict[str, Any], adapter: Adapter) -> Any:
    try:
        return adapter.convert(tool)
    except ImportError:
        raise  # a missing adapter is a broken install, not a schema verdict
    except Exception as error:
        pytest.fail(
            f"{adapter.name} rejected {tool['name']}: {type(error).__name__}: {str(error)[:600]}", pytrace=False
        )


@pytest.mark.parametrize(("dialect", "tool", "adapter"), CASES)
def test_adapter_keeps_every_operation(dialect: str, tool: dict[str, Any], adapter: Adapter) -> None:
    converted = _convert(tool, adapter)
    failures: list[str] = []
    if converted.strict is False:
        failures.append("fell back to non-strict" + (f" ({converted.note})" if converted.note else ""))
    if converted.openai_strict:
        refused = sorted(OPENAI_STRICT_REFUSED.intersection(keywords(converted.schema)))
        if refused:
            failures.append(f"sent as strict with keywords OpenAI's strict mode refuses: {', '.join(refused)}")
    failures += problems(tool["inputSchema"], converted.schema, QUIET[tool["name"]])
    if failures:
        pytest.fail(f"{adapter.name} / {tool['name']} ({dialect}):\n  " + "\n  ".join(failures), pytrace=False)


@pytest.mark.parametrize("adapter_name", sorted(NEEDS_REFS))
def test_llama_index_needs_refs(adapter_name: str) -> None:
    """Why SQUARE_SCHEMA_REFS exists: with inline objects this adapter loses nested shapes. When an upstream
    fix makes this fail, the setting can go."""
    adapter = ADAPTERS[adapter_name]
    degraded = {
        tool["name"]
        for tool in DIALECTS["inline"]
        if any("open object" in problem for problem in problems(tool["inputSchema"], _convert(tool, adapter).schema))
    }
    nested = {tool["name"] for tool in DIALECTS["inline"] if "object" in json.dumps(tool["inputSchema"]["properties"])}
    assert degraded == nested


def test_installed_adapters_match_the_pins() -> None:
    from packaging.requirements import Requirement

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    pins = {
        Requirement(line).name: Requirement(line) for line in pyproject["project"]["optional-dependencies"]["compat"]
    }
    for distribution in sorted({name for adapter in ADAPTERS.values() for name in adapter.distributions}):
        assert distribution in pins, f"{distribution} is not pinned in the compat extra"
        installed = version(distribution)  # PackageNotFoundError: install '.[compat]'
        assert pins[distribution].specifier.contains(installed, prereleases=True), (
            f"{distribution} {installed} is outside the pinned {pins[distribution].specifier}"
        )
