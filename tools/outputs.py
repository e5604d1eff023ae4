"""Pydantic models of the trimmed results; their JSON Schema is each tool's outputSchema.

Trimmed results never carry null, so optional fields render as their plain type (see
OutputSchemaGenerator) rather than `anyOf [T, null]`. `extra="forbid"` makes every drift
between a trim function and its model fail the schema checks in the tests.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Customer(_Out):
    """A customer as the model sees it: identity, contact, membership and the version to write with."""

    id: str
    version: int
    given_name: str | None = None
    family_name: str | None = None
    nickname: str | None = None
    company_name: str | None = None
    email_address: str | None = None
    phone_number: str | None = None
    address: str | None = Field(None, description="One line: street, city, region postal code, country.")
    birthday: str | None = Field(None, description="YYYY-MM-DD, or MM-DD when Square has no year.")
    reference_id: str | None = None
    note: str | None = None
    eu_vat: str | None = None
    email_unsubscribed: bool | None = Field(None, description="Present (true) only if they opted out.")
    creation_source: str | None = Field(None, description="Present only when not THIRD_PARTY.")
    group_ids: list[str] | None = None
    segment_ids: list[str] | None = None
    created_at: str | None = None
    updated_at: str | None = None


def _required_only(schema: dict[str, Any]) -> None:
    schema.pop("properties", None)
    schema.pop("additionalProperties", None)


# A listed customer's schema only requires id and version: clients such as the mcp SDK's check every result
# against the outputSchema, and fully declared items cost ~120 us per customer to check (declaring just id and
# version, ~40 us), a fifth of a 25-customer call. The tests still hold every listed customer to `Customer`.
class ListedCustomer(BaseModel):
    """A customer: id (string), version (integer) and the listed fields, typed as in retrieve_customer."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_required_only)
    id: str
    version: int


class CustomerResult(_Out):
    customer: Customer


class CustomerPage(_Out):
    customers: list[ListedCustomer]
    next_cursor: str | None = Field(None, description="Pass as cursor for the next page; absent at the end.")
    count: int | None = Field(None, description="Total matches, when count was requested.")


class BulkCreated(_Out):
    """Per-entry outcome of a bulk create."""

    customers: list[ListedCustomer] = Field(
        description="The created customers, in entry order; the positions in errors are skipped."
    )
    errors: dict[str, str] | None = Field(None, description="Failed entries by position (0 = first): the reason.")
    succeeded: int
    failed: int


class BulkCustomers(_Out):
    """Per-id outcome of a bulk retrieve or update: each customer carries its id."""

    customers: list[ListedCustomer]
    errors: dict[str, str] | None = Field(None, description="Failed ids: the reason.")
    succeeded: int
    failed: int


class BulkDeleted(_Out):
    """Counts, and the reason for each id not deleted; every other id was deleted."""

    errors: dict[str, str] | None = Field(None, description="Ids not deleted: the reason.")
    succeeded: int
    failed: int


class Deleted(_Out):
    deleted: bool


class Card(_Out):
    id: str
    card_brand: str | None = None
    last_4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    cardholder_name: str | None = None
    billing_address: str | None = None
    card_type: str | None = None


class CardResult(_Out):
    card: Card


class GroupMembership(_Out):
    member: bool = Field(description="Whether the customer is now in the group.")
    version: int | None = Field(None, description="The customer's new version, for the next versioned write.")
    note: str | None = Field(None, description="Present when the new version could not be read.")


class Named(_Out):
    id: str
    name: str


class GroupPage(_Out):
    groups: list[Named]
    next_cursor: str | None = Field(None, description="Pass as cursor for the next page; absent at the end.")


class SegmentPage(_Out):
    segments: list[Named]
    next_cursor: str | None = Field(None, description="Pass as cursor for the next page; absent at the end.")


class OutputSchemaGenerator(GenerateJsonSchema):
    """Renders `T | None = None` as plain T: trimmed output drops nulls instead of sending them."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False  # titles repeat the property names and cost tokens

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        # A None default says nothing to the model; omit it.
        inner = self.generate_inner(schema["schema"])
        if schema.get("default") is not None:
            inner["default"] = schema["default"]
        return inner


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(definitions[node["$ref"].rsplit("/", 1)[-1]], definitions)
        return {key: _inline(value, definitions) for key, value in node.items() if key != "title"}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node


def output_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema with the (non-recursive) definitions inlined: clients that check every
    result against it, as the mcp SDK's does, resolve no references per customer."""
    schema = model.model_json_schema(schema_generator=OutputSchemaGenerator)
    definitions = schema.pop("$defs", {})
    result: dict[str, Any] = _inline(schema, definitions)
    return result
