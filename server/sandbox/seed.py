"""Deterministic, realistic demo data: the groups and segments every database starts with, and `seed=N` customers."""

from __future__ import annotations

import hashlib
import random
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from square_customers_mcp.sandbox.ids import ID_LENGTH, format_time
from square_customers_mcp.sandbox.records import INSERT_SQL, row_values
from square_customers_mcp.sandbox.search import customer_total
from square_customers_mcp.sandbox.segments import add_members

# Fixed ids so docs, tests and demos can name them; 26 characters like every Square id.
VIP_GROUP_ID = "SANDBOXGROUPVIP00000000001"
NEWSLETTER_GROUP_ID = "SANDBOXGROUPNEWSLETTER0002"
WHOLESALE_GROUP_ID = "SANDBOXGROUPWHOLESALE00003"
SEEDED_GROUPS = (
    (VIP_GROUP_ID, "VIP"),
    (NEWSLETTER_GROUP_ID, "Newsletter"),
    (WHOLESALE_GROUP_ID, "Wholesale"),
)
# Square's built-in segments: `<merchant id>.<KIND>`, as in the spec's examples (a 13-character merchant id).
# The prefix stands for the sandbox's one merchant; the first three suffixes are the spec's, FIRST_TIME is ours.
SEGMENT_PREFIX = "SANDBOXMERCH1"
# The merchant that owns everything when no OAuth token says otherwise (any bearer token, or the configured one).
DEFAULT_MERCHANT_ID = SEGMENT_PREFIX
LAPSED_SEGMENT_ID = f"{SEGMENT_PREFIX}.CHURN_RISK"
FIRST_TIME_SEGMENT_ID = f"{SEGMENT_PREFIX}.FIRST_TIME"
REGULARS_SEGMENT_ID = f"{SEGMENT_PREFIX}.LOYAL"
REACHABLE_SEGMENT_ID = f"{SEGMENT_PREFIX}.REACHABLE"
SEEDED_SEGMENTS = (
    (LAPSED_SEGMENT_ID, "Lapsed"),
    (FIRST_TIME_SEGMENT_ID, "First-time customers"),
    (REGULARS_SEGMENT_ID, "Regulars"),
    (REACHABLE_SEGMENT_ID, "Reachable"),
)


def segments_of_merchant(merchant_id: str) -> list[tuple[str, str]]:
    """The built-in segments every merchant has, with ids under its own merchant id (as Square names them)."""
    return [(f"{merchant_id}.{segment_id.split('.', 1)[1]}", name) for segment_id, name in SEEDED_SEGMENTS]


