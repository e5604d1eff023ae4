"""Structured logging to stderr, with secrets scrubbed from every record before it is written.

Two formats: `text` (logfmt: ts=... level=... logger=... msg="...", readable and greppable) and
`json` (one object per line, for log shippers). Every logger (ours, uvicorn's, asyncio's, httpx's, mcp's,
any library's) reaches the one root handler, which bounds floods of identical records, scrubs secrets
(also JSON-escaped or percent-encoded ones) and renders tracebacks.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, AnyStr, TextIO

REDACTED = "***"
# Loggers that may have been given handlers (uvicorn's own dict config does so) or told not to propagate.
LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "asyncio", "httpx", "httpcore", "mcp")


def _any_case(hex_digits: str) -> str:
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in hex_digits)


def _b64_runs(secret: bytes) -> list[str]:
    """The base64 text (standard alphabet, unpadded) that `secret` always encodes to inside a longer base64 run,
    at each of the 3 byte alignments: the characters whose 6 bits all come from the secret. `Bearer <secret>`
    encoded, at any alignment, holds one of them."""
    runs = []
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + secret).decode().rstrip("=")
        start, end = -(-8 * offset // 6), (8 * offset + 8 * len(secret)) // 6  # the first fully-covered character
        runs.append(encoded[start:end])
    return runs


_B64_FORMS = {"+": r"(?:\+|-|%2B)", "/": r"(?:/|_|\\/|%2F)"}  # URL-safe, JSON-escaped and percent-encoded too


def _secret_source(secret: str) -> tuple[str, list[str]]:
    """A regex for every form of `secret` recognised (each character in any escaping; hex; base64 in both alphabets
    at each alignment), and the ASCII literals one of which every match without a % or \\ escape holds, in some
    letter case (the pre-check's probes): the secret's hex, and the longest piece of each base64 form free of
    + and /, the only characters matching rewrites. The secret itself is checked as it is and in lower case."""
    raw = secret.encode()
    runs = [run for run in _b64_runs(raw) if len(run) >= 8]  # a shorter one (a secret under 6 bytes) is noise
    forms = [
        "".join(_char_forms(c) for c in secret),
        raw.hex(),
        *("".join(_B64_FORMS.get(c, c) for c in run) for run in runs),
    ]
    return "|".join(forms), [raw.hex(), *(max(re.split(r"[+/]", run), key=len).lower() for run in runs)]


def _holds(haystack: AnyStr, needles: list[AnyStr]) -> bool:
    return any(needle in haystack for needle in needles)


def _char_forms(char: str) -> str:
    """A regex for every way one character of a secret may be written in an answer, a URL or a log line:
    itself, a JSON \\uXXXX escape, percent-encoded UTF-8 (hex in either case), JSON's short escape."""
    forms = [re.escape(char), "".join("%" + _any_case(f"{b:02x}") for b in char.encode())]
    if ord(char) < 0x10000:
        forms.append(r"\\u" + _any_case(f"{ord(char):04x}"))
    if char in '/"\\':
        forms.append(re.escape("\\" + char))
    return "(?:" + "|".join(forms) + ")"


class Scrubber:
    """Replaces secrets with *** in text, bytes and parsed JSON, however each character is escaped, in any letter
    case, and base64- (standard or URL-safe, also of `Bearer <secret>`) or hex-encoded.

    Deliberately transformed forms (reversed, split, ROT13, in part) are not recognised: an upstream that does
    that to the token it was sent is itself malicious, and already holds the token."""

    def __init__(self, secrets: Iterable[str | None], min_length: int = 8) -> None:
        # Real tokens are long; a few-character "secret" would garble every line it happens to appear in.
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= min_length}, key=len, reverse=True)
        sources: list[str] = []
        probes: list[str] = []
        for secret in self.secrets:
            source, found = _secret_source(secret)
            sources.append(source)
            probes += found
        source = "|".join(sources)
        # IGNORECASE: a secret in another letter case, and hex in either; ASCII: only ASCII letters change case.
        self._text = re.compile(source, re.IGNORECASE | re.ASCII) if source else None
        self._bytes = re.compile(source.encode(), re.IGNORECASE) if source else None
        self._encoded = [secret.encode() for secret in self.secrets]
        # Compared with the lower-cased text: str.lower() for text, the ASCII-only bytes.lower() for bytes.
        self._probes = [*(secret.lower() for secret in self.secrets), *probes]
        self._probe_bytes = [*(secret.lower() for secret in self._encoded), *(probe.encode() for probe in probes)]

    def __bool__(self) -> bool:
        return self._text is not None

    def text(self, text: str) -> str:
        # The cheap checks first: a secret can only be there with a % or \\ escape, as itself, or holding one of
        # the probes (the secret, its hex, a piece of each base64 form) in some letter case.
        if self._text is None or not (
            "%" in text or "\\" in text or any(s in text for s in self.secrets) or _holds(text.lower(), self._probes)
        ):
            return text
        return self._text.sub(REDACTED, text)

    def raw(self, raw: bytes) -> bytes:
        if self._bytes is None or not (
            b"%" in raw
            or b"\\" in raw
            or any(s in raw for s in self._encoded)
            or _holds(raw.lower(), self._probe_bytes)
        ):
            return raw
        return self._bytes.sub(REDACTED.encode(), raw)

    def decoded(self, value: Any) -> Any:
        """Scrubs every string (dict keys too) of a parsed JSON value in place; returns the value.
        Iterative: a deeply nested answer must not exhaust the stack."""
        if self._text is None or not isinstance(value, (str, list, dict)):
            return value
        if isinstance(value, str):
            return self.text(value)
        stack: list[list[Any] | dict[str, Any]] = [value]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                for i, item in enumerate(node):
                    if isinstance(item, str):
                        node[i] = self.text(item)
                    elif isinstance(item, (list, dict)):
                        stack.append(item)
                continue
            rekey = False
            for key, item in node.items():
                rekey = rekey or self.text(key) is not key
                if isinstance(item, str):
                    node[key] = self.text(item)  # an existing key: allowed while iterating
                elif isinstance(item, (list, dict)):
                    stack.append(item)
            if rekey:
                items = [(self.text(key), item) for key, item in node.items()]
                node.clear()
                node.update(items)
        return value


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a bad format string must not take the caller down with it
        return f"{record.msg} (unformattable arguments: {record.args!r})"


