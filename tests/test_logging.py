"""The log: every logger (uvicorn's, asyncio's, any library's) goes through one handler, one format and the
secret scrubber; tracebacks are always written; floods of identical records are bounded."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from square_customers_mcp.logs import LIBRARY_LOGGERS, RateLimitFilter, SecretFilter, configure_logging

FAKE_TOKEN = "EAAAl3akTestToken-0123456789-abcdef"
LOGGERS = (*LIBRARY_LOGGERS, "some.library")


@pytest.fixture
def isolated_logging() -> Iterator[None]:
    """Puts back the root handler (pytest's capture) and each logger's handlers and propagation."""
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    saved = {name: (lg.handlers[:], lg.propagate, lg.level) for name in LOGGERS if (lg := logging.getLogger(name))}
    yield
    root.handlers[:], level = saved_root
    root.setLevel(level)
    for name, (handlers, propagate, lvl) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:], logger.propagate = handlers, propagate
        logger.setLevel(lvl)


def lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line]


@pytest.mark.usefixtures("isolated_logging")
def test_uvicorn_and_library_loggers_reach_the_one_handler_scrubbed_and_in_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import uvicorn

    # As uvicorn's default dict config leaves them: own handlers, no propagation.
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = [logging.StreamHandler()]
        logger.propagate = False
    configure_logging("INFO", [FAKE_TOKEN], "json")
    # The launch the server uses: log_config=None, so uvicorn installs nothing of its own.
    uvicorn.Config(app=lambda scope, receive, send: None, log_config=None, log_level="info")
    for name in LOGGERS:
        logging.getLogger(name).warning("from %s, Bearer %s", name, FAKE_TOKEN)
    try:
        raise RuntimeError(f"failed with {FAKE_TOKEN}")
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    records = [json.loads(line) for line in lines(capsys.readouterr().err)]  # every line is our JSON
    assert [r["logger"] for r in records] == [*LOGGERS, "uvicorn.error"]
    assert all(r["msg"] == f"from {r['logger']}, Bearer ***" for r in records[:-1])
    assert "RuntimeError: failed with ***" in records[-1]["exc"]
    assert FAKE_TOKEN not in json.dumps(records)


@pytest.mark.usefixtures("isolated_logging")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_tracebacks_are_logged_with_no_secret_configured(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", [None], fmt)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("square_customers_mcp.x").exception("call failed")
    logging.getLogger("square_customers_mcp.x").warning("where", stack_info=True)
    out = lines(capsys.readouterr().err)
    if fmt == "json":
        failed, where = (json.loads(line) for line in out)
        exc, stack = failed["exc"], where["stack"]
    else:
        failed_line, where_line = out  # a traceback stays on its line: logfmt quotes it
        exc = json.loads(failed_line.split(" exc=", 1)[1])
        stack = json.loads(where_line.split(" stack=", 1)[1])
    assert exc.startswith("Traceback (most recent call last)") and "ValueError: boom" in exc
    assert stack.startswith("Stack (most recent call last)")


@pytest.mark.usefixtures("isolated_logging")
def test_scrubbing_covers_escaped_tokens_and_unformattable_records(capsys: pytest.CaptureFixture[str]) -> None:
    from test_secrets import ECHOES

    configure_logging("INFO", [FAKE_TOKEN])
    log = logging.getLogger("square_customers_mcp.x")
    for echo in ECHOES.values():
        log.info("upstream said %s", echo)
    log.info("two args %s %s", FAKE_TOKEN)  # wrong arity must not raise into the caller, nor leak
    err = capsys.readouterr().err
    assert err.count('msg="upstream said ***"') == len(ECHOES)
    assert "unformattable" in err and FAKE_TOKEN not in err


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(name: str, msg: str, *args: object, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_a_flood_of_one_message_is_bounded_then_summarised() -> None:
    clock, summaries = Clock(), list[logging.LogRecord]()
    limiter = RateLimitFilter(summaries.append, limit=10, window=10.0, clock=clock)
    # Same template with different arguments is still the same message.
    passed = [limiter.filter(record("uvicorn.error", "Invalid HTTP request received %d", i)) for i in range(25)]
    assert passed == [True] * 10 + [False] * 15
    assert limiter.filter(record("uvicorn.error", "another message"))
    assert limiter.filter(record("asyncio", "Invalid HTTP request received %d", 0)), "keyed per logger"
    assert summaries == []
    clock.now += 9.9
    assert not limiter.filter(record("uvicorn.error", "Invalid HTTP request received %d", 99))
    clock.now += 0.1  # the window has ended: the next record passes, after the summary
    assert limiter.filter(record("uvicorn.error", "Invalid HTTP request received %d", 100))
    assert [s.getMessage() for s in summaries] == [
        "suppressed 16 similar messages from uvicorn.error like 'Invalid HTTP request received %d'"
    ]
    assert summaries[0].name == "uvicorn.error" and summaries[0].levelno == logging.WARNING
    assert limiter.filter(summaries[0]), "a summary is never held back"


def test_a_summary_is_written_when_any_later_record_arrives_or_at_close() -> None:
    clock, summaries = Clock(), list[logging.LogRecord]()
    limiter = RateLimitFilter(summaries.append, limit=2, window=10.0, clock=clock)
    for _ in range(5):
        limiter.filter(record("asyncio", "socket.accept() out of system resource\nsocket: <fd=%d>", 6))
    clock.now += 11
    limiter.filter(record("other", "unrelated"))
    assert [s.getMessage() for s in summaries] == [
        "suppressed 3 similar messages from asyncio like 'socket.accept() out of system resource'"
    ]
    for _ in range(4):
        limiter.filter(record("asyncio", "again"))
    limiter.flush()
    assert summaries[-1].getMessage() == "suppressed 2 similar messages from asyncio like 'again'"


def test_too_many_distinct_messages_share_one_limit_per_logger() -> None:
    limiter = RateLimitFilter(lambda r: None, limit=3, window=10.0, clock=Clock(), max_keys=5)
    passed = sum(limiter.filter(record("chatty", f"message {i}")) for i in range(100))
    assert passed == 5 + 3


def test_the_limiter_counts_exactly_under_threads() -> None:
    summaries: list[logging.LogRecord] = []
    clock = Clock()
    limiter = RateLimitFilter(summaries.append, limit=10, window=10.0, clock=clock)
    passed: list[bool] = []

    def flood() -> None:
        passed.extend(limiter.filter(record("asyncio", "flood")) for _ in range(2000))

    threads = [threading.Thread(target=flood) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    limiter.flush()
    assert sum(passed) == 10
    assert summaries[0].args == (7990, "asyncio", "flood")


@pytest.mark.usefixtures("isolated_logging")
def test_the_configured_handler_bounds_a_flood(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", [FAKE_TOKEN], "json")
    for _ in range(10_000):
        logging.getLogger("asyncio").error("socket.accept() out of system resource\nsocket: %s", "<fd=6>")
    logging.getLogger().handlers[0].close()  # as at exit: what was held back is reported
    out = [json.loads(line) for line in lines(capsys.readouterr().err)]
    assert len(out) == 11
    assert out[-1]["msg"].startswith("suppressed 9990 similar messages from asyncio")


def test_the_log_scrubs_encoded_and_recased_tokens() -> None:
    header = base64.b64encode(f"Bearer {FAKE_TOKEN}".encode()).decode()
    args = (header, FAKE_TOKEN.encode().hex().upper(), FAKE_TOKEN.lower())
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "upstream said %s / %s / %s", args, None)
    assert SecretFilter([FAKE_TOKEN]).filter(record)
    message = record.getMessage()
    assert message.startswith("upstream said QmVhcmVyIE") and message.count("***") == 3, message
    assert not any(form[4:-4] in message for form in args)