GIVEN = [
    "Amelia",
    "Marie",
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Nikola",
    "Rosalind",
    "Isaac",
    "Hedy",
    "Edsger",
    "Barbara",
    "Linus",
    "Margaret",
    "Tim",
    "Dorothy",
    "Claude",
    "Frances",
    "Donald",
    "Radia",
    "John",
    "Lise",
    "Carl",
    "Emmy",
    "Niels",
    "Sofia",
    "Mateo",
    "Chloe",
    "Liam",
    "Aisha",
    "Kenji",
    "Priya",
    "Omar",
    "Elena",
    "Lucas",
    "Zoe",
    "Diego",
    "Hannah",
    "Yusuf",
    "Mei",
    "Noah",
    "Olivia",
    "Ravi",
    "Ingrid",
    "Tomas",
    "Leila",
    "Felix",
    "Nora",
    "Hugo",
    "Ines",
]
FAMILY = [
    "Earhart",
    "Curie",
    "Lovelace",
    "Hopper",
    "Turing",
    "Johnson",
    "Tesla",
    "Franklin",
    "Newton",
    "Lamarr",
    "Dijkstra",
    "Liskov",
    "Pauling",
    "Hamilton",
    "Berners-Lee",
    "Vaughan",
    "Shannon",
    "Allen",
    "Knuth",
    "Perlman",
    "McCarthy",
    "Meitner",
    "Sagan",
    "Noether",
    "Bohr",
    "Garcia",
    "Rossi",
    "Martin",
    "Nguyen",
    "Khan",
    "Tanaka",
    "Patel",
    "Haddad",
    "Popescu",
    "Silva",
    "Müller",
    "O'Brien",
    "Kowalski",
    "Yilmaz",
    "Chen",
    "Smith",
    "Brown",
    "Sharma",
    "Larsen",
    "Novak",
    "Mansour",
    "Schmidt",
    "Dubois",
    "Moreau",
    "Costa",
]
COMPANIES = (
    "Electric Avenue Bikes", "Blue Bottle Books", "Copper Kettle Café", "Northwind Traders", "Acme Supply Co",
    "Harbor Light Studio", "Green Leaf Grocers", "Summit Outfitters", "Pixel & Pine Design", "Maple Street Bakery",
    "Riverbend Florist", "Atlas Hardware", "Sunrise Yoga", "Lighthouse Dental", "Orchard Wine Bar",
)  # fmt: skip
STREETS = (
    "Electric Ave", "Market St", "Main St", "Oak St", "Pine St", "Maple Ave", "Cedar Ln", "Elm St",
    "Lakeview Dr", "Sunset Blvd", "Broadway", "Mission St", "Valencia St", "Park Ave", "Hillcrest Rd",
)  # fmt: skip
CITIES = (
    ("New York", "NY", "100"), ("San Francisco", "CA", "941"), ("Seattle", "WA", "981"), ("Austin", "TX", "787"),
    ("Chicago", "IL", "606"), ("Boston", "MA", "021"), ("Denver", "CO", "802"), ("Portland", "OR", "972"),
    ("Atlanta", "GA", "303"), ("Miami", "FL", "331"),
)  # fmt: skip
AREA_CODES = ("212", "415", "206", "512", "312", "617", "303", "503", "404", "305", "646", "628")
DOMAINS = ("example.com", "example.net", "example.org")
SOURCES = (
    ("THIRD_PARTY", 60), ("DIRECTORY", 15), ("IMPORT", 10), ("APPOINTMENTS", 5), ("ONLINE_STORE", 5),
    ("LOYALTY", 5),
)  # fmt: skip
NOTES = ("Prefers email", "Allergic to nuts", "Birthday discount sent", "Wholesale account", "Call after 5pm")
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_EPOCH = datetime(2022, 1, 1, tzinfo=UTC)
_SPAN_SECONDS = int((datetime(2025, 6, 30, tzinfo=UTC) - _EPOCH).total_seconds())


def generate(count: int, seed: int = 42) -> list[tuple[dict[str, Any], list[str]]]:
    """`count` customers with their group ids; the same for the same arguments, on every machine."""
    rng = random.Random(seed)
    sources = [name for name, weight in SOURCES for _ in range(weight)]
    return [_customer(rng, index, sources) for index in range(count)]


def _customer(rng: random.Random, index: int, sources: list[str]) -> tuple[dict[str, Any], list[str]]:
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    created = _EPOCH + timedelta(seconds=rng.randrange(_SPAN_SECONDS), milliseconds=rng.randrange(1000))
    edited = rng.random() < 0.4
    updated = created + timedelta(seconds=rng.randrange(1, 90 * 86400)) if edited else created
    customer: dict[str, Any] = {
        "id": "".join(rng.choice(_ALPHABET) for _ in range(ID_LENGTH)),
        "creation_source": rng.choice(sources),
        "version": rng.randint(1, 6) if edited else 0,
        "created_at": format_time(created),
        "updated_at": format_time(updated),
    }
    company_only = rng.random() < 0.05
    if not company_only:
        customer["given_name"], customer["family_name"] = given, family
    if company_only or rng.random() < 0.15:
        customer["company_name"] = rng.choice(COMPANIES)
    if company_only or rng.random() < 0.9:
        local = f"{given}.{family}".lower().replace("'", "").replace("ü", "u")
        customer["email_address"] = f"{local}{index}@{rng.choice(DOMAINS)}"
    if rng.random() < 0.85:
        customer["phone_number"] = f"+1-{rng.choice(AREA_CODES)}-555-{rng.randrange(10000):04d}"
    if rng.random() < 0.7:
        city, state, zip_prefix = rng.choice(CITIES)
        customer["address"] = {
            "address_line_1": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
            "locality": city,
            "administrative_district_level_1": state,
            "postal_code": f"{zip_prefix}{rng.randrange(100):02d}",
            "country": "US",
        }
        if rng.random() < 0.2:
            customer["address"]["address_line_2"] = f"Suite {rng.randint(100, 999)}"
    if rng.random() < 0.3:
        customer["reference_id"] = f"CRM-{index:06d}"
    if rng.random() < 0.4:
        year = f"{rng.randint(1950, 2005)}" if rng.random() < 0.7 else "0000"
        customer["birthday"] = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if rng.random() < 0.1:
        customer["nickname"] = given[:3]
    if rng.random() < 0.15:
        customer["note"] = rng.choice(NOTES)
    groups = [group_id for group_id, share in _GROUP_SHARES if rng.random() < share]
    if "company_name" in customer and WHOLESALE_GROUP_ID not in groups and rng.random() < 0.5:
        groups.append(WHOLESALE_GROUP_ID)
    return customer, sorted(groups)


