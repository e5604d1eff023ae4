"""Merchants: who owns each row of the local API, and who a request acts for.

Square keeps each seller's (merchant's) data apart; an OAuth access token names one merchant and the scopes it
was granted. Without OAuth, every request acts for the default merchant with every scope, as before merchants
existed.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from square_customers_mcp.sandbox.ids import now
from square_customers_mcp.sandbox.seed import DEFAULT_MERCHANT_ID, segments_of_merchant

# Square's merchant ids are 13 capital letters and digits; ObtainTokenResponse allows 8-191 characters.
MERCHANT_ID = re.compile(r"[A-Z0-9]{8,32}")


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: a merchant, and the OAuth scopes granted (None: every scope)."""

    merchant_id: str
    scopes: frozenset[str] | None = None

    def allows(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes


DEFAULT_PRINCIPAL = Principal(DEFAULT_MERCHANT_ID)


def ensure_merchant(conn: sqlite3.Connection, merchant_id: str) -> None:
    """Make the merchant known, with Square's built-in segments (ids under its merchant id), if it is new."""
    stamp = now()
    added = conn.execute("INSERT OR IGNORE INTO merchants (id, created_at) VALUES (?, ?)", (merchant_id, stamp))
    if added.rowcount:
        conn.executemany(
            "INSERT OR IGNORE INTO customer_segments_defined (id, merchant_id, name, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [(segment_id, merchant_id, name, stamp, stamp) for segment_id, name in segments_of_merchant(merchant_id)],
        )


def known_merchants(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT id FROM merchants ORDER BY id")]
