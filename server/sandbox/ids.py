"""Square-looking identifiers and timestamps."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ID_LENGTH = 26


def new_id() -> str:
    """26 upper-case letters and digits, like `JDKYHBWT1D4F8MFH63DBMEN8Y4`."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(ID_LENGTH))


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with exactly three fractional digits and `Z`.

    The fixed width matters: stored timestamps compare correctly as plain strings, so SQLite can range-scan
    and sort them through an ordinary index.
    """
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def now() -> str:
    return format_time(datetime.now(UTC))


def parse_time(value: str) -> str | None:
    """An RFC 3339 timestamp (any offset, `Z` or `-00:00`) in the stored canonical form; None if invalid."""
    text = value.strip()
    if len(text) < 20 or text[10] not in "Tt":
        return None  # RFC 3339 needs a full date, a `T` and a time with an offset
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    try:
        return format_time(moment)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        return None
