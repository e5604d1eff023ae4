"""The `Square-Version` header: which versions the local API accepts, and the one it answers with.

Square's versions are release dates (`YYYY-MM-DD`) and Square answers a version that doesn't exist with an
error. The local API can't list every release, so it accepts any real date from Square's first dated version
up to the newest one the project knows: the server's default and the version of the spec it was built from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from square_customers_mcp.config import DEFAULT_SQUARE_VERSION
from square_customers_mcp.sandbox.errors import SquareError
from square_customers_mcp.sandbox.square_facts import SPEC_SQUARE_VERSION

FIRST_VERSION = "2018-07-12"  # Square's first dated API version (its SDKs' 2018-07-12 release)
NEWEST_VERSION = max(DEFAULT_SQUARE_VERSION, SPEC_SQUARE_VERSION)
DEFAULT_VERSION = DEFAULT_SQUARE_VERSION  # what a request without the header is answered with
_FORMAT = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def is_well_formed(value: str) -> bool:
    """`YYYY-MM-DD` and a real calendar date."""
    match = _FORMAT.fullmatch(value)
    if match is None:
        return False
    try:
        date(*(int(part) for part in match.groups()))
    except ValueError:
        return False
    return True


def requested_version(headers: Mapping[str, str]) -> str:
    """The version a request asks for (the default when it names none); a Square-shaped 400 if it can't be."""
    value = headers.get("square-version")
    if value is None:
        return DEFAULT_VERSION
    if not is_well_formed(value):
        raise SquareError(
            "INVALID_SQUARE_VERSION_FORMAT",
            f"`{value[:40]}` is not a Square-Version: use a release date such as `{DEFAULT_VERSION}`.",
        )
    # ISO dates compare correctly as strings.
    if not FIRST_VERSION <= value <= NEWEST_VERSION:
        # Square documents an error for a version that doesn't exist but not its code: this is the spec's
        # closest ErrorCode (see docs/local-api.md).
        raise SquareError(
            "API_VERSION_INCOMPATIBLE",
            f"Square-Version `{value}` does not exist: versions from {FIRST_VERSION} to {NEWEST_VERSION} are known.",
        )
    return value


def response_version(headers: Mapping[str, str]) -> str | None:
    """The Square-Version to send back: the request's, or the default; None when the request's is not valid."""
    try:
        return requested_version(headers)
    except SquareError:
        return None
