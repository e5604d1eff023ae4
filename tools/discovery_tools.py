"""Look-ups an agent needs to use the other tools: which customer groups and segments exist, by name."""

from __future__ import annotations

from square_customers_mcp.tools import outputs, trim
from square_customers_mcp.tools.schemas import CURSOR, obj
from square_customers_mcp.tools.spec import ToolSpec

# Square's limit for both lists is 1-50 (default 50); the full page is only a few hundred tokens.
_PAGE = obj({"cursor": CURSOR})

LIST_CUSTOMER_GROUPS = ToolSpec(
    name="list_customer_groups",
    title="List customer groups",
    description="List customer groups (e.g. VIP) to find a group id by name. Returns ids and names.",
    method="GET",
    path="/v2/customers/groups",
    query_params=("cursor",),
    schema=_PAGE,
    output_model=outputs.GroupPage,
    trim=trim.group_page,
    toolset="groups",
    read_only=True,
    destructive=False,
    idempotent=True,
)

LIST_CUSTOMER_SEGMENTS = ToolSpec(
    name="list_customer_segments",
    title="List customer segments",
    description=(
        "List customer segments (Square's smart groups, e.g. Regulars) to find a segment id for "
        "search_customers. Returns ids and names."
    ),
    method="GET",
    path="/v2/customers/segments",
    query_params=("cursor",),
    schema=_PAGE,
    output_model=outputs.SegmentPage,
    trim=trim.segment_page,
    toolset="groups",
    read_only=True,
    destructive=False,
    idempotent=True,
)
