"""Each model-provider adapter's own conversion of an MCP tool, called the way the adapter calls it.

Every converter is a pure function: nothing here opens a connection or calls a provider. Imports are
inside the functions so the default test run (without the `compat` extra) can still collect this folder.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ToolDict = Mapping[str, Any]  # {"name", "description", "inputSchema"} as tools/list publishes it


@dataclass(frozen=True)
class Converted:
    schema: Mapping[str, Any]  # the parameters the model is shown, as JSON
    strict: bool | None  # None: this adapter has no strict mode
    openai_strict: bool = False  # sent to OpenAI with strict: true, so OpenAI's keyword limits apply
    note: str = ""  # why the adapter fell back to non-strict


@dataclass(frozen=True)
class Adapter:
    name: str
    distributions: tuple[str, ...]  # pinned in pyproject's `compat` extra
    convert: Callable[[ToolDict], Converted]


def _mcp_tool(tool: ToolDict) -> Any:
    from mcp.types import Tool

    return Tool.model_validate(dict(tool))


def _langchain_tool(tool: ToolDict) -> Any:
    from langchain_core.tools import StructuredTool

    # What langchain-mcp-adapters builds from an MCP tool: the raw inputSchema as args_schema.
    return StructuredTool(
        name=tool["name"],
        description=tool["description"],
        args_schema=copy.deepcopy(tool["inputSchema"]),
        func=lambda **_: None,
    )


def openai_agents(tool: ToolDict) -> Converted:
    from agents.mcp import MCPServerStdio
    from agents.mcp.util import MCPUtil
    from agents.strict_schema import ensure_strict_json_schema

    server = MCPServerStdio(params={"command": "never-started"}, name="compat")  # only read for settings
    function_tool = MCPUtil.to_function_tool(_mcp_tool(tool), server, convert_schemas_to_strict=True)
    note = ""
    if not function_tool.strict_json_schema:
        # to_function_tool only logs why it fell back (and hides the detail by default): rerun its check.
        try:
            ensure_strict_json_schema(copy.deepcopy(dict(tool["inputSchema"])), _reject_open_objects=True)
        except Exception as error:
            note = str(error)
    return Converted(function_tool.params_json_schema, function_tool.strict_json_schema, True, note)


def langchain(tool: ToolDict) -> Converted:
    from langchain_core.utils.function_calling import convert_to_openai_tool

    function = convert_to_openai_tool(_langchain_tool(tool), strict=True)["function"]
    return Converted(function["parameters"], function.get("strict"), openai_strict=True)


def pydantic_ai(tool: ToolDict) -> Converted:
    from pydantic_ai.providers.openai import OpenAIProvider

    # The transformer pydantic-ai's OpenAI provider picks for current models; strict=True as a tool marked strict.
    transformer_class = (OpenAIProvider.model_profile("gpt-5") or {})["json_schema_transformer"]
    transformer = transformer_class(copy.deepcopy(dict(tool["inputSchema"])), strict=True)
    return Converted(transformer.walk(), transformer.is_strict_compatible, openai_strict=True)


def anthropic(tool: ToolDict) -> Converted:
    from anthropic import transform_schema

    # Strict tool use sends {"input_schema": transform_schema(schema), "strict": true}; there is no fallback.
    return Converted(transform_schema(copy.deepcopy(dict(tool["inputSchema"]))), strict=True)


def _gemini_json(schema: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = schema.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def google_genai(tool: ToolDict) -> Converted:
    from google.genai import types

    # The SDK's public JSON Schema -> `parameters` (types.Schema) converter.
    parameters = types.Schema.from_json_schema(json_schema=types.JSONSchema.model_validate(tool["inputSchema"]))
    declaration = types.FunctionDeclaration(name=tool["name"], description=tool["description"], parameters=parameters)
    return Converted(_gemini_json(declaration.parameters), strict=None)


def google_genai_mcp(tool: ToolDict) -> Converted:
    from google.genai import _mcp_utils

    # What the SDK does itself with an MCP session or tool passed in `tools=` (filter, then from_json_schema).
    declaration = _mcp_utils.mcp_to_gemini_tool(_mcp_tool(tool)).function_declarations[0]
    return Converted(_gemini_json(declaration.parameters), strict=None)


def google_genai_json(tool: ToolDict) -> Converted:
    from google.genai import types

    # `parameters_json_schema` is passed through as is; the SDK's JSONSchema model is the subset it declares
    # for Gemini (extra keys forbidden), so a keyword outside it is reported as not accepted.
    types.JSONSchema.model_validate(tool["inputSchema"])
    declaration = types.FunctionDeclaration(
        name=tool["name"], description=tool["description"], parameters_json_schema=copy.deepcopy(tool["inputSchema"])
    )
    assert declaration.parameters_json_schema == tool["inputSchema"], "the SDK rewrote parameters_json_schema"
    return Converted(declaration.parameters_json_schema, strict=None)


def langchain_gemini(tool: ToolDict) -> Converted:
    from langchain_google_genai._function_utils import convert_to_genai_function_declarations

    # What ChatGoogleGenerativeAI.bind_tools does with a langchain-mcp-adapters tool.
    (genai_tool,) = convert_to_genai_function_declarations([_langchain_tool(tool)])
    return Converted(_gemini_json(genai_tool.function_declarations[0].parameters), strict=None)


def llama_index(tool: ToolDict) -> Converted:
    from llama_index.core.tools import ToolMetadata
    from llama_index.tools.mcp import McpToolSpec

    # llama-index-tools-mcp turns the inputSchema into a pydantic model; the model sees that model's schema.
    spec = McpToolSpec(client=None)  # the client is only used to list and call tools, not here
    model = spec.create_model_from_json_schema(copy.deepcopy(dict(tool["inputSchema"])), f"{tool['name']}_Schema")
    metadata = ToolMetadata(name=tool["name"], description=tool["description"], fn_schema=model)
    return Converted(metadata.to_openai_tool()["function"]["parameters"], strict=None)


ADAPTERS = {
    adapter.name: adapter
    for adapter in (
        Adapter("openai-agents", ("openai-agents",), openai_agents),
        Adapter("langchain", ("langchain-core",), langchain),
        Adapter("pydantic-ai", ("pydantic-ai-slim",), pydantic_ai),
        Adapter("anthropic", ("anthropic",), anthropic),
        Adapter("google-genai", ("google-genai",), google_genai),
        Adapter("google-genai-mcp", ("google-genai",), google_genai_mcp),
        Adapter("google-genai-json", ("google-genai",), google_genai_json),
        Adapter("langchain-gemini", ("langchain-google-genai",), langchain_gemini),
        Adapter("llama-index", ("llama-index-core", "llama-index-tools-mcp"), llama_index),
    )
}
