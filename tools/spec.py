"""The ToolSpec record: everything about one tool, as data."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from square_customers_mcp.tools.dialect import LOCAL, portable

JSON = dict[str, Any]
HttpMethod = Literal["GET", "POST", "PUT", "DELETE"]
Toolset = Literal["profiles", "bulk", "groups", "cards"]
TOOLSETS: tuple[Toolset, ...] = ("profiles", "bulk", "groups", "cards")
Trim = Callable[[JSON, Mapping[str, Any]], JSON]
"""(Square's response body, the tool arguments) -> the trimmed result the model reads."""
Check = Callable[[Mapping[str, Any]], list[str]]
"""Rules JSON Schema cannot say; returns one message per problem, each starting with its JSON path."""
Prepare = Callable[[JSON], JSON]
"""Valid arguments -> the arguments the call runs with (e.g. generated idempotency keys filled in)."""
BuildBody = Callable[[Mapping[str, Any]], JSON]
"""The prepared arguments -> Square's JSON request body."""
RetryHint = Callable[[Mapping[str, Any]], str]
"""What to resend when the outcome of a write is unknown, so a retry cannot apply it twice."""

_PATH_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class FollowUp:
    """A GET made after a successful call, for facts the call's own answer lacks (e.g. the new version)."""

    path: str
    """Path template; placeholders are tool arguments."""
    merge: Callable[[JSON, JSON | None], JSON]
    """(trimmed result, the GET's body or None if it failed) -> the final result."""


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    method: HttpMethod
    path: str
    """Square's path template, e.g. /v2/customers/{customer_id}; placeholders are tool arguments."""
    schema: JSON
    """The validation schema: Square's limits, enums and patterns. Clients see `input_schema`."""
    output_model: type[BaseModel]
    trim: Trim
    read_only: bool
    destructive: bool
    idempotent: bool
    toolset: Toolset
    open_world: bool = True
    query_params: tuple[str, ...] = ()
    """Arguments sent as query parameters."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Values used for arguments the call leaves out (e.g. a page size smaller than Square's)."""
    checks: tuple[Check, ...] = ()
    prepare: Prepare | None = None
    build_body: BuildBody | None = None
    """Square's body from the arguments; default: every argument not sent in the path or query."""
    entries: str | None = None
    """The argument holding a bulk call's entries, for progress reports and the confirmation question."""
    follow_up: FollowUp | None = None
    retry_hint: RetryHint | None = None
    hints: Mapping[str, str] = field(default_factory=dict)
    """Next steps for Square error codes that mean something particular for this tool."""
    customer_resource: Literal["list", "read"] | None = None
    """The tool that lists, or reads one of, the `square://customers/{customer_id}` resources."""
    deprecated: bool = False
    needs_confirmation: bool = False
    """With SQUARE_CONFIRM_DESTRUCTIVE, the human must approve the call (MCP elicitation) first."""
    carries_idempotency_keys: bool = False
    """The body holds idempotency keys, so resending it can never apply the write twice."""
    path_params: tuple[str, ...] = field(init=False)
    local_params: tuple[str, ...] = field(init=False)
    """Arguments the server uses itself and never sends to Square: those its schema marks local."""
    input_schema: JSON = field(init=False)
    """The published schema: the portable form of `schema`."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_params", tuple(_PATH_PARAM.findall(self.path)))
        local = tuple(name for name, sub in self.schema["properties"].items() if sub.get(LOCAL))
        object.__setattr__(self, "local_params", local)
        object.__setattr__(self, "input_schema", portable(self.schema))
        if self.destructive and not self.read_only and not self.needs_confirmation:
            raise ValueError(f"{self.name}: a destructive tool must ask for confirmation when it is turned on")

    @property
    def square_scope(self) -> str:
        """The Square OAuth permission the endpoint needs (the spec's `security`): reads need CUSTOMERS_READ,
        every write CUSTOMERS_WRITE. In OAuth mode a person without it neither sees nor may call the tool."""
        return "CUSTOMERS_READ" if self.read_only else "CUSTOMERS_WRITE"

    @property
    def retry_safe(self) -> bool:
        """Resending cannot duplicate anything: no POST, a read-only POST, or idempotency keys."""
        return self.method != "POST" or self.read_only or self.carries_idempotency_keys

    def body(self, args: Mapping[str, Any]) -> JSON | None:
        """Square's JSON body for these prepared arguments; None for methods that send none."""
        if self.method not in ("POST", "PUT"):
            return None
        if self.build_body is not None:
            return self.build_body(args)
        sent_elsewhere = {*self.path_params, *self.query_params, *self.local_params}
        if not set(self.schema["properties"]) - sent_elsewhere:
            return None  # every argument goes to the path (add_group_to_customer)
        return {key: value for key, value in args.items() if key not in sent_elsewhere}

    def count_entries(self, args: Mapping[str, Any]) -> int:
        """How many entries a bulk call carries (0 for single-customer tools)."""
        entries = args.get(self.entries) if self.entries else None
        return len(entries) if isinstance(entries, list) else 0
