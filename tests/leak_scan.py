"""The fake tokens the suite hands to the server, and a search for them in any text however they are written.
tests/conftest.py scans every test's captured output and log with it."""

from __future__ import annotations

import re

# Every fake secret the suite hands to the server; see tests/fakes.py, test_secrets.py, test_console_script.py
# and test_http_transport.py.
LEAK_CANARIES = (
    "test-token-123",
    "EAAAl3akTestToken-0123456789-abcdef",
    "EAAAtest-token-never-printed-0123456789",
    "http-test-token-5f2c",
    "sandbox-env-token-7f3a",
)


def _spelled_any_way(secret: str) -> re.Pattern[str]:
    """Each character literal, JSON-escaped (\\uXXXX) or percent-encoded, hex in either case: an echo of
    the token through JSON or a URL is as much a leak as the token itself. Written apart from the
    server's scrubber (server/logs.py) on purpose, so the two check each other."""

    def hex_any_case(value: int, width: int) -> str:
        return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{value:0{width}x}")

    return re.compile(
        "".join(f"(?:{re.escape(c)}|\\\\u{hex_any_case(ord(c), 4)}|%{hex_any_case(ord(c), 2)})" for c in secret)
    )


_CANARY_PATTERNS = {canary: _spelled_any_way(canary) for canary in LEAK_CANARIES}


def leaked_canaries(text: str) -> list[str]:
    """The fake tokens that appear in `text`, however each of their characters is written."""
    return [canary for canary, pattern in _CANARY_PATTERNS.items() if pattern.search(text)]
