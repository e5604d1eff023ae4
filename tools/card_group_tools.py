"""Cards on file (deprecated by Square, still served) and group membership tools, as data."""

from __future__ import annotations

from square_customers_mcp.tools import outputs, trim
from square_customers_mcp.tools.schemas import ADDRESS, CUSTOMER_ID, GROUP_ID, id_string, obj, string
from square_customers_mcp.tools.spec import FollowUp, ToolSpec

# Membership changes bump the customer's version; its answer does not say the new one, a GET does.
_NEW_VERSION = FollowUp("/v2/customers/{customer_id}", trim.with_new_version)
_WHICH_ID = {
    "NOT_FOUND": "check customer_id (search_customers finds customers) and group_id (list_customer_groups lists groups)"
}

CREATE_CUSTOMER_CARD = ToolSpec(
    name="create_customer_card",
    title="Save card on file (deprecated)",
    description=(
        "Deprecated by Square (use the Cards API), still works: save a card on file from a card nonce. "
        "Returns card id, brand, last 4 and expiry."
    ),
    method="POST",
    path="/v2/customers/{customer_id}/cards",
    schema=obj(
        {
            "customer_id": CUSTOMER_ID,
            "card_nonce": string("From Square's payment form, e.g. cnon:card-nonce-ok", minLength=1),
            "billing_address": ADDRESS,
            "cardholder_name": string(maxLength=96),
            "verification_token": string(minLength=1),
        },
        required=["customer_id", "card_nonce"],
    ),
    output_model=outputs.CardResult,
    trim=trim.card,
    toolset="cards",
    read_only=False,
    destructive=False,
    idempotent=False,
    deprecated=True,
)

DELETE_CUSTOMER_CARD = ToolSpec(
    name="delete_customer_card",
    title="Remove card on file (deprecated)",
    description="Deprecated by Square (use the Cards API), still works: unlink a card on file from a customer.",
    method="DELETE",
    path="/v2/customers/{customer_id}/cards/{card_id}",
    schema=obj(
        {"customer_id": CUSTOMER_ID, "card_id": id_string("Card id, e.g. ccof:...")},
        required=["customer_id", "card_id"],
    ),
    output_model=outputs.Deleted,
    trim=trim.deleted,
    toolset="cards",
    read_only=False,
    needs_confirmation=True,
    destructive=True,
    idempotent=True,
    deprecated=True,
)

REMOVE_GROUP_FROM_CUSTOMER = ToolSpec(
    name="remove_group_from_customer",
    title="Remove customer from group",
    description="Take a customer out of a customer group. Returns the customer's new version.",
    method="DELETE",
    path="/v2/customers/{customer_id}/groups/{group_id}",
    schema=obj({"customer_id": CUSTOMER_ID, "group_id": GROUP_ID}, required=["customer_id", "group_id"]),
    output_model=outputs.GroupMembership,
    trim=trim.group_removed,
    follow_up=_NEW_VERSION,
    hints=_WHICH_ID,
    toolset="groups",
    read_only=False,
    needs_confirmation=True,
    destructive=True,
    idempotent=True,
)

ADD_GROUP_TO_CUSTOMER = ToolSpec(
    name="add_group_to_customer",
    title="Add customer to group",
    description=(
        "Put a customer in a customer group (e.g. VIP); list_customer_groups finds group ids. "
        "Returns the customer's new version."
    ),
    method="PUT",
    path="/v2/customers/{customer_id}/groups/{group_id}",
    schema=obj({"customer_id": CUSTOMER_ID, "group_id": GROUP_ID}, required=["customer_id", "group_id"]),
    output_model=outputs.GroupMembership,
    trim=trim.group_added,
    follow_up=_NEW_VERSION,
    hints=_WHICH_ID,
    toolset="groups",
    read_only=False,
    destructive=False,
    idempotent=True,
)
