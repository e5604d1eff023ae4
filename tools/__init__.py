"""WHAT is offered: the 14 Square Customers tools and 2 look-ups, as data. Pure, no I/O, never imports httpx."""

from __future__ import annotations

from square_customers_mcp.tools.card_group_tools import (
    ADD_GROUP_TO_CUSTOMER,
    CREATE_CUSTOMER_CARD,
    DELETE_CUSTOMER_CARD,
    REMOVE_GROUP_FROM_CUSTOMER,
)
from square_customers_mcp.tools.customer_tools import (
    BULK_CREATE_CUSTOMERS,
    BULK_DELETE_CUSTOMERS,
    BULK_RETRIEVE_CUSTOMERS,
    BULK_UPDATE_CUSTOMERS,
    CREATE_CUSTOMER,
    DELETE_CUSTOMER,
    LIST_CUSTOMERS,
    RETRIEVE_CUSTOMER,
    SEARCH_CUSTOMERS,
    UPDATE_CUSTOMER,
)
from square_customers_mcp.tools.discovery_tools import LIST_CUSTOMER_GROUPS, LIST_CUSTOMER_SEGMENTS
from square_customers_mcp.tools.spec import TOOLSETS, ToolSpec

# In the order of Square's Customers API reference (and DESIGN.md's table).
TOOLS: tuple[ToolSpec, ...] = (
    LIST_CUSTOMERS,
    CREATE_CUSTOMER,
    BULK_CREATE_CUSTOMERS,
    BULK_DELETE_CUSTOMERS,
    BULK_RETRIEVE_CUSTOMERS,
    BULK_UPDATE_CUSTOMERS,
    SEARCH_CUSTOMERS,
    DELETE_CUSTOMER,
    RETRIEVE_CUSTOMER,
    UPDATE_CUSTOMER,
    CREATE_CUSTOMER_CARD,
    DELETE_CUSTOMER_CARD,
    REMOVE_GROUP_FROM_CUSTOMER,
    ADD_GROUP_TO_CUSTOMER,
    LIST_CUSTOMER_GROUPS,
    LIST_CUSTOMER_SEGMENTS,
)
TOOLS_BY_NAME: dict[str, ToolSpec] = {tool.name: tool for tool in TOOLS}

# What the server tells every client at initialize, about the tools as a whole.
INSTRUCTIONS = (
    "Square Customers API: one tool per endpoint. Customer results carry `version`; pass it to "
    "update_customer or delete_customer so a concurrent change is never overwritten. Group ids come from "
    "list_customer_groups, segment ids from list_customer_segments. Omitted and null arguments mean "
    "'leave as is'; erase a field by naming it in `clear`."
)

__all__ = ["INSTRUCTIONS", "TOOLS", "TOOLSETS", "TOOLS_BY_NAME", "ToolSpec"]
