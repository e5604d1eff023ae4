"""Request builders: the tools' portable arguments -> Square's request bodies.

The published schemas avoid what some model APIs reject (maps keyed by data, nulls that mean "erase"),
so Square's shapes are built here: bulk entries become Square's maps, `clear` becomes Square's nulls,
`eu_vat` becomes tax_ids, and search's flat arguments become Square's query object.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

JSON = dict[str, Any]


def new_key() -> str:
    return str(uuid.uuid4())


def customer_fields(args: Mapping[str, Any], *, skip: tuple[str, ...] = ()) -> JSON:
    """Square's customer fields from the tool's: eu_vat nests into tax_ids, `clear` names become nulls."""
    out: JSON = {}
    for name, value in args.items():
        if name in skip or name == "clear":
            continue
        if name == "eu_vat":
            out["tax_ids"] = {"eu_vat": value}
        else:
            out[name] = value
    for name in args.get("clear") or ():
        # Square's sparse update erases a field sent as null, and merges address and tax_ids part by part.
        if name == "eu_vat":
            out["tax_ids"] = {"eu_vat": None}
        elif name.startswith("address."):
            out["address"] = {**(out.get("address") or {}), name.removeprefix("address."): None}
        else:
            out[name] = None
    return out


def with_idempotency_key(args: JSON) -> JSON:
    """One key per tool call, so every retry of this call sends the same one."""
    return args if "idempotency_key" in args else {**args, "idempotency_key": new_key()}


def with_entry_keys(args: JSON) -> JSON:
    """A key for every bulk-create entry that has none."""
    entries = [
        entry if "idempotency_key" in entry else {**entry, "idempotency_key": new_key()} for entry in args["customers"]
    ]
    return {**args, "customers": entries}


def update_body(args: Mapping[str, Any]) -> JSON:
    return customer_fields(args, skip=("customer_id",))


def bulk_create_body(args: Mapping[str, Any]) -> JSON:
    return {
        "customers": {
            entry["idempotency_key"]: customer_fields(entry, skip=("idempotency_key",)) for entry in args["customers"]
        }
    }


def bulk_update_body(args: Mapping[str, Any]) -> JSON:
    return {
        "customers": {
            entry["customer_id"]: customer_fields(entry, skip=("customer_id",)) for entry in args["customers"]
        }
    }


def search_body(args: Mapping[str, Any]) -> JSON:
    query: JSON = {}
    if "filter" in args:
        query["filter"] = args["filter"]
    sort = {key: args[f"sort_{key}"] for key in ("field", "order") if f"sort_{key}" in args}
    if sort:
        query["sort"] = sort
    body: JSON = {key: args[key] for key in ("limit", "cursor", "count") if key in args}
    if query:
        body["query"] = query
    return body


def create_retry_hint(args: Mapping[str, Any]) -> str:
    return f"call create_customer again with the same fields and idempotency_key {args['idempotency_key']!r}"


def bulk_create_retry_hint(args: Mapping[str, Any]) -> str:
    keys = ", ".join(repr(entry["idempotency_key"]) for entry in args["customers"])
    return (
        f"call bulk_create_customers again with the same entries, giving them these idempotency_keys in order: {keys}"
    )
