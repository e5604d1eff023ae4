"""The expected request and trimmed result of every tool, as data: one Case per tool, built from the
spec's example responses (tests/data/square_spec_facts.json, made by tests/data/make_spec_facts.py). The tools
take portable arguments (arrays of entries, `clear`, flat `eu_vat` and search arguments); the bodies are
Square's shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from expected_results import (
    BULK_AMELIA,
    BULK_CREATE_KEYS,
    BULK_CREATED,
    BULK_MARIE,
    CREATED,
    GROUPS,
    LISTED,
    NOT_FOUND_MISSING,
    RETRIEVED,
    RETRIEVED_VERSION,
    SEARCHED,
    SEARCHED_FULL,
    SEGMENTS,
    UPDATED,
)
from fakes import ADDRESS, ADDRESS_LINE, AMELIA_ID, CARD_ID, CUSTOMER_ID, GROUP_ID, MARIE_ID, MISSING_ID

__all__ = ["CASES", "CASES_BY_TOOL", "RETRIEVED", "SEARCHED_FULL", "Case"]


@dataclass(frozen=True)
class Case:
    tool: str
    args: dict[str, Any]
    method: str
    raw_path: str
    query: dict[str, str]
    body: dict[str, Any] | None
    """The exact JSON body; None: the request has no body at all."""
    example: str
    """components.schemas.<example>.example is what the fake Square answers."""
    expected: dict[str, Any]
    extra_response: dict[str, Any] | None = None
    """Fields added to the spec example (e.g. cursor and count, which the examples lack)."""
    square_request: str | None = None
    """components.schemas.<square_request>.example equals `body`: the tool builds Square's documented request."""
    follow_up: str | None = None
    """Raw path of the GET sent after the call (answered with RetrieveCustomerResponse); None: no second request."""


def _amelia_input() -> dict[str, Any]:
    return {
        "given_name": "Amelia",
        "family_name": "Earhart",
        "email_address": "Amelia.Earhart@example.com",
        "address": dict(ADDRESS),
        "phone_number": "+1-212-555-4240",
        "reference_id": "YOUR_REFERENCE_ID",
        "note": "a customer",
    }


_MARIE_INPUT = {"given_name": "Marie", "family_name": "Curie", "email_address": "Marie.Curie@example.com"}
# Entries in the opposite order of Square's answer: the result follows the entries, not Square's map.
_BULK_CREATE_ARGS = {
    "customers": [
        {"idempotency_key": BULK_CREATE_KEYS[1], **_MARIE_INPUT},
        {**_amelia_input(), "idempotency_key": BULK_CREATE_KEYS[0]},
    ]
}
_BULK_CREATE_BODY = {"customers": {BULK_CREATE_KEYS[1]: _MARIE_INPUT, BULK_CREATE_KEYS[0]: _amelia_input()}}
_BULK_UPDATE_ARGS = {
    "customers": [
        {
            "customer_id": AMELIA_ID,
            "email_address": "New.Amelia.Earhart@example.com",
            "note": "updated customer note",
            "clear": ["phone_number"],
            "version": 2,
        },
        {"customer_id": MARIE_ID, "family_name": "Curie", "given_name": "Marie", "version": 0},
    ]
}
_BULK_UPDATE_BODY = {
    "customers": {
        AMELIA_ID: {
            "email_address": "New.Amelia.Earhart@example.com",
            "note": "updated customer note",
            "phone_number": None,
            "version": 2,
        },
        MARIE_ID: {"family_name": "Curie", "given_name": "Marie", "version": 0},
    }
}
SEARCH_FILTER = {
    "creation_source": {"values": ["THIRD_PARTY"], "rule": "INCLUDE"},
    "created_at": {"start_at": "2018-01-01T00:00:00-00:00", "end_at": "2018-02-01T00:00:00-00:00"},
    "email_address": {"fuzzy": "example.com"},
    "group_ids": {"all": [GROUP_ID]},
}
SEARCH_ARGS = {"filter": SEARCH_FILTER, "sort_field": "CREATED_AT", "sort_order": "ASC", "limit": 2}
# Square's SearchCustomersRequest example, minus the values that are Square's defaults (rule INCLUDE, order
# ASC): a value equal to its schema's `default` says nothing, so it is not sent.
SEARCH_BODY = {
    "query": {
        "filter": {**SEARCH_FILTER, "creation_source": {"values": ["THIRD_PARTY"]}},
        "sort": {"field": "CREATED_AT"},
    },
    "limit": 2,
}
_CARD_ARGS = {
    "customer_id": CUSTOMER_ID,
    "card_nonce": "YOUR_CARD_NONCE",
    "billing_address": dict(ADDRESS),
    "cardholder_name": "Amelia Earhart",
}
_CUSTOMER_PATH = f"/v2/customers/{CUSTOMER_ID}"

