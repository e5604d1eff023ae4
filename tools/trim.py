"""Trimming projections: Square's JSON -> the compact result a language model reads.

No nulls, no empty lists or objects, no defaults that say nothing (creation_source THIRD_PARTY,
email_unsubscribed false); addresses become one line. `version` is always kept: the model
needs it for its next update or delete.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from square_customers_mcp.tools.errors import describe_errors

JSON = dict[str, Any]

# Kept as Square names them, so the model can send them straight back in an update.
_PLAIN_FIELDS = (
    "given_name", "family_name", "nickname", "company_name", "email_address", "phone_number",
    "reference_id", "note",
)  # fmt: skip
_ADDRESS_PARTS = (
    "address_line_1", "address_line_2", "address_line_3", "sublocality", "sublocality_2",
    "sublocality_3", "locality", "administrative_district_level_3", "administrative_district_level_2",
)  # fmt: skip


def one_line_address(address: Mapping[str, Any] | None) -> str | None:
    if not address:
        return None
    parts = [str(address[key]) for key in _ADDRESS_PARTS if address.get(key)]
    region = " ".join(
        str(address[key]) for key in ("administrative_district_level_1", "postal_code") if address.get(key)
    )
    if region:
        parts.append(region)
    if address.get("country"):
        parts.append(str(address["country"]))
    return ", ".join(parts) or None


def customer(raw: Mapping[str, Any]) -> JSON:
    out: JSON = {"id": raw["id"], "version": raw.get("version", 0)}
    for key in _PLAIN_FIELDS:
        if raw.get(key):
            out[key] = raw[key]
    address = one_line_address(raw.get("address"))
    if address:
        out["address"] = address
    birthday = raw.get("birthday")
    if birthday:
        out["birthday"] = birthday[5:] if birthday.startswith("0000-") else birthday
    eu_vat = (raw.get("tax_ids") or {}).get("eu_vat")
    if eu_vat:
        out["eu_vat"] = eu_vat
    if (raw.get("preferences") or {}).get("email_unsubscribed"):
        out["email_unsubscribed"] = True
    source = raw.get("creation_source")
    if source and source != "THIRD_PARTY":
        out["creation_source"] = source
    for key in ("group_ids", "segment_ids"):
        if raw.get(key):
            out[key] = list(raw[key])
    for key in ("created_at", "updated_at"):
        if raw.get(key):
            out[key] = raw[key]
    return out


# What a customer in a list says by default: who, how to reach them, which groups, which version.
# Address, birthday, tax id, source and timestamps cost about half the tokens of a page; they come
# with retrieve_customer, or in a list when named in `fields`. So do segment ids: Square puts nearly
# every customer in "Reachable", so they cost ~10 tokens a row, and search_customers filters by segment.
LIST_VIEW = frozenset(
    {"id", "version", "given_name", "family_name", "nickname", "company_name", "email_address", "phone_number",
     "reference_id", "note", "email_unsubscribed", "group_ids"}
)  # fmt: skip


def _projected(raw: Mapping[str, Any], args: Mapping[str, Any], default: frozenset[str] | None = None) -> JSON:
    """The trimmed customer, cut to args["fields"] (plus id and version) if given, else to `default`."""
    out = customer(raw)
    wanted = args.get("fields")
    keep = {"id", "version", *wanted} if wanted else default
    if keep is not None:
        out = {key: value for key, value in out.items() if key in keep}
    return out


def single_customer(body: JSON, args: Mapping[str, Any]) -> JSON:
    return {"customer": _projected(body["customer"], args)}


def customer_page(body: JSON, args: Mapping[str, Any]) -> JSON:
    out: JSON = {"customers": [_projected(c, args, LIST_VIEW) for c in body.get("customers") or ()]}
    if body.get("cursor"):
        out["next_cursor"] = body["cursor"]
    if body.get("count") is not None:
        out["count"] = body["count"]
    return out


def _split_responses(body: JSON) -> tuple[dict[str, JSON], dict[str, str]]:
    done: dict[str, JSON] = {}
    failed: dict[str, str] = {}
    for key, entry in (body.get("responses") or {}).items():
        if entry.get("errors"):
            failed[key] = describe_errors(entry["errors"])
        else:
            done[key] = entry
    return done, failed


def _bulk(name: str, outcome: Any, failed: dict[str, str], succeeded: int) -> JSON:
    """The shared shape of bulk results: the outcome, per-key errors when any, and the counts."""
    out: JSON = {name: outcome}
    if failed:
        out["errors"] = failed
    out["succeeded"], out["failed"] = succeeded, len(failed)
    return out


def bulk_created(body: JSON, args: Mapping[str, Any]) -> JSON:
    """Square answers by idempotency key; the model sent a list, so answer in its order and by position."""
    done, failed = _split_responses(body)
    position = {entry["idempotency_key"]: index for index, entry in enumerate(args["customers"])}
    created = [_projected(done[key]["customer"], args, LIST_VIEW) for key in position if key in done]
    errors = {str(position.get(key, key)): reason for key, reason in failed.items()}
    return _bulk("customers", created, errors, len(done))


def bulk_customers(body: JSON, args: Mapping[str, Any]) -> JSON:
    """Keys are customer ids, which each customer carries: a list says the same for fewer tokens."""
    done, failed = _split_responses(body)
    return _bulk("customers", [_projected(e["customer"], args, LIST_VIEW) for e in done.values()], failed, len(done))


def bulk_deleted(body: JSON, args: Mapping[str, Any]) -> JSON:
    """The model knows which ids it sent: counts, and the reason for each failure, say the rest."""
    done, failed = _split_responses(body)
    out: JSON = {"errors": failed} if failed else {}
    return {**out, "succeeded": len(done), "failed": len(failed)}


def deleted(body: JSON, args: Mapping[str, Any]) -> JSON:
    return {"deleted": True}


def card(body: JSON, args: Mapping[str, Any]) -> JSON:
    raw = body["card"]
    out: JSON = {"id": raw["id"]}
    for key in ("card_brand", "last_4", "exp_month", "exp_year", "cardholder_name"):
        if raw.get(key):
            out[key] = raw[key]
    address = one_line_address(raw.get("billing_address"))
    if address:
        out["billing_address"] = address
    if raw.get("card_type") and raw["card_type"] != "UNKNOWN_CARD_TYPE":
        out["card_type"] = raw["card_type"]
    return {"card": out}


def group_added(body: JSON, args: Mapping[str, Any]) -> JSON:
    return {"member": True}


def group_removed(body: JSON, args: Mapping[str, Any]) -> JSON:
    return {"member": False}


def with_new_version(result: JSON, retrieved: JSON | None) -> JSON:
    """Membership changes bump the customer's version: give the new one, or say to fetch it."""
    version = ((retrieved or {}).get("customer") or {}).get("version")
    if isinstance(version, int):
        return {**result, "version": version}
    return {**result, "note": "the customer's version changed; retrieve it before a versioned update or delete"}


def _named_page(name: str, body: JSON) -> JSON:
    out: JSON = {name: [{"id": item["id"], "name": item.get("name") or ""} for item in body.get(name) or ()]}
    if body.get("cursor"):
        out["next_cursor"] = body["cursor"]
    return out


def group_page(body: JSON, args: Mapping[str, Any]) -> JSON:
    return _named_page("groups", body)


def segment_page(body: JSON, args: Mapping[str, Any]) -> JSON:
    return _named_page("segments", body)
