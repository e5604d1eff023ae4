"""Shared pytest setup: async tests run on asyncio, the `fake_square` fixture, and a scan of everything
the suite produced for the fake access tokens the tests use (they must never appear in any output, log
or report)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fakes import FakeSquare, MakeFakeSquare, Responder
from leak_scan import leaked_canaries

_leaks: set[str] = set()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake_square() -> Iterator[MakeFakeSquare]:
    """Makes FakeSquare(respond, settings=..., retry=...) (tests/fakes.py) for sync and async tests alike;
    every client those fakes made (`.client()`, `.dispatcher()`) is closed at teardown."""
    made: list[FakeSquare] = []

    def make(respond: Responder | None = None, **fields: Any) -> FakeSquare:
        fake = FakeSquare(**fields) if respond is None else FakeSquare(respond, **fields)
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.close()


@pytest.fixture
def clean_main(monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    """`cli.main` in-process, with no SQUARE_* variable but those given, and the process's logging left alone."""
    from square_customers_mcp import cli

    for name in [name for name in os.environ if name.startswith("SQUARE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)

    def run(argv: list[str], **env: str) -> int:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return cli.main(argv)

    return run


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Captured stdout, stderr and log records of every phase of every test.
    for section, text in report.sections:
        for canary in leaked_canaries(text):
            _leaks.add(f"{report.nodeid} [{section}] contains {canary!r} (literal or escaped)")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _leaks:
        print("\nFAKE TOKENS LEAKED INTO TEST OUTPUT:\n  " + "\n  ".join(sorted(_leaks)))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
