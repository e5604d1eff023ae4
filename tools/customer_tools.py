"""The ten customer-profile tools (read, create, update, delete; single and bulk), as data."""

from __future__ import annotations

from tools import checks, outputs, trim
from tools.schemas import (
    COUNT,
    CURSOR,
    CUSTOMER_FIELDS,
    CUSTOMER_ID,
    CUSTOMER_IDS,
    CUSTOMER_QUERY,
    FIELDS,
    LIMIT,
    NULLABLE_CUSTOMER_FIELDS,
    SEARCH_DEFS,
    SORT_FIELD,
    SORT_ORDER,
    VERSION,
    obj,
    string,
)
from tools.spec import ToolSpec

_CREATE_FIELDS = {
    **CUSTOMER_FIELDS,
    "idempotency_key": string(
        "Same key and data never create twice; generated if omitted.",
        minLength=1,
        maxLength=128,
    ),
}
_BULK_CREATE_ENTRY = obj(CUSTOMER_FIELDS)
_BULK_UPDATE_ENTRY = obj({**NULLABLE_CUSTOMER_FIELDS, "version": VERSION})

LIST_CUSTOMERS = ToolSpec(
    name="list_customers",
    title="List customers",
    description=(
        "Page through all customers, sorted by name or creation time; search_customers filters. "
        "Returns customers and a next_cursor while more remain."
    ),
    method="GET",
    path="/v2/customers",
    query_params=("cursor", "limit", "sort_field", "sort_order", "count"),
    local_params=("fields",),
    input_schema=obj(
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
    read_only=True,
    destructive=False,
    idempotent=True,
)

CREATE_CUSTOMER = ToolSpec(
    name="create_customer",
    title="Create customer",
    description=(
        "Create one customer; needs a name, company, email or phone. "
        "Returns the customer and the idempotency_key that makes a retry safe."
    ),
    method="POST",
    path="/v2/customers",
    input_schema=obj(_CREATE_FIELDS),
    output_model=outputs.CreatedCustomer,
    trim=trim.created_customer,
    checks=(checks.create_needs_identity, checks.fields_are_valid),
    carries_idempotency_keys=True,
    read_only=False,
    destructive=False,
    idempotent=False,
)

BULK_CREATE_CUSTOMERS = ToolSpec(
    name="bulk_create_customers",
    title="Create customers in bulk",
    description=(
        "Create 1-100 customers in one call; `customers` maps an idempotency key of your choice to each profile. "
        "Returns the created customers and any per-key errors."
    ),
    method="POST",
    path="/v2/customers/bulk-create",
    input_schema=obj(
        {
            "customers": {
                "type": "object",
                "description": "Idempotency key -> customer fields.",
                "minProperties": 1,
                "maxProperties": 100,
                "propertyNames": {"minLength": 1, "maxLength": 128},
                "additionalProperties": _BULK_CREATE_ENTRY,
            }
        },
        required=["customers"],
    ),
    output_model=outputs.BulkCreated,
    trim=trim.bulk_created,
    checks=(checks.bulk_create_entries,),
    carries_idempotency_keys=True,
    read_only=False,
    destructive=False,
    idempotent=False,
)

BULK_DELETE_CUSTOMERS = ToolSpec(
    name="bulk_delete_customers",
    title="Delete customers in bulk",
    description="Permanently delete 1-100 customers by id. Returns the deleted ids and any per-id errors.",
    method="POST",
    path="/v2/customers/bulk-delete",
    input_schema=obj({"customer_ids": CUSTOMER_IDS}, required=["customer_ids"]),
    output_model=outputs.BulkDeleted,
    trim=trim.bulk_deleted,
    read_only=False,
    needs_confirmation=True,
    destructive=True,
    idempotent=True,
)

BULK_RETRIEVE_CUSTOMERS = ToolSpec(
    name="bulk_retrieve_customers",
    title="Get customers in bulk",
    description="Fetch 1-100 customers by id in one call. Returns them keyed by id, with an error for each id not found.",
    method="POST",
    path="/v2/customers/bulk-retrieve",
    local_params=("fields",),
    input_schema=obj({"customer_ids": CUSTOMER_IDS, "fields": FIELDS}, required=["customer_ids"]),
    output_model=outputs.BulkCustomers,
    trim=trim.bulk_customers,
    read_only=True,
    destructive=False,
    idempotent=True,
)

BULK_UPDATE_CUSTOMERS = ToolSpec(
    name="bulk_update_customers",
    title="Update customers in bulk",
    description=(
        "Change 1-100 customers in one call; `customers` maps each id to the fields to set (null clears) "
        "and its version. Returns the updated customers and per-id errors."
    ),
    method="POST",
    path="/v2/customers/bulk-update",
    input_schema=obj(
        {
            "customers": {
                "type": "object",
                "description": "Customer id -> fields to change.",
                "minProperties": 1,
                "maxProperties": 100,
                "propertyNames": CUSTOMER_ID,
                "additionalProperties": _BULK_UPDATE_ENTRY,
            }
        },
        required=["customers"],
    ),
    output_model=outputs.BulkCustomers,
    trim=trim.bulk_customers,
    checks=(checks.bulk_update_entries,),
    read_only=False,
    needs_confirmation=True,
    destructive=True,
    idempotent=True,
)

SEARCH_CUSTOMERS = ToolSpec(
    name="search_customers",
    title="Search customers",
    description=(
        "Find customers by email, phone or reference id (exact or fuzzy), group, source or time range. "
        "Returns matches and a next_cursor while more remain."
    ),
    method="POST",
    path="/v2/customers/search",
    local_params=("fields",),
    input_schema=obj(
        {"query": CUSTOMER_QUERY, "limit": LIMIT, "cursor": CURSOR, "count": COUNT, "fields": FIELDS},
        defs=SEARCH_DEFS,
    ),
    output_model=outputs.CustomerPage,
    trim=trim.customer_page,
    read_only=True,
    destructive=False,
    idempotent=True,
)

DELETE_CUSTOMER = ToolSpec(
    name="delete_customer",
    title="Delete customer",
    description=(
        "Permanently delete one customer (its cards are unlinked); pass version to refuse if it changed. "
        "Returns the deleted id."
    ),
    method="DELETE",
    path="/v2/customers/{customer_id}",
    query_params=("version",),
    input_schema=obj({"customer_id": CUSTOMER_ID, "version": VERSION}, required=["customer_id"]),
    output_model=outputs.Deleted,
    trim=trim.deleted_customer,
    read_only=False,
    needs_confirmation=True,
    destructive=True,
    idempotent=True,
)

RETRIEVE_CUSTOMER = ToolSpec(
    name="retrieve_customer",
    title="Get customer",
    description="Fetch one customer by id. Returns the customer, including its version and group ids.",
    method="GET",
    path="/v2/customers/{customer_id}",
    local_params=("fields",),
    input_schema=obj({"customer_id": CUSTOMER_ID, "fields": FIELDS}, required=["customer_id"]),
    output_model=outputs.CustomerResult,
    trim=trim.single_customer,
    read_only=True,
    destructive=False,
    idempotent=True,
)

UPDATE_CUSTOMER = ToolSpec(
    name="update_customer",
    title="Update customer",
    description=(
        "Change only the fields you pass on one customer; null clears a field. Pass version to refuse if it "
        "changed. Returns the customer with its new version."
    ),
    method="PUT",
    path="/v2/customers/{customer_id}",
    input_schema=obj(
        {"customer_id": CUSTOMER_ID, **NULLABLE_CUSTOMER_FIELDS, "version": VERSION}, required=["customer_id"]
    ),
    output_model=outputs.CustomerResult,
    trim=trim.single_customer,
    checks=(checks.update_changes_something, checks.fields_are_valid),
    read_only=False,
    destructive=True,
    idempotent=True,
)
