"""Structured logging to stderr, with secrets scrubbed from every record before it is written.

Two formats: `text` (logfmt: ts=... level=... logger=... msg="...", readable and greppable) and
`json` (one object per line, for log shippers).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

REDACTED = "***"


class SecretFilter(logging.Filter):
    """Replaces each secret in a record's rendered message (and drops its args) with ***."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is replaced whole. Real tokens are long; a
        # few-character "secret" would garble every line it happens to appear in.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            record.msg, record.args = self._scrub(record.getMessage()), None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text, record.exc_info = (
                    self._scrub(logging.Formatter().formatException(record.exc_info)),
                    None,
                )
        return True


def _fields(record: logging.LogRecord) -> dict[str, str]:
    fields = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": record.levelname,
        "logger": record.name,
        "msg": record.getMessage(),
    }
    if record.exc_text:
        fields["exc"] = record.exc_text
    return fields


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return " ".join(
            f"{key}={json.dumps(value) if key in ('msg', 'exc') else value}" for key, value in _fields(record).items()
        )


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record), ensure_ascii=False)


def configure_logging(level: str, secrets: Iterable[str | None], fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)  # stdout belongs to MCP on stdio
    handler.setFormatter(JsonFormatter() if fmt == "json" else LogfmtFormatter())
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