CASES = [
    Case(
        "list_customers",
        {"cursor": "9dpS093Uy12AzeE", "limit": 2, "sort_field": "CREATED_AT", "sort_order": "DESC", "count": True},
        "GET",
        "/v2/customers",
        {"cursor": "9dpS093Uy12AzeE", "limit": "2", "sort_field": "CREATED_AT", "sort_order": "DESC", "count": "true"},
        None,
        "ListCustomersResponse",
        {"customers": [LISTED], "next_cursor": "NEXT-PAGE", "count": 7},
        extra_response={"cursor": "NEXT-PAGE", "count": 7},
    ),
    Case(
        "create_customer",
        {**_amelia_input(), "idempotency_key": "my-key-0001"},
        "POST",
        "/v2/customers",
        {},
        {**_amelia_input(), "idempotency_key": "my-key-0001"},
        "CreateCustomerResponse",
        {"customer": CREATED},
    ),
    Case(
        "bulk_create_customers",
        _BULK_CREATE_ARGS,
        "POST",
        "/v2/customers/bulk-create",
        {},
        _BULK_CREATE_BODY,
        "BulkCreateCustomersResponse",
        {"customers": BULK_CREATED[::-1], "succeeded": 2, "failed": 0},
    ),
    Case(
        "bulk_delete_customers",
        {"customer_ids": [AMELIA_ID, MARIE_ID, MISSING_ID]},
        "POST",
        "/v2/customers/bulk-delete",
        {},
        {"customer_ids": [AMELIA_ID, MARIE_ID, MISSING_ID]},
        "BulkDeleteCustomersResponse",
        {"errors": {MISSING_ID: NOT_FOUND_MISSING}, "succeeded": 2, "failed": 1},
        square_request="BulkDeleteCustomersRequest",
    ),
    Case(
        "bulk_retrieve_customers",
        {"customer_ids": [AMELIA_ID, MARIE_ID, MISSING_ID]},
        "POST",
        "/v2/customers/bulk-retrieve",
        {},
        {"customer_ids": [AMELIA_ID, MARIE_ID, MISSING_ID]},
        "BulkRetrieveCustomersResponse",
        {
            "customers": [BULK_AMELIA, BULK_MARIE],
            "errors": {MISSING_ID: NOT_FOUND_MISSING},
            "succeeded": 2,
            "failed": 1,
        },
        square_request="BulkRetrieveCustomersRequest",
    ),
    Case(
        "bulk_update_customers",
        _BULK_UPDATE_ARGS,
        "POST",
        "/v2/customers/bulk-update",
        {},
        _BULK_UPDATE_BODY,
        "BulkUpdateCustomersResponse",
        {"customers": [BULK_AMELIA, BULK_MARIE], "succeeded": 2, "failed": 0},
        square_request="BulkUpdateCustomersRequest",
    ),
    Case(
        "search_customers",
        SEARCH_ARGS,
        "POST",
        "/v2/customers/search",
        {},
        SEARCH_BODY,
        "SearchCustomersResponse",
        {"customers": SEARCHED, "next_cursor": "9dpS093Uy12AzeE"},
    ),
    Case(
        "delete_customer",
        {"customer_id": CUSTOMER_ID, "version": 3},
        "DELETE",
        _CUSTOMER_PATH,
        {"version": "3"},
        None,
        "DeleteCustomerResponse",
        {"deleted": True},
    ),
    Case(
        "retrieve_customer",
        {"customer_id": CUSTOMER_ID},
        "GET",
        _CUSTOMER_PATH,
        {},
        None,
        "RetrieveCustomerResponse",
        {"customer": RETRIEVED},
    ),
    Case(
        "update_customer",
        {
            "customer_id": CUSTOMER_ID,
            "email_address": "New.Amelia.Earhart@example.com",
            "note": "updated customer note",
            "clear": ["phone_number"],
            "version": 2,
        },
        "PUT",
        _CUSTOMER_PATH,
        {},
        {
            "email_address": "New.Amelia.Earhart@example.com",
            "note": "updated customer note",
            "phone_number": None,
            "version": 2,
        },
        "UpdateCustomerResponse",
        {"customer": UPDATED},
        square_request="UpdateCustomerRequest",
    ),
    Case(
        "create_customer_card",
        _CARD_ARGS,
        "POST",
        f"{_CUSTOMER_PATH}/cards",
        {},
        {k: v for k, v in _CARD_ARGS.items() if k != "customer_id"},
        "CreateCustomerCardResponse",
        {
            "card": {
                "id": "icard-card_id",
                "card_brand": "VISA",
                "last_4": "1111",
                "exp_month": 11,
                "exp_year": 2018,
                "cardholder_name": "Amelia Earhart",
                "billing_address": ADDRESS_LINE,
            }
        },
        square_request="CreateCustomerCardRequest",
    ),
    Case(
        "delete_customer_card",
        {"customer_id": CUSTOMER_ID, "card_id": CARD_ID},
        "DELETE",
        f"{_CUSTOMER_PATH}/cards/ccof%3AuIbfJXhXETSP197M3GB",
        {},
        None,
        "DeleteCustomerCardResponse",
        {"deleted": True},
    ),
    Case(
        "remove_group_from_customer",
        {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID},
        "DELETE",
        f"{_CUSTOMER_PATH}/groups/{GROUP_ID}",
        {},
        None,
        "RemoveGroupFromCustomerResponse",
        {"member": False, "version": RETRIEVED_VERSION},
        follow_up=_CUSTOMER_PATH,
    ),
    Case(
        "add_group_to_customer",
        {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID},
        "PUT",
        f"{_CUSTOMER_PATH}/groups/{GROUP_ID}",
        {},
        None,  # the spec defines no request body for AddGroupToCustomer
        "AddGroupToCustomerResponse",
        {"member": True, "version": RETRIEVED_VERSION},
        follow_up=_CUSTOMER_PATH,
    ),
    Case(
        "list_customer_groups",
        {"cursor": "groups-page-2"},
        "GET",
        "/v2/customers/groups",
        {"cursor": "groups-page-2"},
        None,
        "ListCustomerGroupsResponse",
        {"groups": GROUPS, "next_cursor": "groups-page-3"},
        extra_response={"cursor": "groups-page-3"},
    ),
    Case(
        "list_customer_segments",
        {},
        "GET",
        "/v2/customers/segments",
        {},
        None,
        "ListCustomerSegmentsResponse",
        {"segments": SEGMENTS},
    ),
]
CASES_BY_TOOL = {case.tool: case for case in CASES}
