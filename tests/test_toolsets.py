"""SQUARE_TOOLSETS / --toolsets: which tools a host is offered. A narrowed server lists and runs only the
tools of the named toolsets (any other is an unknown tool), read-only mode still applies on top, an
unknown name stops start-up with a message naming the variable or flag, and the default is all 16."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Protocol

import httpx
import pytest
from fakes import MakeFakeSquare, json_response
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

from square_customers_mcp.app import build_server
from square_customers_mcp.config import ConfigError, Settings, parse_toolsets
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.tools import TOOLS, TOOLSETS

SCRIPT = Path(sys.executable).with_name("square-customers-mcp")
EXPECTED = {
    "profiles": [
        "list_customers", "create_customer", "search_customers", "delete_customer", "retrieve_customer",
        "update_customer",
    ],
    "bulk": ["bulk_create_customers", "bulk_delete_customers", "bulk_retrieve_customers", "bulk_update_customers"],
    "groups": ["remove_group_from_customer", "add_group_to_customer", "list_customer_groups", "list_customer_segments"],
    "cards": ["create_customer_card", "delete_customer_card"],
}  # fmt: skip


def names_in(*toolsets: str) -> list[str]:
    """Registry order, as tools/list shows them."""
    return [tool.name for tool in TOOLS if tool.toolset in toolsets]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUARE_")}
    return env | extra


def test_every_tool_is_in_exactly_one_of_the_four_toolsets() -> None:
    assert TOOLSETS == ("profiles", "bulk", "groups", "cards")
    assert {name: names_in(name) for name in TOOLSETS} == EXPECTED
    assert (
        sorted(name for names in EXPECTED.values() for name in names) == sorted(tool.name for tool in TOOLS)
        and len(TOOLS) == 16
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", TOOLSETS),
        ("groups", ("groups",)),
        (" Profiles , groups,,profiles ", ("profiles", "groups")),
        ("cards,bulk,groups,profiles", ("cards", "bulk", "groups", "profiles")),
    ],
)
def test_the_variable_is_parsed_and_empty_means_all(raw: str, expected: tuple[str, ...]) -> None:
    assert Settings.from_env({"SQUARE_TOOLSETS": raw}).toolsets == expected
    assert Settings.from_env({}).toolsets == TOOLSETS


@pytest.mark.parametrize(("source", "raw"), [("SQUARE_TOOLSETS", "profiles,grups"), ("--toolsets", "customers")])
def test_an_unknown_toolset_is_an_error_naming_its_source_and_the_choices(source: str, raw: str) -> None:
    with pytest.raises(ConfigError) as raised:
        if source == "SQUARE_TOOLSETS":
            Settings.from_env({"SQUARE_TOOLSETS": raw})
        else:
            parse_toolsets(raw, source)
    bad = raw.split(",")[-1]
    assert str(raised.value) == f"{source}: unknown toolset {bad}; choose from profiles, bulk, groups, cards"


class NarrowedDispatcher(Protocol):
    def __call__(
        self, toolsets: tuple[str, ...], *, read_only: bool = False
    ) -> tuple[Dispatcher, list[httpx.Request]]: ...


@pytest.fixture
def narrowed_dispatcher(fake_square: MakeFakeSquare) -> NarrowedDispatcher:
    def make(toolsets: tuple[str, ...], *, read_only: bool = False) -> tuple[Dispatcher, list[httpx.Request]]:
        square = fake_square(
            json_response({"groups": [{"id": "G1", "name": "VIP"}], "customers": []}),
            settings=Settings(access_token="t", environment="sandbox"),
        )
        tools = [tool for tool in TOOLS if tool.toolset in toolsets]
        return square.dispatcher(read_only=read_only, tools=tools), square.requests

    return make


@pytest.mark.anyio
@pytest.mark.parametrize("toolset", TOOLSETS)
async def test_a_narrowed_server_lists_and_runs_only_its_toolset(
    toolset: str, narrowed_dispatcher: NarrowedDispatcher
) -> None:
    dispatcher, sent = narrowed_dispatcher((toolset,))
    async with Client(build_server(dispatcher), raise_exceptions=True) as client:
        listed = [tool.name for tool in (await client.list_tools()).tools]
        outside = [name for name in names_in(*TOOLSETS) if name not in listed]
        refused = [await client.call_tool(name, {"customer_id": "C1"}) for name in outside]
    assert listed == EXPECTED[toolset]
    assert len(outside) == 16 - len(listed) and sent == []
    for name, result in zip(outside, refused, strict=True):
        assert result.is_error and result.content[0].text.startswith(f"Unknown tool {name!r}. Available: ")
        assert result.content[0].text.endswith(", ".join(EXPECTED[toolset]))


@pytest.mark.anyio
async def test_read_only_applies_on_top_of_the_toolsets(narrowed_dispatcher: NarrowedDispatcher) -> None:
    dispatcher, sent = narrowed_dispatcher(("groups", "cards"), read_only=True)
    async with Client(build_server(dispatcher), raise_exceptions=True) as client:
        listed = [tool.name for tool in (await client.list_tools()).tools]
        write = await client.call_tool("add_group_to_customer", {"customer_id": "C1", "group_id": "G1"})
        other = await client.call_tool("list_customers", {})
        read = await client.call_tool("list_customer_groups", {})
    assert listed == ["list_customer_groups", "list_customer_segments"]
    assert write.is_error and "SQUARE_READ_ONLY" in write.content[0].text
    assert other.is_error and other.content[0].text.startswith("Unknown tool 'list_customers'")
    assert not read.is_error and read.structured_content == {"groups": [{"id": "G1", "name": "VIP"}]}
    assert [(r.method, r.url.path) for r in sent] == [("GET", "/v2/customers/groups")]


# ---- the console script: the real start-up path --------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("args", "env", "toolsets"),
    [
        ([], {"SQUARE_TOOLSETS": "groups"}, ("groups",)),
        (["--toolsets", "bulk"], {"SQUARE_TOOLSETS": "cards"}, ("bulk",)),  # the flag wins over the variable
        (["serve", "--toolsets", "cards,profiles"], {}, ("profiles", "cards")),
        ([], {}, TOOLSETS),
    ],
    ids=["variable", "flag-over-variable", "flag-after-serve", "default-all"],
)
async def test_the_console_script_narrows_tools_list(
    args: list[str], env: dict[str, str], toolsets: tuple[str, ...], tmp_path: Path
) -> None:
    params = StdioServerParameters(
        command=str(SCRIPT), args=args, env=_env(SQUARE_SANDBOX_DB=str(tmp_path / "c.db"), **env)
    )
    async with Client(params) as client:
        listed = [tool.name for tool in (await client.list_tools()).tools]
        outside = await client.call_tool(
            "retrieve_customer" if "profiles" not in toolsets else "list_customer_groups", {}
        )
    assert listed == names_in(*toolsets)
    narrowed = toolsets != TOOLSETS
    assert outside.is_error == narrowed
    assert outside.content[0].text.startswith("Unknown tool") == narrowed


@pytest.mark.anyio
async def test_the_console_script_with_read_only_and_a_toolset(tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=str(SCRIPT),
        args=["--read-only", "--toolsets", "profiles"],
        env=_env(SQUARE_SANDBOX_DB=str(tmp_path / "c.db")),
    )
    async with Client(params) as client:
        listed = [tool.name for tool in (await client.list_tools()).tools]
        create = await client.call_tool("create_customer", {"given_name": "Ada"})
        bulk = await client.call_tool("bulk_retrieve_customers", {"customer_ids": ["C1"]})
        page = await client.call_tool("list_customers", {})
    assert listed == ["list_customers", "search_customers", "retrieve_customer"]
    assert create.is_error and "SQUARE_READ_ONLY" in create.content[0].text
    assert bulk.is_error and bulk.content[0].text.startswith("Unknown tool 'bulk_retrieve_customers'")
    assert not page.is_error and page.structured_content == {"customers": []}


def test_start_up_line_says_which_toolsets_are_served() -> None:
    proc = subprocess.run(
        [str(SCRIPT), "--toolsets", "groups,cards"],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
        env=_env(SQUARE_SANDBOX_DB=":memory:"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "serving 6 tools on stdio, toolsets groups,cards; backend: local API" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([], {"SQUARE_TOOLSETS": "profiles,vip"}, "SQUARE_TOOLSETS: unknown toolset vip"),
        (["--toolsets", "bulk,segments"], {}, "--toolsets: unknown toolset segments"),
        (["serve", "--toolsets", "all"], {}, "--toolsets: unknown toolset all"),
    ],
)
def test_an_unknown_toolset_stops_the_console_script(args: list[str], env: dict[str, str], message: str) -> None:
    proc = subprocess.run([str(SCRIPT), *args], input="", capture_output=True, text=True, timeout=30, env=_env(**env))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"square-customers-mcp: {message}; choose from profiles, bulk, groups, cards"
    assert proc.stdout == ""


def test_help_documents_the_flag_and_the_variable() -> None:
    out = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=True).stdout
    assert "--toolsets" in out and "SQUARE_TOOLSETS" in out
    assert "profiles, bulk, groups, cards" in out


def test_toolsets_that_leave_no_tool_stop_the_console_script() -> None:
    env = _env(SQUARE_TOOLSETS="cards", SQUARE_READ_ONLY="true")
    proc = subprocess.run([str(SCRIPT)], input="", capture_output=True, text=True, timeout=30, env=env)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == "square-customers-mcp: toolsets cards in read-only mode leave no tool to serve"


@pytest.mark.anyio
@pytest.mark.parametrize(("toolsets", "served"), [(("profiles",), True), (("bulk", "groups", "cards"), False)])
async def test_customers_are_resources_only_where_the_tools_that_read_them_are_served(
    toolsets: tuple[str, ...], served: bool, narrowed_dispatcher: NarrowedDispatcher
) -> None:
    dispatcher, _ = narrowed_dispatcher(toolsets)
    async with Client(build_server(dispatcher), raise_exceptions=True) as client:
        assert (client.server_capabilities.resources is not None) == served
        if served:
            templates = (await client.list_resource_templates()).resource_templates
            assert [t.uri_template for t in templates] == ["square://customers/{customer_id}"]
        else:
            with pytest.raises(MCPError):
                await client.list_resource_templates()
