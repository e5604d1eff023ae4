"""The ten customer-profile tools (read, create, update, delete; single and bulk), as data."""

from __future__ import annotations

from square_customers_mcp.tools import checks, outputs, requests, trim
from square_customers_mcp.tools.schemas import (
    CLEAR,
    COUNT,
    CURSOR,
    CUSTOMER_FIELDS,
    CUSTOMER_FILTER,
    CUSTOMER_ID,
    CUSTOMER_IDS,
    FIELDS,
    LIMIT,
    PAGE_SIZE,
    SORT_FIELD,
    SORT_ORDER,
    VERSION,
    array,
    obj,
    string,
)
from square_customers_mcp.tools.spec import ToolSpec

_IDEMPOTENCY_KEY = string("Reuse only to retry the same create; generated if omitted", minLength=1, maxLength=128)
_UPDATE_FIELDS = {**CUSTOMER_FIELDS, "clear": CLEAR, "version": VERSION}
_GONE = {"NOT_FOUND": "check the id; it may already be deleted (search_customers finds customers)"}
# An unknown segment id in a filter is a 400 (an unknown group id just matches nothing).
_FILTER_IDS = {
    "BAD_REQUEST": "check the filter; list_customer_groups and list_customer_segments give valid group and segment ids"
}

LIST_CUSTOMERS = ToolSpec(
    name="list_customers",
    title="List customers",
    description=(
        "Page through all customers by name or creation date; search_customers filters. "
        "Returns contact fields, version and next_cursor."
    ),
    method="GET",
    path="/v2/customers",
    query_params=("cursor", "limit", "sort_field", "sort_order", "count"),
    defaults={"limit": PAGE_SIZE},
    schema=obj(
        {
            "cursor": CURSOR,
            "limit": LIMIT,
            "sort_field": SORT_FIELD,
            "sort_order": SORT_ORDER,
            "count": COUNT,
            "fields": FIELDS,
        }
    ),
    output_model=outputs.CustomerPage,
    trim=trim.customer_page,
    customer_resource="list",
    toolset="profiles",
    read_only=True,
    destructive=False,
    idempotent=True,
)

CREATE_CUSTOMER = ToolSpec(
    name="create_customer",
    title="Create customer",
    description="Create one customer; needs a name, company, email or phone. Returns the customer with its id.",
    method="POST",
    path="/v2/customers",
    schema=obj({**CUSTOMER_FIELDS, "idempotency_key": _IDEMPOTENCY_KEY}),
    output_model=outputs.CustomerResult,
    trim=trim.single_customer,
    checks=(checks.create_needs_identity, checks.fields_are_valid),
    prepare=requests.with_idempotency_key,
    build_body=requests.customer_fields,
    retry_hint=requests.create_retry_hint,
    carries_idempotency_keys=True,
    toolset="profiles",
    read_only=False,
    destructive=False,
    idempotent=False,
)

BULK_CREATE_CUSTOMERS = ToolSpec(
    name="bulk_create_customers",
    title="Create customers in bulk",
    description=(
        "Create 1-100 customers. Returns the created ones in entry order and the reason for each failed entry."
    ),
    method="POST",
    path="/v2/customers/bulk-create",
    schema=obj(
        {"customers": array(obj({**CUSTOMER_FIELDS, "idempotency_key": _IDEMPOTENCY_KEY}), minItems=1, maxItems=100)},
        required=["customers"],
    ),
    output_model=outputs.BulkCreated,
    trim=trim.bulk_created,
    checks=(checks.bulk_create_entries,),
    prepare=requests.with_entry_keys,
    build_body=requests.bulk_create_body,
    retry_hint=requests.bulk_create_retry_hint,
    entries="customers",
    carries_idempotency_keys=True,
    toolset="bulk",
    read_only=False,
    destructive=False,
    idempotent=False,
)

BULK_DELETE_CUSTOMERS = ToolSpec(
    name="bulk_delete_customers",
    title="Delete customers in bulk",
    description="Permanently delete 1-100 customers by id. Returns counts and the reason for each id not deleted.",
    method="POST",
    path="/v2/customers/bulk-delete",
    schema=obj({"customer_ids": CUSTOMER_IDS}, required=["customer_ids"]),
    output_model=outputs.BulkDeleted,
    trim=trim.bulk_deleted,
    entries="customer_ids",
    toolset="bulk",
    read_only=False,
    needs_confirmation=True,
    destructive=True,
    idempotent=True,
)

