"""Trimming Square's example responses into what the model reads. The examples come from
tests/data/square_spec_facts.json (made by tests/data/make_spec_facts.py from Square's spec in ../shared)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from expected_results import BULK_CREATE_KEYS as CREATE_KEYS
from expected_results import GROUPS, NOT_FOUND_MISSING, RETRIEVED, SEGMENTS
from fakes import (
    ADDRESS_LINE,
    AMELIA_ID,
    CUSTOMER_ID,
    GROUP_ID,
    MARIE_ID,
    MISSING_ID,
    response_example,
)
from jsonschema import Draft202012Validator

from square_customers_mcp.tools import TOOLS_BY_NAME, ToolSpec
from square_customers_mcp.tools.outputs import Customer, output_schema
from square_customers_mcp.tools.trim import with_new_version

# (tool, the spec's example response, the tool arguments the trim function sees)
EXAMPLES: list[tuple[str, str, dict[str, Any]]] = [
    ("list_customers", "ListCustomersResponse", {}),
    ("create_customer", "CreateCustomerResponse", {"given_name": "Amelia", "idempotency_key": "key-1"}),
    (
        "bulk_create_customers",
        "BulkCreateCustomersResponse",
        {"customers": [{"idempotency_key": k, "given_name": "A"} for k in CREATE_KEYS]},
    ),
    ("bulk_delete_customers", "BulkDeleteCustomersResponse", {"customer_ids": [MISSING_ID, AMELIA_ID, MARIE_ID]}),
    ("bulk_retrieve_customers", "BulkRetrieveCustomersResponse", {"customer_ids": [MISSING_ID, AMELIA_ID, MARIE_ID]}),
    ("bulk_update_customers", "BulkUpdateCustomersResponse", {"customers": [{"customer_id": AMELIA_ID, "note": "x"}]}),
    ("search_customers", "SearchCustomersResponse", {}),
    ("delete_customer", "DeleteCustomerResponse", {"customer_id": CUSTOMER_ID}),
    ("retrieve_customer", "RetrieveCustomerResponse", {"customer_id": CUSTOMER_ID}),
    ("update_customer", "UpdateCustomerResponse", {"customer_id": CUSTOMER_ID, "note": "x"}),
    ("create_customer_card", "CreateCustomerCardResponse", {"customer_id": CUSTOMER_ID, "card_nonce": "n"}),
    ("delete_customer_card", "DeleteCustomerCardResponse", {"customer_id": CUSTOMER_ID, "card_id": "ccof:1"}),
    (
        "remove_group_from_customer",
        "RemoveGroupFromCustomerResponse",
        {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID},
    ),
    ("add_group_to_customer", "AddGroupToCustomerResponse", {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID}),
    ("list_customer_groups", "ListCustomerGroupsResponse", {}),
    ("list_customer_segments", "ListCustomerSegmentsResponse", {}),
]
EMPTY_RESPONSES = {"DeleteCustomerResponse", "DeleteCustomerCardResponse", "RemoveGroupFromCustomerResponse",
                   "AddGroupToCustomerResponse"}  # fmt: skip
# Bulk delete answers are ids and error texts, with little to cut; customer-bearing answers lose at least a quarter.
MAX_RATIO = {"BulkDeleteCustomersResponse": 0.9}
by_example = pytest.mark.parametrize(("tool_name", "example", "args"), EXAMPLES, ids=[e[0] for e in EXAMPLES])


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def trimmed(tool_name: str, body: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """Trim, then check the result against the tool's outputSchema and its pydantic model."""
    tool: ToolSpec = TOOLS_BY_NAME[tool_name]
    out = tool.trim(body, args)
    problems = [
        f"{e.json_path}: {e.message}" for e in Draft202012Validator(output_schema(tool.output_model)).iter_errors(out)
    ]
    assert problems == [], problems
    tool.output_model.model_validate(out)
    for customer in customers_of(out):
        Customer.model_validate(customer)  # a listed customer's schema is loose; the fields still are not
    return out


