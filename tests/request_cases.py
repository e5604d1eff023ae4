"""The expected request and trimmed result of every tool, as data: one Case per tool, built from the
spec's example responses (read by tests/fakes.py from ../shared)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fakes import ADDRESS, ADDRESS_LINE, AMELIA_ID, CARD_ID, CUSTOMER_ID, GROUP_ID, MARIE_ID, MISSING_ID

BULK_CREATE_KEYS = ("8bb76c4f-e35d-4c5b-90de-1194cd9179f4", "d1689f23-b25d-4932-b2f0-aed00f5e2029")
NOT_FOUND_MISSING = f"NOT_FOUND: Customer with ID `{MISSING_ID}` not found."
SEGMENT = "1KB9JE5EGJXCW.REACHABLE"

# The spec examples' customers, trimmed by hand: what the model should read.
RETRIEVED = {
    "id": CUSTOMER_ID,
    "version": 1,
    "given_name": "Amelia",
    "family_name": "Earhart",
    "email_address": "Amelia.Earhart@example.com",
    "phone_number": "+1-212-555-4240",
    "reference_id": "YOUR_REFERENCE_ID",
    "note": "a customer",
    "address": ADDRESS_LINE,
    "group_ids": [GROUP_ID],
    "segment_ids": [SEGMENT],
    "created_at": "2016-03-23T20:21:54.859Z",
    "updated_at": "2016-03-23T20:21:54.859Z",
}
# Lists and bulk results show a customer's list view: no address, birthday, source or timestamps
# unless named in `fields` (tools/trim.py LIST_VIEW).
LIST_ONLY_WITH_FIELDS = ("address", "birthday", "creation_source", "eu_vat", "created_at", "updated_at")


def list_view(customer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in customer.items() if k not in LIST_ONLY_WITH_FIELDS}


LISTED = list_view(RETRIEVED)
CREATED = {k: v for k, v in RETRIEVED.items() if k not in ("group_ids", "segment_ids")} | {"version": 0}
UPDATED = {
    "id": CUSTOMER_ID,
    "version": 3,
    "given_name": "Amelia",
    "family_name": "Earhart",
    "email_address": "New.Amelia.Earhart@example.com",
    "reference_id": "YOUR_REFERENCE_ID",
    "note": "updated customer note",
    "address": ADDRESS_LINE,
    "created_at": "2016-03-23T20:21:54.859Z",
    "updated_at": "2016-05-15T20:21:55Z",
}
BULK_AMELIA_FULL = {
    "id": AMELIA_ID,
    "version": 3,
    "given_name": "Amelia",
    "family_name": "Earhart",
    "email_address": "New.Amelia.Earhart@example.com",
    "note": "updated customer note",
    "birthday": "1897-07-24",
    "created_at": "2024-01-19T00:27:54.59Z",
    "updated_at": "2024-01-19T00:38:06Z",
}
BULK_MARIE_FULL = {
    "id": MARIE_ID,
    "version": 1,
    "given_name": "Marie",
    "family_name": "Curie",
    "created_at": "2024-01-19T00:27:54.59Z",
    "updated_at": "2024-01-19T00:38:06Z",
}
BULK_AMELIA = list_view(BULK_AMELIA_FULL)
BULK_MARIE = list_view(BULK_MARIE_FULL)
BULK_CREATED_FULL = {
    BULK_CREATE_KEYS[0]: {
        "id": AMELIA_ID,
        "version": 0,
        "given_name": "Amelia",
        "family_name": "Earhart",
        "email_address": "Amelia.Earhart@example.com",
        "phone_number": "+1-212-555-4240",
        "reference_id": "YOUR_REFERENCE_ID",
        "note": "a customer",
        "address": ADDRESS_LINE,
        "created_at": "2024-03-23T20:21:54.859Z",
        "updated_at": "2024-03-23T20:21:54.859Z",
    },
    BULK_CREATE_KEYS[1]: {
        "id": MARIE_ID,
        "version": 0,
        "given_name": "Marie",
        "family_name": "Curie",
        "email_address": "Marie.Curie@example.com",
        "phone_number": "+1-212-444-4240",
        "reference_id": "YOUR_REFERENCE_ID",
        "note": "another customer",
        "address": "500 Electric Ave, Suite 601, New York, NY 10003, US",
        "created_at": "2024-03-23T20:21:54.859Z",
        "updated_at": "2024-03-23T20:21:54.859Z",
    },
}
SEARCHED_FULL = [
    {
        "id": CUSTOMER_ID,
        "version": 7,
        "given_name": "James",
        "family_name": "Bond",
        "email_address": "james.bond@example.com",
        "phone_number": "+1-212-555-4250",
        "reference_id": "YOUR_REFERENCE_ID_2",
        "address": "505 Electric Ave, Suite 600, New York, NY 10003, US",
        "creation_source": "DIRECTORY",
        "group_ids": [GROUP_ID],
        "segment_ids": [SEGMENT],
        "created_at": "2018-01-23T20:21:54.859Z",
        "updated_at": "2020-04-20T10:02:43.083Z",
    },
    {
        "id": "A9641GZW2H7Z56YYSD41Q12HDW",
        "version": 1,
        "given_name": "Amelia",
        "family_name": "Earhart",
        "email_address": "amelia.earhart@example.com",
        "phone_number": "+1-212-555-9238",
        "reference_id": "YOUR_REFERENCE_ID_1",
        "note": "a customer",
        "address": ADDRESS_LINE,
        "group_ids": [GROUP_ID],
        "segment_ids": [SEGMENT],
        "created_at": "2018-01-30T14:10:54.859Z",
        "updated_at": "2018-03-08T18:25:21.342Z",
    },
]
BULK_CREATED = {key: list_view(c) for key, c in BULK_CREATED_FULL.items()}
SEARCHED = [list_view(c) for c in SEARCHED_FULL]


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


_BULK_CREATE_ARGS = {
    "customers": {
        BULK_CREATE_KEYS[0]: _amelia_input(),
        BULK_CREATE_KEYS[1]: {
            "given_name": "Marie",
            "family_name": "Curie",
            "email_address": "Marie.Curie@example.com",
        },
    }
}
_BULK_UPDATE_ARGS = {
    "customers": {
        AMELIA_ID: {"email_address": "New.Amelia.Earhart@example.com", "note": "updated customer note", "version": 2},
        MARIE_ID: {"phone_number": None, "birthday": None, "version": 0},
    }
}
SEARCH_ARGS = {
    "query": {
        "filter": {
            "creation_source": {"values": ["THIRD_PARTY", "DIRECTORY"], "rule": "INCLUDE"},
            "created_at": {"start_at": "2018-01-01T00:00:00-00:00", "end_at": "2018-02-01T00:00:00Z"},
            "email_address": {"fuzzy": "example.com"},
            "group_ids": {"all": [GROUP_ID]},
        },
        "sort": {"field": "CREATED_AT", "order": "ASC"},
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
        {"customer": CREATED, "idempotency_key": "my-key-0001"},
    ),
    Case(
        "bulk_create_customers",
        _BULK_CREATE_ARGS,
        "POST",
        "/v2/customers/bulk-create",
        {},
        _BULK_CREATE_ARGS,
        "BulkCreateCustomersResponse",
        {"customers": BULK_CREATED, "succeeded": 2, "failed": 0},
    ),
    Case(
        "bulk_delete_customers",
        {"customer_ids": [MISSING_ID, AMELIA_ID, MARIE_ID]},
        "POST",
        "/v2/customers/bulk-delete",
        {},
        {"customer_ids": [MISSING_ID, AMELIA_ID, MARIE_ID]},
        "BulkDeleteCustomersResponse",
        {"deleted": [AMELIA_ID, MARIE_ID], "errors": {MISSING_ID: NOT_FOUND_MISSING}, "succeeded": 2, "failed": 1},
    ),
    Case(
        "bulk_retrieve_customers",
        {"customer_ids": [MISSING_ID, AMELIA_ID, MARIE_ID]},
        "POST",
        "/v2/customers/bulk-retrieve",
        {},
        {"customer_ids": [MISSING_ID, AMELIA_ID, MARIE_ID]},
        "BulkRetrieveCustomersResponse",
        {
            "customers": [BULK_AMELIA, BULK_MARIE],
            "errors": {MISSING_ID: NOT_FOUND_MISSING},
            "succeeded": 2,
            "failed": 1,
        },
    ),
    Case(
        "bulk_update_customers",
        _BULK_UPDATE_ARGS,
        "POST",
        "/v2/customers/bulk-update",
        {},
        _BULK_UPDATE_ARGS,
        "BulkUpdateCustomersResponse",
        {"customers": [BULK_AMELIA, BULK_MARIE], "succeeded": 2, "failed": 0},
    ),
    Case(
        "search_customers",
        SEARCH_ARGS,
        "POST",
        "/v2/customers/search",
        {},
        SEARCH_ARGS,
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
        {"deleted": True, "customer_id": CUSTOMER_ID},
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
            "phone_number": None,
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
    ),
    Case(
        "delete_customer_card",
        {"customer_id": CUSTOMER_ID, "card_id": CARD_ID},
        "DELETE",
        f"{_CUSTOMER_PATH}/cards/ccof%3AuIbfJXhXETSP197M3GB",
        {},
        None,
        "DeleteCustomerCardResponse",
        {"deleted": True, "customer_id": CUSTOMER_ID, "card_id": CARD_ID},
    ),
    Case(
        "remove_group_from_customer",
        {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID},
        "DELETE",
        f"{_CUSTOMER_PATH}/groups/{GROUP_ID}",
        {},
        None,
        "RemoveGroupFromCustomerResponse",
        {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID, "member": False},
    ),
    Case(
        "add_group_to_customer",
        {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID},
        "PUT",
        f"{_CUSTOMER_PATH}/groups/{GROUP_ID}",
        {},
        None,  # the spec defines no request body for AddGroupToCustomer
        "AddGroupToCustomerResponse",
        {"customer_id": CUSTOMER_ID, "group_id": GROUP_ID, "member": True},
    ),
]
CASES_BY_TOOL = {case.tool: case for case in CASES}
