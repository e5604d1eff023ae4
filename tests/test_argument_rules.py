"""The rules of the portable arguments: `clear` (set and cleared, unknown names, nothing to change),
bulk entries (duplicate keys and ids), unpublished fields that are still accepted, and null / "" / [] / {}
read as "not given". Invalid calls name the field by JSON path and send nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakes import ADDRESS, AMELIA_ID, CUSTOMER_ID, MARIE_ID, assert_rejected, call_tool, result_text

from square_customers_mcp.tools import TOOLS_BY_NAME

NOTHING_TO_CHANGE = "name at least one field to change, or list fields to erase in clear"
CLEARABLE = TOOLS_BY_NAME["update_customer"].schema["properties"]["clear"]["items"]["enum"]
UPDATE = {"customer_id": CUSTOMER_ID}


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["note", "eu_vat", "address", "given_name"])
async def test_a_field_set_and_cleared_is_an_error(name: str) -> None:
    value: Any = dict(ADDRESS) if name == "address" else "x"
    await assert_rejected(
        "update_customer",
        {**UPDATE, name: value, "clear": ["birthday", name]},
        "$.clear",
        also=f"{name} is both set and cleared; do one or the other",
    )


@pytest.mark.anyio
async def test_every_field_set_and_cleared_is_named() -> None:
    text = await assert_rejected(
        "update_customer", {**UPDATE, "note": "x", "nickname": "y", "clear": ["note", "nickname"]}
    )

    assert "$.clear: note is both set and cleared" in text
    assert "$.clear: nickname is both set and cleared" in text


@pytest.mark.anyio
async def test_a_bulk_entry_set_and_cleared_is_named_by_position() -> None:
    entries = [
        {"customer_id": AMELIA_ID, "note": "ok"},
        {"customer_id": MARIE_ID, "phone_number": "+14155550123", "clear": ["phone_number"]},
    ]
    await assert_rejected(
        "bulk_update_customers", {"customers": entries}, "$.customers[1].clear", also="phone_number is both set"
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    "args",
    [UPDATE, {**UPDATE, "version": 4}, {**UPDATE, "clear": []}, {**UPDATE, "note": None, "clear": None}],
    ids=["id-only", "version-only", "empty-clear", "nulls-only"],
)
async def test_an_update_with_nothing_to_change_is_an_error(args: dict[str, Any]) -> None:
    await assert_rejected("update_customer", args, "$", also=NOTHING_TO_CHANGE)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "entry", [{"version": 4}, {}, {"note": "", "clear": []}], ids=["version-only", "id-only", "empties-only"]
)
async def test_a_bulk_update_entry_with_nothing_to_change_is_named(entry: dict[str, Any]) -> None:
    entries = [{"customer_id": AMELIA_ID, "note": "ok"}, {"customer_id": MARIE_ID, **entry}]
    await assert_rejected("bulk_update_customers", {"customers": entries}, "$.customers[1]", also=NOTHING_TO_CHANGE)


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["tax_ids", "preferences", "version", "customer_id", "Note", "email"])
async def test_an_unknown_clear_name_lists_the_clearable_ones(name: str) -> None:
    text = await assert_rejected("update_customer", {**UPDATE, "clear": [name]}, "$.clear[0]", also=repr(name))

    for clearable in CLEARABLE:
        assert repr(clearable) in text, f"{clearable} not offered in:\n{text}"


@pytest.mark.anyio
async def test_an_unknown_clear_name_in_a_bulk_entry_is_named_by_position() -> None:
    entries = [{"customer_id": AMELIA_ID, "clear": ["note"]}, {"customer_id": MARIE_ID, "clear": ["note", "tax_ids"]}]
    await assert_rejected("bulk_update_customers", {"customers": entries}, "$.customers[1].clear[1]", also="tax_ids")


@pytest.mark.anyio
async def test_a_field_cleared_twice_is_an_error() -> None:
    await assert_rejected("update_customer", {**UPDATE, "clear": ["note", "note"]}, "$.clear", also="non-unique")


@pytest.mark.anyio
async def test_duplicate_idempotency_keys_are_named_at_the_later_entries() -> None:
    entries = [
        {"idempotency_key": "k1", "given_name": "A"},
        {"idempotency_key": "k2", "given_name": "B"},
        {"idempotency_key": "k1", "given_name": "C"},
        {"given_name": "D"},
        {"idempotency_key": "k2", "given_name": "E"},
    ]
    text = await assert_rejected(
        "bulk_create_customers",
        {"customers": entries},
        "$.customers[2].idempotency_key",
        "$.customers[4].idempotency_key",
        also="'k1' is already used by an earlier entry",
    )
    assert "$.customers[0]" not in text and "$.customers[1]" not in text and "$.customers[3]" not in text


@pytest.mark.anyio
async def test_duplicate_customer_ids_in_a_bulk_update_are_named() -> None:
    entries = [
        {"customer_id": AMELIA_ID, "note": "a"},
        {"customer_id": MARIE_ID, "note": "b"},
        {"customer_id": AMELIA_ID, "nickname": "c"},
    ]
    text = await assert_rejected(
        "bulk_update_customers",
        {"customers": entries},
        "$.customers[2].customer_id",
        also=f"{AMELIA_ID!r} is already used by an earlier entry",
    )
    assert "$.customers[1]" not in text


@pytest.mark.anyio
async def test_entries_without_keys_are_never_duplicates() -> None:
    result, sent = await call_tool("bulk_create_customers", {"customers": [{"given_name": "A"}] * 3})

    assert not result.is_error, result_text(result)
    assert len(sent) == 1


UNPUBLISHED_ADDRESS = {"address_line_3": "Floor 2", "sublocality": "SoHo", "administrative_district_level_2": "NYC"}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("create_customer", {"given_name": "A", "address": {**ADDRESS, **UNPUBLISHED_ADDRESS}}),
        ("update_customer", {**UPDATE, "address": UNPUBLISHED_ADDRESS}),
        ("bulk_create_customers", {"customers": [{"given_name": "A", "address": UNPUBLISHED_ADDRESS}]}),
        ("bulk_update_customers", {"customers": [{"customer_id": AMELIA_ID, "address": UNPUBLISHED_ADDRESS}]}),
        (
            "create_customer_card",
            {"customer_id": CUSTOMER_ID, "card_nonce": "n", "billing_address": UNPUBLISHED_ADDRESS},
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_unpublished_address_fields_are_accepted(tool: str, args: dict[str, Any]) -> None:
    published = str(TOOLS_BY_NAME[tool].input_schema)
    assert all(name not in published for name in UNPUBLISHED_ADDRESS)  # not offered...
    result, sent = await call_tool(tool, args)

    assert not result.is_error, result_text(result)  # ...but accepted
    assert len(sent) == 1
    assert all(value in sent[0].content.decode() for value in UNPUBLISHED_ADDRESS.values())


@pytest.mark.anyio
async def test_unpublished_fields_keep_their_limits() -> None:
    await assert_rejected(
        "create_customer", {"given_name": "A", "address": {"sublocality": 7}}, "$.address.sublocality"
    )


# null, "", [] and {} mean "not given": never "erase", never "invalid because empty".


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "args", "path", "also"),
    [
        ("retrieve_customer", {"customer_id": None}, "$", "'customer_id' is a required property"),
        ("retrieve_customer", {"customer_id": ""}, "$", "'customer_id' is a required property"),
        ("create_customer_card", {"customer_id": CUSTOMER_ID, "card_nonce": ""}, "$", "'card_nonce' is a required"),
        ("bulk_create_customers", {"customers": []}, "$", "'customers' is a required property"),
        ("bulk_delete_customers", {"customer_ids": []}, "$", "'customer_ids' is a required property"),
        ("bulk_retrieve_customers", {"customer_ids": None}, "$", "'customer_ids' is a required property"),
        ("create_customer", {"given_name": "", "email_address": None, "note": "n"}, "$", "give at least one of"),
        ("bulk_create_customers", {"customers": [{"given_name": None}]}, "$.customers[0]", "give at least one of"),
        ("bulk_update_customers", {"customers": [{"customer_id": None, "note": "n"}]}, "$.customers[0]", "required"),
    ],
    ids=lambda v: v if isinstance(v, str) and not v.startswith(("$", "'")) else "",
)
async def test_an_empty_value_reads_as_missing(tool: str, args: dict[str, Any], path: str, also: str) -> None:
    await assert_rejected(tool, args, path, also=also)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("list_customers", {"cursor": "", "limit": None, "sort_field": None, "fields": []}),
        ("search_customers", {"filter": {"email_address": {}, "created_at": {"start_at": None}}, "cursor": ""}),
        ("create_customer", {"given_name": "A", "idempotency_key": "", "birthday": "", "address": {"country": ""}}),
        ("update_customer", {**UPDATE, "note": "n", "version": None, "phone_number": "", "email_address": None}),
        ("create_customer_card", {"customer_id": CUSTOMER_ID, "card_nonce": "n", "verification_token": ""}),
        ("delete_customer", {"customer_id": CUSTOMER_ID, "version": None}),
        ("list_customer_groups", {"cursor": None}),
        ("list_customer_segments", {"cursor": ""}),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_empty_values_that_would_be_invalid_are_simply_left_out(tool: str, args: dict[str, Any]) -> None:
    result, sent = await call_tool(tool, args)

    assert not result.is_error, result_text(result)
    assert len(sent) == 1
    assert b"null" not in sent[0].content and b'""' not in sent[0].content
    assert "=&" not in str(sent[0].url) and not str(sent[0].url).endswith("=")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "search_filter",
    [
        {"email_address": {"exact": ""}},
        {"group_ids": {"any": []}},
        {"created_at": {"start_at": "", "end_at": None}},
        {"creation_source": {"values": [], "rule": "INCLUDE"}},
        {"segment_ids": None, "phone_number": {"fuzzy": ""}, "updated_at": {}},
    ],
)
async def test_a_filter_whose_every_condition_is_empty_is_refused_not_widened(search_filter: dict[str, Any]) -> None:
    # Dropped as "not given", it would match every customer (e.g. an id list that came back empty).
    await assert_rejected("search_customers", {"filter": search_filter}, "$.filter", also="would match everything")


@pytest.mark.anyio
async def test_a_filter_left_out_or_null_searches_everyone() -> None:
    for args in ({}, {"filter": None}, {"filter": {}}, {"filter": {"email_address": None, "created_at": {}}}):
        result, sent = await call_tool("search_customers", args)
        assert not result.is_error, result_text(result)
        assert "query" not in json.loads(sent[0].content)


@pytest.mark.anyio
async def test_one_address_line_can_be_cleared_and_conflicts_are_named() -> None:
    cleared, sent = await call_tool(
        "update_customer", {**UPDATE, "address": {"locality": "Cork"}, "clear": ["address.address_line_2", "eu_vat"]}
    )
    assert not cleared.is_error, result_text(cleared)
    body = json.loads(sent[0].content)
    assert body["address"] == {"locality": "Cork", "address_line_2": None}
    assert body["tax_ids"] == {"eu_vat": None}, "only eu_vat is erased, not every tax id"
    await assert_rejected(
        "update_customer",
        {**UPDATE, "address": {"address_line_2": "x"}, "clear": ["address.address_line_2"]},
        "$.clear",
        also="address.address_line_2 is both set and cleared",
    )
    await assert_rejected("update_customer", {**UPDATE, "clear": ["address.nope"]}, "$.clear[0]")


@pytest.mark.anyio
async def test_set_and_cleared_is_named_beside_a_malformed_clear_item() -> None:
    # clear[1] fails the schema; the rule still judges the readable items, at their own positions.
    entries = [
        {"customer_id": AMELIA_ID, "note": "ok"},
        {"customer_id": MARIE_ID, "note": "x", "clear": ["note", 5]},
    ]
    text = await assert_rejected(
        "bulk_update_customers", {"customers": entries}, "$.customers[1].clear", "$.customers[1].clear[1]"
    )
    assert "$.customers[1].clear: note is both set and cleared" in text


@pytest.mark.anyio
async def test_a_duplicate_bulk_id_is_named_beside_a_schema_error() -> None:
    entries = [{"customer_id": AMELIA_ID, "note": "a"}, {"customer_id": AMELIA_ID, "note": "b", "version": "2"}]
    text = await assert_rejected(
        "bulk_update_customers", {"customers": entries}, "$.customers[1].customer_id", "$.customers[1].version"
    )
    assert "is already used by an earlier entry" in text


def test_a_rule_that_cannot_read_a_malformed_call_leaves_the_schema_errors() -> None:
    from square_customers_mcp import validation
    from square_customers_mcp.tools.formats import FORMAT_CHECKER

    schema = {"type": "object", "properties": {"a": {"type": "integer", "maximum": 3}}}
    validator = validation.StrictValidator(schema, format_checker=FORMAT_CHECKER)

    def fragile(args: Any) -> list[str]:
        return [f"$.a: {args['a'] + 1} is odd"] if args["a"] % 2 == 0 else []

    assert validation.problems(validator, [fragile], {"a": 4}) == [
        "$.a: 4 is greater than the maximum of 3",
        "$.a: 5 is odd",
    ]
    # `a` has the wrong type, so the rule (which assumes it) can't run: the schema's message stands alone.
    assert validation.problems(validator, [fragile], {"a": "4"}) == ["$.a: '4' is not of type 'integer'"]
    # On arguments the schema accepts, a failing rule is a bug and must not be swallowed.
    with pytest.raises(KeyError):
        validation.problems(validator, [fragile], {})