_GROUP_SHARES = ((VIP_GROUP_ID, 0.15), (NEWSLETTER_GROUP_ID, 0.35), (WHOLESALE_GROUP_ID, 0.03))


# Visit-history segments are exclusive shares of the customers (the sandbox has no sales to derive them from).
_VISIT_SEGMENT_SHARES = ((REGULARS_SEGMENT_ID, 0.2), (LAPSED_SEGMENT_ID, 0.15), (FIRST_TIME_SEGMENT_ID, 0.15))


def segment_ids_of(customer: dict[str, Any]) -> list[str]:
    """The seeded customer's segments: Reachable if it has an email or phone, and at most one visit segment.

    The draw is a hash of the customer's id, not `generate`'s random stream, so adding segments left every
    other seeded field exactly as it was (and it is ~10x cheaper than a generator per customer).
    """
    segments = [REACHABLE_SEGMENT_ID] if customer.get("email_address") or customer.get("phone_number") else []
    digest = hashlib.blake2b(customer["id"].encode(), digest_size=8).digest()
    point, edge = int.from_bytes(digest, "big") / 2**64, 0.0
    for segment_id, share in _VISIT_SEGMENT_SHARES:
        edge += share
        if point < edge:
            segments.append(segment_id)
            break
    return sorted(segments)


def insert(conn: sqlite3.Connection, customers: list[tuple[dict[str, Any], list[str]]]) -> None:
    conn.executemany(INSERT_SQL, [row_values(customer) for customer, _ in customers])
    conn.executemany(
        "INSERT OR IGNORE INTO customer_groups (customer_id, group_id) VALUES (?, ?)",
        [(customer["id"], group_id) for customer, groups in customers for group_id in groups],
    )
    add_members(conn, [(customer["id"], segment) for customer, _ in customers for segment in segment_ids_of(customer)])


def seed_if_empty(conn: sqlite3.Connection, count: int, seed: int = 42) -> int:
    """Insert `count` generated customers unless the store already holds some; returns how many were added."""
    return seed_and_count(conn, count, seed).added


@dataclass(frozen=True)
class Seeding:
    """What `seed=N` did when a store opened: customers asked for, added, and held afterwards (the default
    merchant's, the one `--seed` fills)."""

    asked: int
    added: int
    held: int

    def describe(self) -> str:
        """The start-up line's account of it, e.g. `seeded 200 customers; the database holds 200 customers`."""
        holds = f"the database holds {_customers(self.held)}"
        if self.added:
            return f"seeded {_customers(self.added)}; {holds}"
        if self.asked:
            return (
                f"seeded no customers: the database already holds {_customers(self.held)}; "
                "--seed fills only an empty one; use --db to start a new one"
            )
        return holds


def _customers(count: int) -> str:
    return f"{count:,} customer{'' if count == 1 else 's'}"


def seed_and_count(conn: sqlite3.Connection, count: int, seed: int = 42) -> Seeding:
    """`seed_if_empty`, reporting what it did and how many customers the default merchant then has."""
    held = customer_total(conn, DEFAULT_MERCHANT_ID)
    added = 0
    if count > 0 and held == 0:
        insert(conn, generate(count, seed))
        added = held = count
    return Seeding(max(count, 0), added, held)
