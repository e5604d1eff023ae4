"""Shared JSON Schema pieces, with Square's limits, enums and patterns as keywords.

Each tool declares one *validation* schema from these pieces; the server checks every call against it.
What a tool publishes is derived from it by tools/dialect.py. Descriptions say formats in words, because
the published form has no `pattern` or `format`.

Facts come from Square's OpenAPI spec (CreateCustomerRequest, Address, CustomerFilter, ...). Nulls and
empty strings never reach validation (the dispatcher drops them as "not given"), so no type is nullable.
"""

from __future__ import annotations

from typing import Any

from square_customers_mcp.tools.dialect import LOCAL, NULLABLE, UNLISTED, unpublished
from square_customers_mcp.tools.outputs import Customer

JSON = dict[str, Any]

# Square's ids: customers and groups are 26 upper-case letters and digits, segment ids carry a
# dot suffix, card ids a "ccof:" prefix. The pattern also stops a literal "{customer_id}" or a
# slash from becoming part of the URL.
ID_PATTERN = r"^\w[\w.:-]*$"  # a word character first: never "." or ".."
BIRTHDAY = r"^(\d{4}-)?\d\d-\d\d$"
COUNTRY = r"^[A-Z]{2}$"
SORT_FIELDS = ["DEFAULT", "CREATED_AT"]
SORT_ORDERS = ["ASC", "DESC"]
CREATION_SOURCES = [
    "OTHER", "APPOINTMENTS", "COUPON", "DELETION_RECOVERY", "DIRECTORY", "EGIFTING",
    "EMAIL_COLLECTION", "FEEDBACK", "IMPORT", "INVOICES", "LOYALTY", "MARKETING", "MERGE",
    "ONLINE_STORE", "INSTANT_PROFILE", "TERMINAL", "THIRD_PARTY", "THIRD_PARTY_IMPORT",
    "UNMERGE_RECOVERY",
]  # fmt: skip
IDENTIFYING_FIELDS = ("given_name", "family_name", "company_name", "email_address", "phone_number")
PAGE_SIZE = 25
"""list_customers and search_customers: Square allows 100, but the model usually needs the first few."""


def string(description: str | None = None, **limits: Any) -> JSON:
    schema: JSON = {"type": "string"}
    if description:
        schema["description"] = description
    schema.update(limits)
    return schema


def enum(values: list[str], description: str | None = None, *, unlisted: bool = False) -> JSON:
    schema = string(description, enum=values)
    if unlisted:
        schema[UNLISTED] = True
    return schema


def array(items: JSON, description: str | None = None, **limits: Any) -> JSON:
    schema: JSON = {"type": "array", "items": items}
    if description:
        schema["description"] = description
    schema.update(limits)
    return schema


def obj(properties: JSON, *, required: list[str] | None = None, description: str | None = None, **extra: Any) -> JSON:
    schema: JSON = {"type": "object"}
    if description:
        schema["description"] = description
    schema["properties"] = properties
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    schema.update(extra)
    return schema


def id_string(description: str | None = None) -> JSON:
    return string(description, pattern=ID_PATTERN, maxLength=255)


ADDRESS = obj(
    {
        "address_line_1": string(),
        "address_line_2": string(),
        "address_line_3": unpublished(string()),
        "locality": string("City"),
        "sublocality": unpublished(string()),
        "administrative_district_level_1": string("State, e.g. NY"),
        "administrative_district_level_2": unpublished(string()),
        "postal_code": string(),
        "country": string("ISO code, e.g. US", pattern=COUNTRY),
    },
)
"""Square's Address. Lines 3, sublocality and district level 2 are accepted but not offered: they cost
~30 tokens in each of five schemas for fields most sellers never use."""

# Field order follows Square's Customer object; limits from the spec's descriptions. `eu_vat` stands for
# Square's tax_ids.eu_vat (results show it flat too; the tool's request builder nests it).
CUSTOMER_FIELDS: JSON = {
    "given_name": string(maxLength=300),
    "family_name": string(maxLength=300),
    "company_name": string(maxLength=500),
    "nickname": string(maxLength=100),
    "email_address": string(maxLength=254, format="email"),
    "phone_number": string("E.164, e.g. +14155550123"),
    "address": ADDRESS,
    "birthday": string("YYYY-MM-DD, or MM-DD", pattern=BIRTHDAY),
    "reference_id": string("Id in another system", maxLength=100),
    "note": string(),
    "eu_vat": string("EU/UK VAT id", maxLength=20),
}
# A whole field, or one line of the address (Square's update merges an address line by line).
CLEARABLE_FIELDS = [*CUSTOMER_FIELDS, *(f"address.{part}" for part in ADDRESS["properties"])]
CLEAR = array(
    enum(CLEARABLE_FIELDS, unlisted=True),
    "Fields to erase, e.g. note, address.address_line_2",
    minItems=1,
    uniqueItems=True,
)

VERSION = {"type": "integer", "minimum": 0, "description": "Current version; refused if stale", NULLABLE: True}
CUSTOMER_ID = id_string()
GROUP_ID = id_string("From list_customer_groups")
LIMIT = {
    "type": "integer",
    "minimum": 1,
    "maximum": 100,
    "description": f"1-100, default {PAGE_SIZE}",
    "default": PAGE_SIZE,
}
CURSOR = string("next_cursor of the previous page", minLength=1)
COUNT = {"type": "boolean", "description": "Include the total count", "default": False}
CUSTOMER_IDS = array(CUSTOMER_ID, "1-100 ids", minItems=1, maxItems=100, uniqueItems=True)
SORT_ORDER = {**enum(SORT_ORDERS), "default": "ASC"}
SORT_FIELD = {**enum(SORT_FIELDS, "DEFAULT: by name"), "default": "DEFAULT"}

# `format` is checked by the dispatcher's format checker (tools/formats.py).
_TIME = string(format="date-time")
TIME_RANGE = obj({"start_at": _TIME, "end_at": _TIME}, minProperties=1)
TEXT_FILTER = obj(
    {"exact": string(minLength=1), "fuzzy": string(minLength=1)},
    minProperties=1,
    maxProperties=1,
)


def id_set(description: str) -> JSON:
    ids = array(id_string(), minItems=1, maxItems=1000)
    return obj({"all": ids, "any": ids, "none": ids}, description=description, minProperties=1)


CUSTOMER_FILTER = obj(
    {
        "created_at": TIME_RANGE,
        "updated_at": TIME_RANGE,
        "creation_source": obj(
            {
                "values": array(
                    enum(CREATION_SOURCES, unlisted=True), "e.g. DIRECTORY, IMPORT, THIRD_PARTY", minItems=1
                ),
                "rule": {**enum(["INCLUDE", "EXCLUDE"]), "default": "INCLUDE"},
            },
            required=["values"],
        ),
        "email_address": TEXT_FILTER,
        "phone_number": TEXT_FILTER,
        "reference_id": TEXT_FILTER,
        "group_ids": id_set("Ids from list_customer_groups"),
        "segment_ids": id_set("Ids from list_customer_segments"),
    },
    description="Text filters take exact or fuzzy, not both; times are RFC 3339",
    minProperties=1,
)

# The trimmed customer's fields, for the `fields` projection; id and version are always kept.
CUSTOMER_OUTPUT_FIELDS = [name for name in Customer.model_fields if name not in ("id", "version")]
FIELDS = array(
    enum(CUSTOMER_OUTPUT_FIELDS, unlisted=True),
    "Only these fields (plus id, version), e.g. address, birthday, segment_ids",
    minItems=1,
    uniqueItems=True,
    **{LOCAL: True},  # a projection the server applies to Square's answer
)
