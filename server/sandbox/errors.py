"""Square-shaped errors: one exception type that every layer raises and the routes turn into a response."""

from __future__ import annotations

from typing import Any

from square_customers_mcp.sandbox.square_facts import ERROR_CATEGORIES

JSON = dict[str, Any]

INVALID_REQUEST = "INVALID_REQUEST_ERROR"
AUTHENTICATION = "AUTHENTICATION_ERROR"
PAYMENT_METHOD = "PAYMENT_METHOD_ERROR"
API_ERROR = "API_ERROR"


def category_of(code: str, stated: str | None = None) -> str:
    """The category Square's spec files `code` under. `stated` must agree with it; only a code outside the
    spec's ErrorCode enum takes its category from `stated`, and without one it is a bug."""
    spec = ERROR_CATEGORIES.get(code)
    if spec is None and stated is None:
        raise ValueError(f"{code} is not in the ErrorCode enum of Square's spec: state its category")
    if spec is not None and stated is not None and stated != spec:
        raise ValueError(f"{code} is a {spec} in Square's spec, not {stated}")
    return spec or str(stated)


class SquareError(Exception):
    """One Square `Error` object plus the HTTP status it travels with; its category is the one the spec's
    ErrorCode enum gives its code, never a per-site choice."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        status: int = 400,
        category: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.field = field
        self.status = status
        self.category = category_of(code, category)

    def to_json(self) -> JSON:
        """The error as Square writes it: `field` only when there is one (Square never sends nulls)."""
        body: JSON = {"category": self.category, "code": self.code, "detail": self.detail}
        if self.field is not None:
            body["field"] = self.field
        return body

    def body(self) -> JSON:
        return {"errors": [self.to_json()]}


def customer_not_found(customer_id: str) -> SquareError:
    return SquareError("NOT_FOUND", f"Customer with ID `{customer_id}` not found.", status=404)


def group_not_found(group_id: str) -> SquareError:
    return SquareError("NOT_FOUND", f"Customer group with ID `{group_id}` not found.", status=404)


def segment_not_found(segment_id: str) -> SquareError:
    return SquareError("NOT_FOUND", f"Customer segment with ID `{segment_id}` not found.", status=404)


def version_conflict(customer_id: str, given: int, current: int, field: str = "version") -> SquareError:
    """The project's documented choice: HTTP 409 CONFLICT (Square's enum has no VERSION_MISMATCH)."""
    return SquareError(
        "CONFLICT",
        # What happened only: what to do next is the client's to say (the MCP dispatcher adds it).
        f"Customer `{customer_id}` is at version {current}, but the request carried version {given}.",
        field=field,
        status=409,
    )
