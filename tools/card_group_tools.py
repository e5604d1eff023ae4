"""Cards on file (deprecated by Square, still served) and group membership tools, as data."""

from __future__ import annotations

from tools import outputs, trim
from tools.schemas import ADDRESS, CUSTOMER_ID, GROUP_ID, id_string, obj, string
from tools.spec import ToolSpec

CREATE_CUSTOMER_CARD = ToolSpec(
    name="create_customer_card",
    title="Save card on file (deprecated)",
    description=(
        "Deprecated by Square (prefer the Cards API), still works: store a card on file for a customer from a "
        "card nonce. Returns the card id, brand, last 4 digits and expiry."
    ),
    method="POST",
    path="/v2/customers/{customer_id}/cards",
    input_schema=obj(
        {
            "customer_id": CUSTOMER_ID,
            "card_nonce": string("Nonce from Square's payment form, e.g. cnon:card-nonce-ok.", minLength=1),
            "billing_address": ADDRESS,
            "cardholder_name": string(maxLength=96),
            "verification_token": string("Buyer verification token, if any.", minLength=1),
        },
        required=["customer_id", "card_nonce"],
    ),
    output_model=outputs.CardResult,
    trim=trim.card,
    read_only=False,
    destructive=False,
    idempotent=False,
    deprecated=True,
)

DELETE_CUSTOMER_CARD = ToolSpec(
    name="delete_customer_card",
    title="Remove card on file (deprecated)",
    description="Deprecated by Square (prefer the Cards API), still works: unlink a card on file from a customer.",
    method="DELETE",
    path="/v2/customers/{customer_id}/cards/{card_id}",
    input_schema=obj(
        {"customer_id": CUSTOMER_ID, "card_id": id_string("Card id, e.g. ccof:...")},
        required=["customer_id", "card_id"],
    ),
    output_model=outputs.CardDeleted,
    trim=trim.deleted_card,
    read_only=False,
    needs_confirmation=True,
    destructive=True,
    idempotent=True,
    deprecated=True,
)

REMOVE_GROUP_FROM_CUSTOMER = ToolSpec(
    name="remove_group_from_customer",
    title="Remove customer from group",
    description="Take a customer out of a customer group. Returns the membership, now false.",
    method="DELETE",
    path="/v2/customers/{customer_id}/groups/{group_id}",
    input_schema=obj({"customer_id": CUSTOMER_ID, "group_id": GROUP_ID}, required=["customer_id", "group_id"]),
    output_model=outputs.GroupMembership,
    trim=trim.group_removed,
    read_only=False,
    needs_confirmation=True,
    destructive=True,
    idempotent=True,
)

ADD_GROUP_TO_CUSTOMER = ToolSpec(
    name="add_group_to_customer",
    title="Add customer to group",
    description="Put a customer in a customer group (e.g. VIP). Returns the membership, now true.",
    method="PUT",
    path="/v2/customers/{customer_id}/groups/{group_id}",
    input_schema=obj({"customer_id": CUSTOMER_ID, "group_id": GROUP_ID}, required=["customer_id", "group_id"]),
    output_model=outputs.GroupMembership,
    trim=trim.group_added,
    read_only=False,
    destructive=False,
    idempotent=True,
)
