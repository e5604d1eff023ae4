"""Shared pytest setup: async tests run on asyncio, and a scan of everything the suite produced for
the fake access tokens the tests use (they must never appear in any output, log or report)."""

from __future__ import annotations

import pytest

# Every fake secret the suite hands to the server; see tests/fakes.py, test_secrets.py, test_console_script.py
# and test_http_transport.py.
LEAK_CANARIES = (
    "test-token-123",
    "EAAAl3akTestToken-0123456789-abcdef",
    "EAAAtest-token-never-printed-0123456789",
    "http-test-token-5f2c",
)
_leaks: set[str] = set()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Captured stdout, stderr and log records of every phase of every test.
    for section, text in report.sections:
        for canary in LEAK_CANARIES:
            if canary in text:
                _leaks.add(f"{report.nodeid} [{section}] contains {canary!r}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _leaks:
        print("\nFAKE TOKENS LEAKED INTO TEST OUTPUT:\n  " + "\n  ".join(sorted(_leaks)))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
