"""The ToolSpec record: everything about one tool, as data."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

JSON = dict[str, Any]
HttpMethod = Literal["GET", "POST", "PUT", "DELETE"]
Trim = Callable[[JSON, Mapping[str, Any]], JSON]
"""(Square's response body, the tool arguments) -> the trimmed result the model reads."""
Check = Callable[[Mapping[str, Any]], list[str]]
"""Rules JSON Schema cannot say; returns one message per problem, each starting with its JSON path."""

_PATH_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    method: HttpMethod
    path: str
    """Square's path template, e.g. /v2/customers/{customer_id}; placeholders are tool arguments."""
    input_schema: JSON
    output_model: type[BaseModel]
    trim: Trim
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool = True
    query_params: tuple[str, ...] = ()
    """Arguments sent as query parameters; the rest (minus path and local arguments) form the JSON body."""
    local_params: tuple[str, ...] = ()
    """Arguments the server uses itself and never sends to Square."""
    checks: tuple[Check, ...] = ()
    deprecated: bool = False
    needs_confirmation: bool = False
    """With SQUARE_CONFIRM_DESTRUCTIVE, the human must approve the call (MCP elicitation) first."""
    carries_idempotency_keys: bool = False
    """The body holds idempotency keys, so resending it can never apply the write twice."""
    path_params: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_params", tuple(_PATH_PARAM.findall(self.path)))

    @property
    def retry_safe(self) -> bool:
        """Resending cannot duplicate anything: no POST, a read-only POST, or idempotency keys."""
        return self.method != "POST" or self.read_only or self.carries_idempotency_keys

    @property
    def has_body(self) -> bool:
        """POST and PUT carry a JSON body, unless every argument goes to the path (add_group_to_customer)."""
        sent_elsewhere = {*self.path_params, *self.query_params, *self.local_params}
        return self.method in ("POST", "PUT") and bool(set(self.input_schema["properties"]) - sent_elsewhere)
