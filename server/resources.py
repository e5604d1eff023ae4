"""Customers as MCP resources (`square://customers/{customer_id}`), so hosts that browse resources can
attach a customer to a conversation. Served by the same dispatcher as the tools."""

from __future__ import annotations

import json
import re

from mcp.shared.exceptions import MCPError
from mcp.types import (
    ListResourcesResult,
    ListResourceTemplatesResult,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    TextResourceContents,
)

from square_customers_mcp.dispatcher import Dispatcher

TEMPLATE = "square://customers/{customer_id}"
KINDS = ("list", "read")
"""The tools a server needs to offer customers as resources (see ToolSpec.customer_resource)."""
_URI = re.compile(r"^square://customers/([A-Za-z0-9_][\w.:-]*)$")
INVALID_PARAMS = -32602
PAGE = 50

TEMPLATES = ListResourceTemplatesResult(
    resource_templates=[
        ResourceTemplate(
            uri_template=TEMPLATE,
            name="customer",
            title="Square customer",
            description="One customer profile, trimmed as the tools return it (with its version and group ids).",
            mime_type="application/json",
        )
    ]
)


def customer_uri(customer_id: str) -> str:
    return f"square://customers/{customer_id}"


async def list_resources(dispatcher: Dispatcher, cursor: str | None) -> ListResourcesResult:
    args: dict[str, object] = {"limit": PAGE, "fields": ["given_name", "family_name", "company_name", "email_address"]}
    if cursor:
        args["cursor"] = cursor
    result = await dispatcher.call(_tool(dispatcher, "list"), args)
    if result.is_error or result.structured_content is None:
        raise MCPError(INVALID_PARAMS, _text(result.content))
    page = result.structured_content
    resources = [
        Resource(
            uri=customer_uri(customer["id"]),
            name=_label(customer),
            mime_type="application/json",
        )
        for customer in page["customers"]
    ]
    return ListResourcesResult(resources=resources, next_cursor=page.get("next_cursor"))


async def read_customer(dispatcher: Dispatcher, uri: str) -> ReadResourceResult:
    match = _URI.match(uri)
    if match is None:
        raise MCPError(INVALID_PARAMS, f"Resource not found: {uri} (expected {TEMPLATE})", {"uri": uri})
    result = await dispatcher.call(_tool(dispatcher, "read"), {"customer_id": match.group(1)})
    if result.is_error or result.structured_content is None:
        raise MCPError(INVALID_PARAMS, f"Resource not found: {uri}: {_text(result.content)}", {"uri": uri})
    text = json.dumps(result.structured_content["customer"], separators=(",", ":"), ensure_ascii=False)
    return ReadResourceResult(contents=[TextResourceContents(uri=uri, mime_type="application/json", text=text)])


def _label(customer: dict[str, str]) -> str:
    name = " ".join(filter(None, (customer.get("given_name"), customer.get("family_name"))))
    return name or customer.get("company_name") or customer.get("email_address") or customer["id"]


def _text(content: object) -> str:
    blocks = content if isinstance(content, list) else []
    return " ".join(getattr(block, "text", "") for block in blocks)[:300]


def _tool(dispatcher: Dispatcher, kind: str) -> str:
    tool = dispatcher.resource_tool(kind)
    if tool is None:  # build_server registers the resource handlers only when both tools are served
        raise MCPError(INVALID_PARAMS, "customers are not served as resources here")
    return tool.name
