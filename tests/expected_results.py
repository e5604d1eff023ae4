"""What the model should read for each spec example, trimmed by hand: the expected results the request cases
(tests/request_cases.py) and the trimming tests compare with."""

from __future__ import annotations

from typing import Any

from fakes import ADDRESS_LINE, AMELIA_ID, CUSTOMER_ID, GROUP_ID, MARIE_ID, MISSING_ID

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
# or segment ids unless named in `fields` (tools/trim.py LIST_VIEW).
LIST_ONLY_WITH_FIELDS = ("address", "birthday", "creation_source", "eu_vat", "segment_ids", "created_at", "updated_at")


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
BULK_CREATED = [list_view(c) for c in BULK_CREATED_FULL.values()]
SEARCHED = [list_view(c) for c in SEARCHED_FULL]
GROUPS = [
    {"id": "2TAT3CMH4Q0A9M87XJZED0WMR3", "name": "Loyal Customers"},
    {"id": "4XMEHESXJBNE9S9JAKZD2FGB14", "name": "Super Loyal Customers"},
]
SEGMENTS = [
    {"id": "GMNXRZVEXNQDF.CHURN_RISK", "name": "Lapsed"},
    {"id": "GMNXRZVEXNQDF.LOYAL", "name": "Regulars"},
    {"id": "GMNXRZVEXNQDF.REACHABLE", "name": "Reachable"},
    {"id": "gv2:KF92J19VXN5FK30GX2E8HSGQ20", "name": "Instant Profile"},
]
RETRIEVED_VERSION = 1
"""The version in the spec's RetrieveCustomerResponse, which answers the group tools' follow-up GET."""
