"""Cards on file (Square's deprecated CreateCustomerCard / DeleteCustomerCard) with Square's sandbox test nonces."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime

from square_customers_mcp.sandbox.customer_fields import read_address
from square_customers_mcp.sandbox.customers import require
from square_customers_mcp.sandbox.errors import JSON, SquareError
from square_customers_mcp.sandbox.ids import new_id, now
from square_customers_mcp.sandbox.validate import opt_object, opt_str, reject_unknown

OK_NONCE = "cnon:card-nonce-ok"
# Square's documented sandbox nonces that fail, with the error each produces (its category comes from the spec).
FAILING_NONCES: dict[str, tuple[str, str]] = {
    "cnon:card-nonce-declined": ("CARD_DECLINED", "Card declined."),
    "cnon:card-nonce-rejected-cvv": ("VERIFY_CVV_FAILURE", "Card verification code check failed."),
    "cnon:card-nonce-rejected-postalcode": ("VERIFY_AVS_FAILURE", "Postal code check failed."),
    "cnon:card-nonce-rejected-expiration": ("INVALID_EXPIRATION", "Invalid card expiration date."),
    "cnon:card-nonce-already-used": ("CARD_TOKEN_USED", "Card nonce already used; request a new nonce."),
}
CARDHOLDER_MAX = 96
EXPIRY_YEARS_AHEAD = 3
TEST_CARD_NUMBER = "4111111111111111"  # what `cnon:card-nonce-ok` stands for in Square's sandbox


def read_request(body: JSON) -> tuple[str, str | None, dict[str, str] | None]:
    """(card_nonce, cardholder_name, billing_address) from a CreateCustomerCard body."""
    reject_unknown(body, ("card_nonce", "billing_address", "cardholder_name", "verification_token"))
    nonce = opt_str(body, "card_nonce")
    if not nonce:
        raise SquareError("MISSING_REQUIRED_PARAMETER", "Field `card_nonce` is required.", field="card_nonce")
    opt_str(body, "verification_token")  # accepted; the sandbox has no buyer verification to check
    name = opt_str(body, "cardholder_name")
    if isinstance(name, str) and len(name) > CARDHOLDER_MAX:
        raise SquareError(
            "VALUE_TOO_LONG",
            f"`cardholder_name` must be at most {CARDHOLDER_MAX} characters long.",
            field="cardholder_name",
        )
    address = opt_object(body, "billing_address")
    billing = None
    if isinstance(address, dict):
        billing = {key: value for key, value in read_address(address, "billing_address").items() if value}
    return nonce, name if isinstance(name, str) and name else None, billing or None


def check_nonce(nonce: str) -> None:
    if nonce in FAILING_NONCES:
        code, detail = FAILING_NONCES[nonce]
        raise SquareError(code, detail, field="card_nonce")
    if nonce != OK_NONCE:
        raise SquareError(
            "INVALID_CARD",
            f"`{nonce}` is not a card nonce the local API knows; use `{OK_NONCE}` or a documented test nonce.",
            field="card_nonce",
        )


def create_card(
    conn: sqlite3.Connection,
    merchant_id: str,
    customer_id: str,
    nonce: str,
    name: str | None,
    billing: dict[str, str] | None,
) -> JSON:
    require(conn, merchant_id, customer_id)
    check_nonce(nonce)
    # Square: "calls to CreateCustomerCard are idempotent. Multiple calls with the same card nonce return
    # the same card record that was created with the provided nonce during the first call." Per customer
    # here, and only while that card is on file.
    key = f"card-nonce:{customer_id}:{nonce}"
    first = conn.execute(
        "SELECT response FROM idempotency WHERE merchant_id = ? AND key = ?", (merchant_id, key)
    ).fetchone()
    if first is not None:
        row = conn.execute(
            "SELECT card FROM cards WHERE id = ?", (json.loads(first["response"])["card_id"],)
        ).fetchone()
        if row is not None:
            existing: JSON = json.loads(row["card"])
            return existing
        conn.execute("DELETE FROM idempotency WHERE merchant_id = ? AND key = ?", (merchant_id, key))
    card: JSON = {
        "id": f"ccof:{new_id()}",
        "card_brand": "VISA",
        "last_4": TEST_CARD_NUMBER[-4:],
        "exp_month": 11,
        "exp_year": datetime.now(UTC).year + EXPIRY_YEARS_AHEAD,
    }
    if name:
        card["cardholder_name"] = name
    if billing:
        card["billing_address"] = billing
    card |= {
        "fingerprint": "sq-1-" + hashlib.sha256(TEST_CARD_NUMBER.encode()).hexdigest()[:40],
        "customer_id": customer_id,
        "enabled": True,
        "card_type": "CREDIT",
        "prepaid_type": "NOT_PREPAID",
        "bin": TEST_CARD_NUMBER[:6],
        "version": 1,
    }
    conn.execute(
        "INSERT INTO cards (id, merchant_id, customer_id, card, created_at) VALUES (?, ?, ?, ?, ?)",
        (card["id"], merchant_id, customer_id, json.dumps(card), now()),
    )
    conn.execute(
        "INSERT INTO idempotency (merchant_id, key, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)",
        (merchant_id, key, "", json.dumps({"card_id": card["id"]}), now()),
    )
    return card


def delete_card(conn: sqlite3.Connection, merchant_id: str, customer_id: str, card_id: str) -> None:
    require(conn, merchant_id, customer_id)
    deleted = conn.execute("DELETE FROM cards WHERE id = ? AND customer_id = ?", (card_id, customer_id))
    if not deleted.rowcount:
        raise SquareError("NOT_FOUND", f"Card with ID `{card_id}` not found.", status=404)
