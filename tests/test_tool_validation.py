"""Invalid arguments: a tool error that names the JSON path, and not one request sent to Square."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import (
    CARD_ID,
    CUSTOMER_ID,
    GROUP_ID,
    VALID_ARGS,
    assert_rejected,
    call_tool,
    requests_per_call,
    result_text,
)

from square_customers_mcp.tools import TOOLS, TOOLS_BY_NAME, ToolSpec

by_tool = pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)


def test_valid_args_cover_every_tool() -> None:
    assert set(VALID_ARGS) == set(TOOLS_BY_NAME)


@pytest.mark.anyio
@by_tool
async def test_valid_args_are_accepted(tool: ToolSpec) -> None:
    result, sent = await call_tool(tool.name, VALID_ARGS[tool.name])

    assert not result.is_error, result_text(result)
    assert len(sent) == requests_per_call(tool)


@pytest.mark.anyio
@by_tool
async def test_unknown_extra_argument(tool: ToolSpec) -> None:
    await assert_rejected(
        tool.name, {**VALID_ARGS[tool.name], "customerId": "X"}, "$", also="'customerId' was unexpected"
    )


# A field of each tool given the wrong JSON type, and the path that must be named.
WRONG_TYPE: dict[str, tuple[dict[str, Any], str]] = {
    "list_customers": ({"limit": "10"}, "$.limit"),
    "create_customer": ({"given_name": 42}, "$.given_name"),
    "bulk_create_customers": ({"customers": [{"given_name": ["Amelia"]}]}, "$.customers[0].given_name"),
    "bulk_delete_customers": ({"customer_ids": CUSTOMER_ID}, "$.customer_ids"),
    "bulk_retrieve_customers": ({"customer_ids": [CUSTOMER_ID, 7]}, "$.customer_ids[1]"),
    "bulk_update_customers": (
        {"customers": [{"customer_id": CUSTOMER_ID, "note": "n"}, {"customer_id": GROUP_ID, "version": "3"}]},
        "$.customers[1].version",
    ),
    "search_customers": ({"count": "true"}, "$.count"),
    "delete_customer": ({"version": True}, "$.version"),
    "retrieve_customer": ({"customer_id": 123}, "$.customer_id"),
    "update_customer": ({"address": "500 Electric Ave"}, "$.address"),
    "create_customer_card": ({"card_nonce": 7}, "$.card_nonce"),
    "delete_customer_card": ({"card_id": {"id": CARD_ID}}, "$.card_id"),
    "remove_group_from_customer": ({"group_id": [GROUP_ID]}, "$.group_id"),
    "add_group_to_customer": ({"group_id": 1.5}, "$.group_id"),
    "list_customer_groups": ({"cursor": 2}, "$.cursor"),
    "list_customer_segments": ({"cursor": ["next"]}, "$.cursor"),
}


@pytest.mark.anyio
@by_tool
async def test_wrong_type(tool: ToolSpec) -> None:
    change, path = WRONG_TYPE[tool.name]
    await assert_rejected(tool.name, {**VALID_ARGS[tool.name], **change}, path)


REQUIRED = [(tool, name) for tool in TOOLS for name in tool.schema.get("required", [])]


@pytest.mark.anyio
@pytest.mark.parametrize(("tool", "name"), REQUIRED, ids=[f"{t.name}-{n}" for t, n in REQUIRED])
async def test_missing_required_argument(tool: ToolSpec, name: str) -> None:
    args = {k: v for k, v in VALID_ARGS[tool.name].items() if k != name}
    await assert_rejected(tool.name, args, "$", also=f"'{name}' is a required property")


@pytest.mark.anyio
@pytest.mark.parametrize("tool", [t for t in TOOLS if t.schema.get("required")], ids=lambda t: t.name)
async def test_arguments_none_for_a_tool_with_required_arguments(tool: ToolSpec) -> None:
    first = tool.schema["required"][0]
    await assert_rejected(tool.name, None, "$", also=f"'{first}' is a required property")


@pytest.mark.anyio
async def test_arguments_none_for_create_customer_asks_for_an_identity() -> None:
    await assert_rejected("create_customer", None, "$", also="give at least one of given_name")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "tool", ["list_customers", "search_customers", "list_customer_groups", "list_customer_segments"]
)
async def test_arguments_none_is_fine_without_required_arguments(tool: str) -> None:
    result, sent = await call_tool(tool, None)

    assert not result.is_error
    assert len(sent) == 1


@pytest.mark.anyio
async def test_unknown_tool_name() -> None:
    result, sent = await call_tool("delete_all_customers", {"confirm": True})

    assert result.is_error
    assert sent == []
    text = result_text(result)
    assert "Unknown tool 'delete_all_customers'" in text
    assert "list_customers" in text  # says what exists


LONG = "x" * 301
IDENTITY_MESSAGE = "give at least one of given_name, family_name, company_name, email_address, phone_number"

# (tool, arguments, the JSON paths that must be named, text that must appear)
INVALID: list[Any] = [
    # page sizes: Square allows 1..100
    ("list_customers", {"limit": 0}, ["$.limit"], "less than the minimum of 1"),
    ("list_customers", {"limit": 101}, ["$.limit"], "greater than the maximum of 100"),
    ("list_customers", {"limit": -5}, ["$.limit"], ""),
    ("search_customers", {"limit": 0}, ["$.limit"], ""),
    ("search_customers", {"limit": 101}, ["$.limit"], ""),
    ("list_customers", {"sort_order": "desc"}, ["$.sort_order"], ""),
    ("list_customer_groups", {"limit": 5}, ["$"], "'limit' was unexpected"),
    ("list_customer_segments", {"cursor": "c", "count": True}, ["$"], "'count' was unexpected"),
    # string lengths
    ("create_customer", {"given_name": LONG}, ["$.given_name"], ""),
    ("update_customer", {"customer_id": CUSTOMER_ID, "given_name": LONG}, ["$.given_name"], ""),
    ("bulk_create_customers", {"customers": [{"given_name": LONG}]}, ["$.customers[0].given_name"], ""),
    (
        "bulk_update_customers",
        {"customers": [{"customer_id": CUSTOMER_ID, "given_name": LONG}]},
        ["$.customers[0].given_name"],
        "",
    ),
    ("create_customer", {"given_name": "A", "nickname": "n" * 101}, ["$.nickname"], "too long"),
    ("create_customer", {"given_name": "A", "reference_id": "r" * 101}, ["$.reference_id"], "too long"),
    ("create_customer", {"given_name": "A", "eu_vat": "v" * 21}, ["$.eu_vat"], "too long"),
    # country, email, birthday; the old nested tax_ids is gone
    ("create_customer", {"given_name": "A", "address": {"country": "USA"}}, ["$.address.country"], "'USA'"),
    ("create_customer", {"given_name": "A", "address": {"country": "us"}}, ["$.address.country"], ""),
    (
        "create_customer_card",
        {"customer_id": CUSTOMER_ID, "card_nonce": "cnon:x", "billing_address": {"country": "USA"}},
        ["$.billing_address.country"],
        "",
    ),
    ("create_customer", {"given_name": "A", "address": {"street": "x"}}, ["$.address"], "'street' was unexpected"),
    ("create_customer", {"given_name": "A", "tax_ids": {"eu_vat": "IE1"}}, ["$"], "'tax_ids' was unexpected"),
    ("create_customer", {"email_address": "amelia at example.com"}, ["$.email_address"], ""),
    ("create_customer", {"given_name": "A", "birthday": "19900101"}, ["$.birthday"], ""),
    ("create_customer", {"given_name": "A", "birthday": "24/07/1897"}, ["$.birthday"], ""),
    ("create_customer", {"given_name": "A", "birthday": "July 24"}, ["$.birthday"], ""),
    ("update_customer", {"customer_id": CUSTOMER_ID, "birthday": "1897-7-24"}, ["$.birthday"], ""),
    # create needs one of the five identifying fields
    ("create_customer", {"nickname": "Amy", "note": "met at the fair"}, ["$"], IDENTITY_MESSAGE),
    ("create_customer", {"given_name": "   ", "idempotency_key": "k"}, ["$"], IDENTITY_MESSAGE),
    ("create_customer", {}, ["$"], IDENTITY_MESSAGE),
    (
        "bulk_create_customers",
        {"customers": [{"given_name": "A"}, {"note": "no name"}]},
        ["$.customers[1]"],
        IDENTITY_MESSAGE,
    ),
    # bulk sizes: 1..100 entries, always a list (Square's maps are built by the server)
    ("bulk_create_customers", {"customers": [{"given_name": "A"}] * 101}, ["$.customers"], "is too long"),
    (
        "bulk_update_customers",
        {"customers": [{"customer_id": f"ID{i:03}", "note": "x"} for i in range(101)]},
        ["$.customers"],
        "is too long",
    ),
    ("bulk_create_customers", {"customers": {"k1": {"given_name": "A"}}}, ["$.customers"], "not of type 'array'"),
    ("bulk_update_customers", {"customers": {CUSTOMER_ID: {"note": "x"}}}, ["$.customers"], "not of type 'array'"),
    ("bulk_delete_customers", {"customer_ids": [f"ID{i:03}" for i in range(101)]}, ["$.customer_ids"], ""),
    ("bulk_retrieve_customers", {"customer_ids": [f"ID{i:03}" for i in range(101)]}, ["$.customer_ids"], ""),
    ("bulk_delete_customers", {"customer_ids": [CUSTOMER_ID, CUSTOMER_ID]}, ["$.customer_ids"], "non-unique"),
    ("bulk_update_customers", {"customers": [{"note": "x"}]}, ["$.customers[0]"], "'customer_id' is a required"),
    ("bulk_update_customers", {"customers": [{"customer_id": "a/b", "note": "x"}]}, ["$.customers[0].customer_id"], ""),
    ("bulk_create_customers", {"customers": [{"given_name": "A", "customer_id": "X"}]}, ["$.customers[0]"], ""),
    # phone numbers need 9-16 digits
    ("create_customer", {"given_name": "A", "phone_number": "12345"}, ["$.phone_number"], "'12345'"),
    ("create_customer", {"phone_number": "555-12"}, ["$.phone_number"], "9-16 digits"),
    ("create_customer", {"given_name": "A", "phone_number": "call me maybe"}, ["$.phone_number"], ""),
    ("update_customer", {"customer_id": CUSTOMER_ID, "phone_number": "12345"}, ["$.phone_number"], ""),
    (
        "bulk_create_customers",
        {"customers": [{"given_name": "A"}, {"given_name": "B", "phone_number": "12345"}]},
        ["$.customers[1].phone_number"],
        "",
    ),
    (
        "bulk_update_customers",
        {"customers": [{"customer_id": CUSTOMER_ID, "phone_number": "12345"}]},
        ["$.customers[0].phone_number"],
        "",
    ),
    # search: Square's CustomerFilter as `filter`, sort as two flat enums
    (
        "search_customers",
        {"filter": {"email_address": {"exact": "a@example.com", "fuzzy": "example"}}},
        ["$.filter.email_address"],
        "too many properties",
    ),
    (
        "search_customers",
        {"filter": {"phone_number": {"exact": "+12125554240", "fuzzy": "555"}}},
        ["$.filter.phone_number"],
        "",
    ),
    ("search_customers", {"filter": {"email": {"exact": "a@b.c"}}}, ["$.filter"], "'email'"),
    (
        "search_customers",
        {"filter": {"custom_attribute": {"filters": [{"key": "k"}]}}},
        ["$.filter"],
        "'custom_attribute'",
    ),
    (
        "search_customers",
        {"filter": {"created_at": {"start_at": "2024-01-01"}}},
        ["$.filter.created_at.start_at"],
        "",
    ),
    (
        "search_customers",
        {"filter": {"creation_source": {"values": ["WEBSITE"]}}},
        ["$.filter.creation_source.values[0]"],
        "UNMERGE_RECOVERY",  # an unpublished enum: the error lists every value
    ),
    ("search_customers", {"filter": {"group_ids": {"all": ["a/b"]}}}, ["$.filter.group_ids.all[0]"], ""),
    ("search_customers", {"sort_field": "NAME"}, ["$.sort_field"], ""),
    ("search_customers", {"query": {"filter": {"email_address": {"fuzzy": "x"}}}}, ["$"], "'query' was unexpected"),
    ("list_customers", {"fields": ["tax_ids"]}, ["$.fields[0]"], "updated_at"),
    ("retrieve_customer", {"customer_id": CUSTOMER_ID, "fields": ["note", "note"]}, ["$.fields"], "non-unique"),
    # versions and card fields
    ("delete_customer", {"customer_id": CUSTOMER_ID, "version": -1}, ["$.version"], ""),
    ("update_customer", {"customer_id": CUSTOMER_ID, "note": "x", "version": -1}, ["$.version"], ""),
    (
        "create_customer_card",
        {"customer_id": CUSTOMER_ID, "card_nonce": "n", "cardholder_name": "c" * 97},
        ["$.cardholder_name"],
        "too long",
    ),
    ("create_customer", {"given_name": "A", "idempotency_key": "k" * 129}, ["$.idempotency_key"], ""),
]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "args", "paths", "also"), INVALID, ids=[f"{i:02}-{case[0]}" for i, case in enumerate(INVALID)]
)
async def test_invalid_arguments(tool: str, args: dict[str, Any], paths: list[str], also: str) -> None:
    await assert_rejected(tool, args, *paths, also=also)


BAD_IDS = ["a/b", "{customer_id}", "../customers", "JDKY HBWT", "%2F", "ccof:x/../..", "?x=1", "#x"]
PATH_PARAMS = [(tool, name) for tool in TOOLS for name in tool.path_params]


@pytest.mark.anyio
@pytest.mark.parametrize(("tool", "name"), PATH_PARAMS, ids=[f"{t.name}-{n}" for t, n in PATH_PARAMS])
@pytest.mark.parametrize("bad", BAD_IDS)
async def test_path_id_that_could_change_the_url(tool: ToolSpec, name: str, bad: str) -> None:
    await assert_rejected(tool.name, {**VALID_ARGS[tool.name], name: bad}, f"$.{name}")


DOT_SEGMENTS = [".", ".."]


@pytest.mark.anyio
@pytest.mark.parametrize(("tool", "name"), PATH_PARAMS, ids=[f"{t.name}-{n}" for t, n in PATH_PARAMS])
@pytest.mark.parametrize("bad", DOT_SEGMENTS)
async def test_a_dot_segment_id_is_rejected(tool: ToolSpec, name: str, bad: str) -> None:
    await assert_rejected(tool.name, {**VALID_ARGS[tool.name], name: bad}, f"$.{name}")


@pytest.mark.anyio
async def test_dot_dot_card_id_never_becomes_a_customer_delete() -> None:
    """The concrete damage of the dot-segment bug, shown as a plain assertion on what is sent."""
    _, sent = await call_tool("delete_customer_card", {"customer_id": CUSTOMER_ID, "card_id": ".."})

    for request in sent:
        assert request.url.path.startswith(f"/v2/customers/{CUSTOMER_ID}/cards/"), (
            f"delete_customer_card sent {request.method} {request.url.path}"
        )


@pytest.mark.anyio
@pytest.mark.parametrize("tool", ["bulk_delete_customers", "bulk_retrieve_customers"])
async def test_bulk_ids_are_checked_like_path_ids(tool: str) -> None:
    await assert_rejected(tool, {"customer_ids": [CUSTOMER_ID, "a/b"]}, "$.customer_ids[1]")


@pytest.mark.anyio
@pytest.mark.parametrize("bad", BAD_IDS + DOT_SEGMENTS)
async def test_bulk_update_entry_ids_are_checked_like_path_ids(bad: str) -> None:
    entries = [{"customer_id": CUSTOMER_ID, "note": "a"}, {"customer_id": bad, "note": "b"}]
    await assert_rejected("bulk_update_customers", {"customers": entries}, "$.customers[1].customer_id")


@pytest.mark.anyio
async def test_several_problems_are_all_named() -> None:
    text = await assert_rejected(
        "create_customer", {"given_name": LONG, "address": {"country": "USA"}, "limit": 3}, "$", "$.given_name"
    )
    assert "$.address.country:" in text


@pytest.mark.anyio
async def test_a_huge_bad_value_is_not_echoed_whole() -> None:
    text = await assert_rejected("create_customer", {"given_name": "y" * 1_000_000}, "$.given_name")
    assert len(text) < 1_000


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "args", "reason"),
    [
        pytest.param("create_customer", {"given_name": LONG}, "is too long", id="given_name-301"),
        pytest.param(
            "bulk_create_customers",
            {"customers": [{"given_name": "A"}] * 101},
            "is too long",
            id="bulk-create-101",
        ),
        pytest.param(
            "bulk_delete_customers",
            {"customer_ids": [f"ID{i:03}" for i in range(101)]},
            "is too long",
            id="bulk-delete-101",
        ),
    ],
)
async def test_the_reason_survives_when_the_bad_value_is_long(tool: str, args: dict[str, Any], reason: str) -> None:
    await assert_rejected(tool, args, also=reason)


@pytest.mark.anyio
@pytest.mark.parametrize("bad", ["JDKYHBWT1D4F8MFH63DBMEN8Y4\n", "A\n"])
async def test_an_id_with_a_trailing_newline_is_rejected(bad: str) -> None:
    await assert_rejected("retrieve_customer", {"customer_id": bad}, "$.customer_id")


@pytest.mark.anyio
@pytest.mark.parametrize("birthday", ["1990-13-45", "2001-02-30", "00-00"])
async def test_an_impossible_birthday_is_rejected(birthday: str) -> None:
    await assert_rejected("create_customer", {"given_name": "A", "birthday": birthday}, "$.birthday")


@pytest.mark.anyio
async def test_a_lone_surrogate_in_a_query_string_is_a_tool_error() -> None:
    result, _ = await call_tool("list_customers", {"cursor": "\ud800"})
    assert result.is_error


def _named(text: str) -> list[str]:
    """The problems of a rejection, one per `- ` line, in the order given."""
    return [line[2:] for line in text.splitlines() if line.startswith("- ")]


PHONE_RULE = "a phone number needs 9-16 digits with an optional leading +"


@pytest.mark.anyio
async def test_a_bad_email_and_a_bad_phone_are_named_in_one_answer() -> None:
    # The email fails the schema (format), the phone only the digit rule JSON Schema can't say: both at once.
    text = await assert_rejected(
        "create_customer",
        {"email_address": "ada-at-example", "phone_number": "12"},
        "$.email_address",
        "$.phone_number",
    )
    assert PHONE_RULE in text


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "args", "paths"),
    [
        pytest.param(
            "create_customer",
            {"given_name": 42, "birthday": "1990-02-30", "phone_number": "call me"},
            ["$.birthday", "$.given_name", "$.phone_number"],
            id="wrong-type-beside-two-rule-errors",
        ),
        pytest.param(
            "update_customer",
            {"customer_id": CUSTOMER_ID, "address": {"country": "USA"}, "phone_number": "+1"},
            ["$.address.country", "$.phone_number"],
            id="enum-beside-rule",
        ),
        pytest.param(
            "bulk_create_customers",
            {"customers": ["Ada", {"nickname": "N", "birthday": "02-30"}, {"given_name": "B", "email_address": "b@"}]},
            ["$.customers[0]", "$.customers[1]", "$.customers[1].birthday", "$.customers[2].email_address"],
            id="bulk-entries-keep-their-index",
        ),
    ],
)
async def test_schema_and_rule_problems_are_named_together(tool: str, args: dict[str, Any], paths: list[str]) -> None:
    text = await assert_rejected(tool, args, *paths)
    assert len(_named(text)) == len(paths), text


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "args", "path"),
    [
        ("create_customer", {"given_name": 42}, "$.given_name"),
        ("create_customer", {"email_address": ["a@example.com"]}, "$.email_address"),
        ("update_customer", {"customer_id": CUSTOMER_ID, "note": 5}, "$.note"),
        ("bulk_update_customers", {"customers": [{"customer_id": CUSTOMER_ID, "note": 5}]}, "$.customers[0].note"),
    ],
)
async def test_a_field_of_the_wrong_type_is_not_also_called_missing(tool: str, args: dict[str, Any], path: str) -> None:
    # A rule about the whole object ("give at least one of ...", "name at least one field to change") can't be
    # judged while one of its fields is unreadable: the type error is the one thing to fix.
    text = await assert_rejected(tool, args, path)
    assert _named(text) == [line for line in _named(text) if line.startswith(f"{path}:")], text


@pytest.mark.anyio
async def test_an_unknown_property_does_not_hide_the_rules() -> None:
    text = await assert_rejected(
        "create_customer", {"given_name": "Ada", "emial": "ada@example.com", "birthday": "13-45"}, "$", "$.birthday"
    )
    assert "'emial' was unexpected" in text


@pytest.mark.anyio
async def test_problems_come_in_path_order_without_repeats() -> None:
    entries: list[Any] = [{"given_name": f"C{i}", "idempotency_key": f"k{i}"} for i in range(12)]
    entries[10] = {"given_name": "C10", "idempotency_key": "k3", "phone_number": "1"}
    entries[2] = {"given_name": 7, "idempotency_key": "k2x", "birthday": "02-30"}
    text = await assert_rejected("bulk_create_customers", {"customers": entries})
    assert [problem.partition(": ")[0] for problem in _named(text)] == [
        "$.customers[2].birthday",
        "$.customers[2].given_name",
        "$.customers[10].idempotency_key",
        "$.customers[10].phone_number",
    ], text