BULK_RETRIEVE_CUSTOMERS = ToolSpec(
    name="bulk_retrieve_customers",
    title="Get customers in bulk",
    description="Fetch 1-100 customers by id. Returns a list of customers and the reason for each id not found.",
    method="POST",
    path="/v2/customers/bulk-retrieve",
    schema=obj({"customer_ids": CUSTOMER_IDS, "fields": FIELDS}, required=["customer_ids"]),
    output_model=outputs.BulkCustomers,
    trim=trim.bulk_customers,
    entries="customer_ids",
    toolset="bulk",
    read_only=True,
    destructive=False,
    idempotent=True,
)

BULK_UPDATE_CUSTOMERS = ToolSpec(
    name="bulk_update_customers",
    title="Update customers in bulk",
    description=(
        "Change 1-100 customers; each entry has a customer_id and the fields to set or clear. "
        "Returns the updated customers and per-id errors."
    ),
    method="POST",
    path="/v2/customers/bulk-update",
    schema=obj(
        {
            "customers": array(
                obj({"customer_id": CUSTOMER_ID, **_UPDATE_FIELDS}, required=["customer_id"]), minItems=1, maxItems=100
            )
        },
        required=["customers"],
    ),
    output_model=outputs.BulkCustomers,
    trim=trim.bulk_customers,
    checks=(checks.bulk_update_entries,),
    build_body=requests.bulk_update_body,
    entries="customers",
    toolset="bulk",
    read_only=False,
    needs_confirmation=True,
    destructive=True,
    idempotent=True,
)

SEARCH_CUSTOMERS = ToolSpec(
    name="search_customers",
    title="Search customers",
    description=(
        "Find customers by email, phone, reference id (exact or fuzzy), group, segment, source or date range; "
        "filters combine with AND. Returns matches and next_cursor."
    ),
    method="POST",
    path="/v2/customers/search",
    defaults={"limit": PAGE_SIZE},
    schema=obj(
        {
            "filter": CUSTOMER_FILTER,
            "sort_field": SORT_FIELD,
            "sort_order": SORT_ORDER,
            "limit": LIMIT,
            "cursor": CURSOR,
            "count": COUNT,
            "fields": FIELDS,
        }
    ),
    output_model=outputs.CustomerPage,
    trim=trim.customer_page,
    build_body=requests.search_body,
    hints=_FILTER_IDS,
    toolset="profiles",
    read_only=True,
    destructive=False,
    idempotent=True,
)

DELETE_CUSTOMER = ToolSpec(
    name="delete_customer",
    title="Delete customer",
    description="Permanently delete one customer (its cards are unlinked); pass version to refuse if it changed.",
    method="DELETE",
    path="/v2/customers/{customer_id}",
    query_params=("version",),
    schema=obj({"customer_id": CUSTOMER_ID, "version": VERSION}, required=["customer_id"]),
    output_model=outputs.Deleted,
    trim=trim.deleted,
    hints=_GONE,
    toolset="profiles",
    read_only=False,
    needs_confirmation=True,
    destructive=True,
    idempotent=True,
)

RETRIEVE_CUSTOMER = ToolSpec(
    name="retrieve_customer",
    title="Get customer",
    description="Fetch one customer by id. Returns every stored field, its version and group and segment ids.",
    method="GET",
    path="/v2/customers/{customer_id}",
    schema=obj({"customer_id": CUSTOMER_ID, "fields": FIELDS}, required=["customer_id"]),
    output_model=outputs.CustomerResult,
    trim=trim.single_customer,
    customer_resource="read",
    toolset="profiles",
    read_only=True,
    destructive=False,
    idempotent=True,
)

UPDATE_CUSTOMER = ToolSpec(
    name="update_customer",
    title="Update customer",
    description=(
        "Set the given fields of one customer and erase those in clear; others stay. Pass version to "
        "refuse if it changed. Returns the updated customer."
    ),
    method="PUT",
    path="/v2/customers/{customer_id}",
    schema=obj({"customer_id": CUSTOMER_ID, **_UPDATE_FIELDS}, required=["customer_id"]),
    output_model=outputs.CustomerResult,
    trim=trim.single_customer,
    checks=(checks.update_changes_something,),
    build_body=requests.update_body,
    toolset="profiles",
    read_only=False,
    needs_confirmation=True,
    destructive=True,
    idempotent=True,
)