def empties(value: Any, path: str = "$") -> Iterator[str]:
    """JSON paths of every null, empty string, empty list and empty object inside value."""
    if value is None or value in ("", [], {}):
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from empties(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from empties(item, f"{path}[{i}]")


def customers_of(out: dict[str, Any]) -> list[dict[str, Any]]:
    if "customer" in out:
        return [out["customer"]]
    found = out.get("customers", [])
    assert isinstance(found, list)
    return list(found)


def test_every_tool_has_an_example() -> None:
    assert sorted(name for name, _, _ in EXAMPLES) == sorted(TOOLS_BY_NAME)


@by_example
def test_example_trims_to_a_valid_output(tool_name: str, example: str, args: dict[str, Any]) -> None:
    raw = response_example(example)
    out = trimmed(tool_name, raw, args)

    assert list(empties(out)) == []
    assert out, "a result is never the empty object"
    for customer in customers_of(out):
        assert isinstance(customer["version"], int)
        assert customer["id"]
        assert len(customer) > 2, "a customer is never ids only"
        assert "preferences" not in customer
        assert customer.get("creation_source") != "THIRD_PARTY"


@by_example
def test_trimmed_text_is_shorter_than_squares_json(tool_name: str, example: str, args: dict[str, Any]) -> None:
    raw = response_example(example)
    raw_text, out_text = compact(raw), compact(trimmed(tool_name, raw, args))
    ratio = len(out_text) / len(raw_text)
    print(f"{tool_name}: {len(raw_text)} -> {len(out_text)} characters ({ratio:.0%})")

    if example in EMPTY_RESPONSES:
        assert len(out_text) < 120  # Square says {}; the result says what happened, briefly
    else:
        assert ratio < MAX_RATIO.get(example, 0.75), f"{tool_name} keeps {ratio:.0%} of Square's JSON"


def test_the_whole_set_of_customer_examples_shrinks_by_a_third_or_more() -> None:
    raw_total = out_total = 0
    for tool_name, example, args in EXAMPLES:
        if example in EMPTY_RESPONSES:
            continue
        raw = response_example(example)
        raw_total += len(compact(raw))
        out_total += len(compact(trimmed(tool_name, raw, args)))
    print(f"all customer examples: {raw_total} -> {out_total} characters ({out_total / raw_total:.0%})")
    assert out_total < raw_total * 2 / 3


def test_retrieved_customer_in_full() -> None:
    out = trimmed("retrieve_customer", response_example("RetrieveCustomerResponse"), {"customer_id": CUSTOMER_ID})

    assert out == {"customer": RETRIEVED}


@pytest.mark.parametrize(
    ("tool_name", "example"),
    [
        ("retrieve_customer", "RetrieveCustomerResponse"),
        ("create_customer", "CreateCustomerResponse"),
        ("update_customer", "UpdateCustomerResponse"),
    ],
)
def test_address_becomes_one_line(tool_name: str, example: str) -> None:
    args = {"customer_id": CUSTOMER_ID, "idempotency_key": "k"}
    out = trimmed(tool_name, response_example(example), args)

    assert out["customer"]["address"] == "500 Electric Ave, Suite 600, New York, NY 10003, US"


def test_card_billing_address_becomes_one_line() -> None:
    out = trimmed("create_customer_card", response_example("CreateCustomerCardResponse"), {"customer_id": CUSTOMER_ID})

    assert out == {
        "card": {
            "id": "icard-card_id",
            "card_brand": "VISA",
            "last_4": "1111",
            "exp_month": 11,
            "exp_year": 2018,
            "cardholder_name": "Amelia Earhart",
            "billing_address": ADDRESS_LINE,
        }
    }


@pytest.mark.parametrize(
    ("address", "line"),
    [
        ({"country": "US"}, "US"),
        ({"locality": "Paris", "postal_code": "75001", "country": "FR"}, "Paris, 75001, FR"),
        ({"address_line_1": "1 Main St", "address_line_2": "", "locality": "Springfield"}, "1 Main St, Springfield"),
    ],
)
def test_partial_addresses(address: dict[str, str], line: str) -> None:
    raw = response_example("RetrieveCustomerResponse")
    raw["customer"]["address"] = address
    out = trimmed("retrieve_customer", raw, {"customer_id": CUSTOMER_ID})

    assert out["customer"]["address"] == line


@pytest.mark.parametrize(("birthday", "shown"), [("0000-09-21", "09-21"), ("1897-07-24", "1897-07-24")])
def test_birthday_without_a_year(birthday: str, shown: str) -> None:
    raw = response_example("RetrieveCustomerResponse")
    raw["customer"]["birthday"] = birthday
    out = trimmed("retrieve_customer", raw, {"customer_id": CUSTOMER_ID})

    assert out["customer"]["birthday"] == shown


def test_defaults_that_say_nothing_are_dropped_and_signals_are_kept() -> None:
    raw = response_example("RetrieveCustomerResponse")
    customer = raw["customer"]
    customer.update(
        nickname="",
        company_name=None,
        group_ids=[],
        segment_ids=[],
        tax_ids={},
        preferences={"email_unsubscribed": True},
        creation_source="DIRECTORY",
        address={},
    )
    out = trimmed("retrieve_customer", raw, {"customer_id": CUSTOMER_ID})["customer"]

    for key in ("nickname", "company_name", "group_ids", "segment_ids", "eu_vat", "address", "tax_ids"):
        assert key not in out
    assert out["email_unsubscribed"] is True
    assert out["creation_source"] == "DIRECTORY"

    customer.update(tax_ids={"eu_vat": "IE3426675K"}, preferences={"email_unsubscribed": False})
    out = trimmed("retrieve_customer", raw, {"customer_id": CUSTOMER_ID})["customer"]
    assert out["eu_vat"] == "IE3426675K"
    assert "email_unsubscribed" not in out


@pytest.mark.parametrize("tool_name", ["create_customer", "retrieve_customer", "update_customer"])
def test_version_zero_is_kept(tool_name: str) -> None:
    raw = response_example("CreateCustomerResponse")
    assert raw["customer"]["version"] == 0
    out = trimmed(tool_name, raw, {"customer_id": CUSTOMER_ID, "idempotency_key": "k"})

    assert out["customer"]["version"] == 0


def test_created_customer_is_the_customer_alone() -> None:
    out = trimmed("create_customer", response_example("CreateCustomerResponse"), {"idempotency_key": "key-42"})

    assert set(out) == {"customer"}
    assert out["customer"]["id"] == "JDKYHBWT1D4F8MFH63DBMEN8Y4"
    assert "key-42" not in compact(out)


def test_list_page_carries_cursor_and_count() -> None:
    raw = response_example("ListCustomersResponse") | {"cursor": "next-1", "count": 12}
    out = trimmed("list_customers", raw, {})

    assert out["next_cursor"] == "next-1"
    assert out["count"] == 12
    assert [c["id"] for c in out["customers"]] == [CUSTOMER_ID]


def test_search_page_keeps_the_cursor_and_order() -> None:
    out = trimmed("search_customers", response_example("SearchCustomersResponse"), {})

    assert out["next_cursor"] == "9dpS093Uy12AzeE"
    assert [c["id"] for c in out["customers"]] == [CUSTOMER_ID, "A9641GZW2H7Z56YYSD41Q12HDW"]
    assert [c["version"] for c in out["customers"]] == [7, 1]


def test_an_empty_page_is_an_empty_list_and_nothing_else() -> None:
    assert trimmed("list_customers", {}, {}) == {"customers": []}
    assert trimmed("search_customers", {"customers": []}, {}) == {"customers": []}


@pytest.mark.parametrize("tool_name", ["bulk_retrieve_customers", "bulk_delete_customers"])
def test_bulk_per_id_errors_are_kept_with_counts(tool_name: str) -> None:
    example = (
        "BulkRetrieveCustomersResponse" if tool_name == "bulk_retrieve_customers" else "BulkDeleteCustomersResponse"
    )
    out = trimmed(tool_name, response_example(example), {})

    assert out["errors"] == {MISSING_ID: NOT_FOUND_MISSING}
    assert (out["succeeded"], out["failed"]) == (2, 1)
    if tool_name == "bulk_delete_customers":
        assert set(out) == {"errors", "succeeded", "failed"}  # the model knows which ids it sent
    else:
        assert [c["id"] for c in out["customers"]] == [AMELIA_ID, MARIE_ID]
        assert [c["version"] for c in out["customers"]] == [3, 1]


def test_bulk_delete_without_failures_is_counts_only() -> None:
    raw = {"responses": {AMELIA_ID: {}, MARIE_ID: {}}}

    assert trimmed("bulk_delete_customers", raw, {}) == {"succeeded": 2, "failed": 0}


def test_bulk_update_with_a_failed_entry() -> None:
    raw = response_example("BulkUpdateCustomersResponse")
    raw["responses"][MISSING_ID] = {
        "errors": [
            {"category": "INVALID_REQUEST_ERROR", "code": "CONFLICT", "field": "version", "detail": "Stale version."},
            {"category": "INVALID_REQUEST_ERROR", "code": "INVALID_EMAIL_ADDRESS", "field": "email_address"},
        ]
    }
    out = trimmed("bulk_update_customers", raw, {})

    assert out["errors"] == {MISSING_ID: "CONFLICT (version): Stale version.; INVALID_EMAIL_ADDRESS (email_address)"}
    assert (out["succeeded"], out["failed"]) == (2, 1)
    assert {c["id"] for c in out["customers"]} == {AMELIA_ID, MARIE_ID}


def test_bulk_create_answers_in_entry_order_and_names_failures_by_position() -> None:
    raw = response_example("BulkCreateCustomersResponse")
    raw["responses"]["bad-key"] = {
        "errors": [{"category": "INVALID_REQUEST_ERROR", "code": "INVALID_PHONE_NUMBER", "field": "phone_number"}]
    }
    entries = [{"idempotency_key": key, "given_name": "A"} for key in (CREATE_KEYS[1], "bad-key", CREATE_KEYS[0])]
    out = trimmed("bulk_create_customers", raw, {"customers": entries})

    assert [c["id"] for c in out["customers"]] == [MARIE_ID, AMELIA_ID]  # entry order, not Square's
    assert [c["version"] for c in out["customers"]] == [0, 0]
    assert out["errors"] == {"1": "INVALID_PHONE_NUMBER (phone_number)"}
    assert (out["succeeded"], out["failed"]) == (2, 1)


def test_bulk_create_names_an_error_for_a_key_it_did_not_send_by_that_key() -> None:
    raw = {"responses": {"stray": {"errors": [{"code": "INTERNAL_SERVER_ERROR"}]}}}
    out = trimmed("bulk_create_customers", raw, {"customers": [{"idempotency_key": "k0", "given_name": "A"}]})

    assert out == {"customers": [], "errors": {"stray": "INTERNAL_SERVER_ERROR"}, "succeeded": 0, "failed": 1}


def test_all_succeeded_has_no_errors_key() -> None:
    out = trimmed("bulk_update_customers", response_example("BulkUpdateCustomersResponse"), {})

    assert "errors" not in out
    assert (out["succeeded"], out["failed"]) == (2, 0)


@pytest.mark.parametrize(
    ("tool_name", "args", "expected"),
    [
        ("delete_customer", {"customer_id": CUSTOMER_ID}, {"deleted": True}),
        ("delete_customer_card", {"customer_id": CUSTOMER_ID, "card_id": "ccof:1"}, {"deleted": True}),
        ("add_group_to_customer", {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID}, {"member": True}),
        ("remove_group_from_customer", {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID}, {"member": False}),
    ],
)
def test_empty_square_answers_say_what_happened_without_echoing_ids(
    tool_name: str, args: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert trimmed(tool_name, {}, args) == expected


NOTE = "the customer's version changed; retrieve it before a versioned update or delete"


@pytest.mark.parametrize(
    ("retrieved", "merged"),
    [
        ({"customer": {"id": CUSTOMER_ID, "version": 5}}, {"member": True, "version": 5}),
        ({"customer": {"id": CUSTOMER_ID, "version": 0}}, {"member": True, "version": 0}),
        (None, {"member": True, "note": NOTE}),
        ({}, {"member": True, "note": NOTE}),
        ({"customer": {"id": CUSTOMER_ID}}, {"member": True, "note": NOTE}),
        ({"customer": {"id": CUSTOMER_ID, "version": "5"}}, {"member": True, "note": NOTE}),
    ],
    ids=["version", "version-0", "failed", "empty", "no-version", "string-version"],
)
def test_a_membership_result_gets_the_version_read_afterwards(retrieved: Any, merged: dict[str, Any]) -> None:
    out = with_new_version(trimmed("add_group_to_customer", {}, {}), retrieved)

    assert out == merged
    TOOLS_BY_NAME["add_group_to_customer"].output_model.model_validate(out)
    assert list(empties(out)) == []


def test_group_and_segment_pages_are_ids_and_names() -> None:
    groups = trimmed("list_customer_groups", response_example("ListCustomerGroupsResponse"), {})
    segments = trimmed(
        "list_customer_segments", response_example("ListCustomerSegmentsResponse") | {"cursor": "c2"}, {}
    )

    assert groups == {"groups": GROUPS}
    assert segments == {"segments": SEGMENTS, "next_cursor": "c2"}
    assert SEGMENTS[1] == {"id": "GMNXRZVEXNQDF.LOYAL", "name": "Regulars"}


@pytest.mark.parametrize("tool_name", ["list_customer_groups", "list_customer_segments"])
def test_an_empty_look_up_page_is_an_empty_list(tool_name: str) -> None:
    key = tool_name.removeprefix("list_customer_")
    assert trimmed(tool_name, {}, {}) == {key: []}
    assert trimmed(tool_name, {key: [], "cursor": ""}, {}) == {key: []}


def test_fields_projection_keeps_id_and_version() -> None:
    raw = response_example("SearchCustomersResponse")
    out = trimmed("search_customers", raw, {"fields": ["address"]})

    assert out["customers"][0] == {
        "id": CUSTOMER_ID,
        "version": 7,
        "address": "505 Electric Ave, Suite 600, New York, NY 10003, US",
    }
