"""The JSON Schema formats the tools use, checked without extra packages."""

from __future__ import annotations

import re
from datetime import datetime

from jsonschema import FormatChecker

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")  # local@domain.tld
FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the type keyword reports non-strings
    if "T" not in value.upper() or not re.search(r"(Z|[+-]\d\d:\d\d)$", value, re.IGNORECASE):
        raise ValueError("needs a date, a time and a zone, e.g. 2026-01-31T09:00:00Z")
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


@FORMAT_CHECKER.checks("email")
def is_email(value: object) -> bool:
    return not isinstance(value, str) or value == "" or bool(_EMAIL.fullmatch(value))
