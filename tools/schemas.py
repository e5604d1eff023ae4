"""Shared JSON Schema pieces for the tools' input schemas, with Square's limits as keywords.

Facts come from Square's OpenAPI spec (CreateCustomerRequest, BulkCreateCustomerData, Address,
CustomerFilter...). Optional means "not in required"; nullable update fields use a type list,
never anyOf, because some model APIs reject anyOf in tool schemas.
"""

from __future__ import annotations

import copy
from typing import Any

from tools.outputs import Customer

JSON = dict[str, Any]

# Square's ids: customers and groups are 26 upper-case letters and digits, segment ids carry a
# dot suffix, card ids a "ccof:" prefix. The pattern also stops a literal "{customer_id}" or a
# slash from becoming part of the URL.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
BIRTHDAY = r"^(\d{4}-)?\d{2}-\d{2}$"
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


def string(description: str | None = None, **limits: Any) -> JSON:
    schema: JSON = {"type": "string", **limits}
    if description:
        schema["description"] = description
    return schema


def nullable(schema: JSON) -> JSON:
    """The same schema, also accepting null (Square clears a field set to null)."""
    out = copy.deepcopy(schema)
    out["type"] = [out["type"], "null"]
    return out


def obj(properties: JSON, required: list[str] | None = None, **extra: Any) -> JSON:
    schema: JSON = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def id_string(description: str) -> JSON:
    return string(description, minLength=1, maxLength=255, pattern=ID_PATTERN)


ADDRESS = obj(
    {
        "address_line_1": string(),
        "address_line_2": string(),
        "address_line_3": string(),
        "locality": string(description="City or town."),
        "sublocality": string(),
        "administrative_district_level_1": string(description="State or province, e.g. NY."),
        "administrative_district_level_2": string(),
        "postal_code": string(),
        "country": string("ISO 3166-1 alpha-2 code, e.g. US.", pattern=COUNTRY),
    },
    description="Postal address; only the fields you set are sent.",
)

TAX_IDS = obj({"eu_vat": string("EU VAT id (EU and UK sellers only).", maxLength=20)})

# Field order follows Square's Customer object; limits from the spec's descriptions.
CUSTOMER_FIELDS: JSON = {
    "given_name": string("First name.", maxLength=300),
    "family_name": string("Last name.", maxLength=300),
    "company_name": string(maxLength=500),
    "nickname": string(maxLength=100),
    "email_address": string(maxLength=254, pattern=r"^[^@\s]+@[^@\s]+$"),
    "phone_number": string("9-16 digits, optional leading + and country code.", maxLength=40),
    "address": ADDRESS,
    "birthday": string("YYYY-MM-DD, or MM-DD without a year.", pattern=BIRTHDAY),
    "reference_id": string("Your own id for this customer in another system.", maxLength=100),
    "note": string(),
    "tax_ids": TAX_IDS,
}

NULLABLE_CUSTOMER_FIELDS: JSON = {name: nullable(schema) for name, schema in CUSTOMER_FIELDS.items()}

VERSION = {
    "type": "integer",
    "minimum": 0,
    "description": "The customer's current version; Square refuses the change if it is stale.",
}

CUSTOMER_ID = id_string("Square customer id.")
GROUP_ID = id_string("Customer group id.")
LIMIT = {"type": "integer", "minimum": 1, "maximum": 100, "description": "Page size (default 100)."}
CURSOR = string("next_cursor from the previous page.", minLength=1)
COUNT = {"type": "boolean", "description": "Also return the total number of matching customers."}
CUSTOMER_IDS = {
    "type": "array",
    "items": CUSTOMER_ID,
    "minItems": 1,
    "maxItems": 100,
    "uniqueItems": True,
}
SORT_ORDER = {"type": "string", "enum": SORT_ORDERS}
SORT_FIELD = {
    "type": "string",
    "enum": SORT_FIELDS,
    "description": "DEFAULT: by name, then company, email, phone.",
}

TIME_RANGE = obj(
    {
        "start_at": string("RFC 3339 timestamp.", pattern=RFC3339),
        "end_at": string("RFC 3339 timestamp.", pattern=RFC3339),
    },
    minProperties=1,
)
TEXT_FILTER = obj(
    {"exact": string(minLength=1), "fuzzy": string(minLength=1)},
    minProperties=1,
    maxProperties=1,
    description="Either exact or fuzzy, not both.",
)
ID_SET = {"type": "array", "items": id_string("id"), "minItems": 1}
FILTER_VALUE = obj({"all": ID_SET, "any": ID_SET, "none": ID_SET}, minProperties=1)

CUSTOM_ATTRIBUTE_FILTER = obj(
    {
        "key": string(minLength=1),
        "filter": {"type": "object", "description": "Square's CustomerCustomAttributeFilterValue."},
        "updated_at": TIME_RANGE,
    },
    required=["key"],
)

CUSTOMER_FILTER = obj(
    {
        "created_at": TIME_RANGE,
        "updated_at": TIME_RANGE,
        "creation_source": obj(
            {
                "values": {
                    "type": "array",
                    "items": {"type": "string", "enum": CREATION_SOURCES},
                    "minItems": 1,
                },
                "rule": {"type": "string", "enum": ["INCLUDE", "EXCLUDE"]},
            },
            required=["values"],
        ),
        "email_address": TEXT_FILTER,
        "phone_number": TEXT_FILTER,
        "reference_id": TEXT_FILTER,
        "group_ids": FILTER_VALUE,
        "segment_ids": FILTER_VALUE,
        "custom_attribute": obj(
            {"filters": {"type": "array", "items": CUSTOM_ATTRIBUTE_FILTER, "minItems": 1, "maxItems": 10}},
            required=["filters"],
        ),
    },
)

CUSTOMER_QUERY = obj(
    {"filter": CUSTOMER_FILTER, "sort": obj({"field": SORT_FIELD, "order": SORT_ORDER})},
)

# The trimmed customer's fields, for the `fields` projection; id and version are always kept.
CUSTOMER_OUTPUT_FIELDS = [name for name in Customer.model_fields if name not in ("id", "version")]
FIELDS = {
    "type": "array",
    "items": {"type": "string", "enum": CUSTOMER_OUTPUT_FIELDS},
    "minItems": 1,
    "uniqueItems": True,
    "description": "Return only these customer fields (id and version always); saves tokens.",
}
