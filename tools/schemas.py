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


def obj(properties: JSON, *, required: list[str] | None = None, defs: JSON | None = None, **extra: Any) -> JSON:
    schema: JSON = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    if defs:
        schema["$defs"] = defs
    schema["additionalProperties"] = False
    return schema


def id_string(description: str | None = None) -> JSON:
    return string(description, pattern=ID_PATTERN)


ADDRESS = obj(
    {
        "address_line_1": string(),
        "address_line_2": string(),
        "address_line_3": string(),
        "locality": string(),
        "sublocality": string(),
        "administrative_district_level_1": string("State, e.g. NY."),
        "administrative_district_level_2": string(),
        "postal_code": string(),
        "country": string(pattern=COUNTRY),
    },
)

TAX_IDS = obj({"eu_vat": string("EU/UK sellers only.", maxLength=20)})

# Field order follows Square's Customer object; limits from the spec's descriptions.
CUSTOMER_FIELDS: JSON = {
    "given_name": string(maxLength=300),
    "family_name": string(maxLength=300),
    "company_name": string(maxLength=500),
    "nickname": string(maxLength=100),
    "email_address": string(maxLength=254, format="email"),
    "phone_number": string(),
    "address": ADDRESS,
    "birthday": string(pattern=BIRTHDAY),
    "reference_id": string("Id in another system.", maxLength=100),
    "note": string(),
    "tax_ids": TAX_IDS,
}

NULLABLE_CUSTOMER_FIELDS: JSON = {name: nullable(schema) for name, schema in CUSTOMER_FIELDS.items()}

VERSION = {
    "type": "integer",
    "minimum": 0,
    "description": "Current version; refused if stale.",
}

CUSTOMER_ID = id_string()
GROUP_ID = id_string()
LIMIT = {"type": "integer", "minimum": 1, "maximum": 100, "description": "Page size (default 100)."}
CURSOR = string("next_cursor of the previous page.", minLength=1)
COUNT = {"type": "boolean", "description": "Also return the total match count."}
CUSTOMER_IDS = {
    "type": "array",
    "items": CUSTOMER_ID,
    "minItems": 1,
    "maxItems": 100,
    "uniqueItems": True,
}
SORT_ORDER = {"type": "string", "enum": SORT_ORDERS}
SORT_FIELD = {"type": "string", "enum": SORT_FIELDS, "description": "DEFAULT: by name."}

# `format` is checked by the dispatcher's format checker (tools/formats.py) and costs fewer tokens than a pattern.
TIME_RANGE = obj({"start_at": string(format="date-time"), "end_at": string(format="date-time")}, minProperties=1)
TEXT_FILTER = obj(
    {"exact": string(minLength=1), "fuzzy": string(minLength=1)},
    minProperties=1,
    maxProperties=1,
    description="exact or fuzzy, not both.",
)
ID_SET = {"type": "array", "items": {"type": "string"}, "minItems": 1}
FILTER_VALUE = obj({"all": ID_SET, "any": ID_SET, "none": ID_SET}, minProperties=1)


# Pieces used more than once in the search schema are defined once and referenced.
SEARCH_DEFS = {"TimeRange": TIME_RANGE, "TextFilter": TEXT_FILTER, "FilterValue": FILTER_VALUE}
_TIME_RANGE_REF = {"$ref": "#/$defs/TimeRange"}
_TEXT_FILTER_REF = {"$ref": "#/$defs/TextFilter"}
_FILTER_VALUE_REF = {"$ref": "#/$defs/FilterValue"}

CUSTOMER_FILTER = obj(
    {
        "created_at": _TIME_RANGE_REF,
        "updated_at": _TIME_RANGE_REF,
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
        "email_address": _TEXT_FILTER_REF,
        "phone_number": _TEXT_FILTER_REF,
        "reference_id": _TEXT_FILTER_REF,
        "group_ids": _FILTER_VALUE_REF,
        "segment_ids": _FILTER_VALUE_REF,
        # Passed to Square as is; its full shape would cost ~250 tokens in every prompt.
        "custom_attribute": {"type": "object", "description": "Square's CustomerCustomAttributeFilters."},
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
    "uniqueItems": True,
    "description": "Only these, plus id and version (lists default to contact fields).",
}