class SecretFilter(logging.Filter):
    """Renders a record's message (args merged), traceback and stack, with each secret replaced by ***."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self._scrubber = Scrubber(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._scrubber:
            return True  # nothing to hide: the formatter renders the record as it is
        scrub = self._scrubber.text
        record.msg, record.args = scrub(_message(record)), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


@dataclass
class _Window:
    ends: float
    levelno: int
    template: str
    passed: int = 1
    suppressed: int = 0


SUMMARY_MARK = "rate_limit_summary"


class RateLimitFilter(logging.Filter):
    """Lets at most `limit` records with the same logger and message template through per `window` seconds,
    then writes "suppressed N similar messages from <logger>" once the window has ended (on the next record
    of any kind, or at close). A slowloris flood once made asyncio write 147,000 identical lines in 20 s.

    The key is the template's first line: asyncio's exception handler puts the socket's repr on later lines.
    Past `max_keys` keys in one window, further templates of a logger share one key. Thread-safe."""

    def __init__(
        self,
        emit: Callable[[logging.LogRecord], object],
        *,
        limit: int = 10,
        window: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 1000,
    ) -> None:
        super().__init__()
        self._emit, self._limit, self._window, self._clock, self._max_keys = emit, limit, window, clock, max_keys
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str | None], _Window] = {}
        self._next_sweep = float("inf")

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, SUMMARY_MARK, False):
            return True
        template = str(record.msg).split("\n", 1)[0][:200]
        now = self._clock()
        with self._lock:
            ended = self._sweep(now) if now >= self._next_sweep else []
            key: tuple[str, str | None] = (record.name, template)
            if key not in self._windows and len(self._windows) >= self._max_keys:
                key = (record.name, None)
            window = self._windows.get(key)
            if window is None:
                self._windows[key] = _Window(now + self._window, record.levelno, template)
                self._next_sweep = min(self._next_sweep, now + self._window)
                passes = True
            elif window.passed < self._limit:
                window.passed += 1
                passes = True
            else:
                window.suppressed += 1
                window.levelno = max(window.levelno, record.levelno)
                passes = False
        for summary in ended:  # outside the lock: the handler may log through this filter again
            self._emit(summary)
        return passes

    def flush(self) -> None:
        """Writes the summaries of every window still open (at shutdown)."""
        with self._lock:
            ended = self._sweep(float("inf"))
        for summary in ended:
            self._emit(summary)

    def _sweep(self, now: float) -> list[logging.LogRecord]:
        ended = [(key, w) for key, w in self._windows.items() if w.ends <= now]
        for key, _ in ended:
            del self._windows[key]
        self._next_sweep = min((w.ends for w in self._windows.values()), default=float("inf"))
        return [self._summary(key[0], w) for key, w in ended if w.suppressed]

    @staticmethod
    def _summary(name: str, window: _Window) -> logging.LogRecord:
        record = logging.LogRecord(
            name, window.levelno, __file__, 0, "suppressed %d similar messages from %s like %r",
            (window.suppressed, name, window.template), None,
        )  # fmt: skip
        setattr(record, SUMMARY_MARK, True)
        return record


def _fields(record: logging.LogRecord, formatter: logging.Formatter) -> dict[str, str]:
    fields = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": record.levelname,
        "logger": record.name,
        "msg": _message(record),
    }
    # Rendered here too, not only by SecretFilter: with no secret configured the filter leaves exc_info as is.
    exc = record.exc_text or (formatter.formatException(record.exc_info) if record.exc_info else None)
    if exc:
        fields["exc"] = exc
    if record.stack_info:
        fields["stack"] = record.stack_info
    return fields


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return " ".join(
            f"{key}={value if key in ('ts', 'level', 'logger') else json.dumps(value)}"
            for key, value in _fields(record, self).items()
        )


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record, self), ensure_ascii=False)


class _RootHandler(logging.StreamHandler[TextIO]):
    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.limiter = RateLimitFilter(self.handle)

    def close(self) -> None:
        self.limiter.flush()  # what was held back is still reported, even at exit
        super().close()


def configure_logging(level: str, secrets: Iterable[str | None], fmt: str = "text") -> None:
    """One handler on the root logger, to stderr (stdout belongs to MCP on stdio), and every logger sent to it."""
    handler = _RootHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else LogfmtFormatter())
    # Rate limiting first: it keys on the unformatted template, which SecretFilter replaces by the rendered text.
    handler.addFilter(handler.limiter)
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    existing = [name for name, lg in logging.root.manager.loggerDict.items() if isinstance(lg, logging.Logger)]
    for name in {*LIBRARY_LOGGERS, *existing}:
        logger = logging.getLogger(name)
        logger.handlers.clear()  # a handler of its own would write around the format and the scrubber
        logger.propagate = True
