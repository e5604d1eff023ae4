"""MCP over stdio, newline-delimited JSON-RPC, with the bounds the SDK's stdio reader lacks.

The SDK's reader drops a line it cannot parse without a word (the client waits forever: an invalid UTF-8
line, a lone-surrogate escape that its JSON parser refuses), buffers a line of any length, and reads in a
worker thread that Ctrl-C cannot interrupt. Here every unreadable request is answered with a JSON-RPC error,
lines are capped (a longer one is refused and skipped up to its newline, never held whole), and SIGINT or
SIGTERM stop the server at once. The blocking reads and writes run in daemon threads, so a stop never waits
for stdin to deliver a line or for the client to drain stdout. stdout carries protocol messages only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import mcp.types as types
from anyio.lowlevel import EventLoopToken
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server import Server
from mcp.shared.message import SessionMessage
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

log = logging.getLogger("square_customers_mcp.stdio")

MAX_LINE_BYTES = 4 * 1024 * 1024  # a full bulk call of 100 customers is far below this
_CHUNK = 64 * 1024
# Windows' event loops take no signal handlers; there Ctrl-C still ends the process through KeyboardInterrupt.
_STOP_SIGNALS = () if sys.platform == "win32" else (signal.SIGINT, signal.SIGTERM)
_WARNINGS = 10  # then further refused or unanswerable lines are logged at debug level: garbage can't flood the log


class LineSplitter:
    """Frames a byte stream into lines (without the newline) of at most `limit` bytes.

    `feed` returns the complete lines in the chunk, and None for a line that grew past the limit: that one is
    reported as soon as it does, and its remaining bytes are dropped up to its newline, never buffered.
    """

    def __init__(self, limit: int = MAX_LINE_BYTES) -> None:
        self.limit = limit
        self._buffer = bytearray()
        self._skipping = False

    @property
    def held(self) -> int:
        """Bytes held for the line in progress (never more than `limit`)."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes | None]:
        lines: list[bytes | None] = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            piece = data[start:] if end < 0 else data[start:end]
            if self._skipping:
                self._skipping = end < 0
            elif len(self._buffer) + len(piece) > self.limit:
                self._buffer.clear()
                lines.append(None)
                self._skipping = end < 0
            else:
                self._buffer += piece
                if end >= 0:
                    lines.append(bytes(self._buffer))
                    self._buffer.clear()
            if end < 0:
                return lines
            start = end + 1

    def finish(self) -> bytes | None:
        """The last line, when the stream ended without a newline after it."""
        last = bytes(self._buffer) if self._buffer and not self._skipping else None
        self._buffer.clear()
        return last


def error_answer(request_id: int | str | None, code: int, message: str) -> types.JSONRPCError:
    return types.JSONRPCError(jsonrpc="2.0", id=request_id, error=types.ErrorData(code=code, message=message))


def too_long() -> types.JSONRPCError:
    limit = MAX_LINE_BYTES // (1024 * 1024)
    return error_answer(None, types.INVALID_REQUEST, f"Invalid request: the line is longer than the {limit} MiB limit")


def read_line(line: bytes) -> SessionMessage | types.JSONRPCError | None:
    """One line: a message for the server, an error to answer at once, or None (nothing to answer)."""
    if not line.strip():
        return None
    try:
        message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
    except ValidationError as error:
        failure = error
    else:
        if isinstance(message, types.JSONRPCNotification) and _has_id(line):
            # The SDK drops an id it cannot take (null, an object, 1.5) and reads a notification: never answered.
            # JSON-RPC 2.0: a request whose id cannot be determined is answered with id null.
            return error_answer(None, types.INVALID_REQUEST, "Invalid request: the id must be a string or an integer")
        return SessionMessage(message)
    # The SDK cannot read it: find out why, and answer with the request's id when there is one to read.
    try:
        data = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return error_answer(None, types.PARSE_ERROR, "Parse error: the line is not valid UTF-8")
    except (ValueError, RecursionError):
        return error_answer(None, types.PARSE_ERROR, "Parse error: the line is not valid JSON")
    if isinstance(data, dict) and "method" in data and "id" not in data:
        return None  # a notification is never answered, not even with an error (JSON-RPC 2.0)
    if not _encodable(data):
        reason = "a string holds a lone surrogate escape (\\ud800-\\udfff without its pair), which is not Unicode"
    else:
        # JSON that Python's parser takes and the SDK's refuses (its depth limit, NaN) says so; else the shape.
        unparsed = [d["msg"] for d in failure.errors(include_input=False) if d["type"] == "json_invalid"]
        reason = unparsed[0] if unparsed else "not a JSON-RPC 2.0 request, notification or response"
    return error_answer(_id_of(data), types.INVALID_REQUEST, f"Invalid request: {reason}")


def _has_id(line: bytes) -> bool:
    """Whether a line the SDK read as a notification has an "id" member (notifications are few and small)."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):  # the SDK's parser took it: cannot happen, and then it has no id to read
        return False
    return isinstance(data, dict) and "id" in data


def _id_of(data: Any) -> int | str | None:
    request_id = data.get("id") if isinstance(data, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, int | str) or not _encodable(request_id):
        return None
    return request_id


def _encodable(data: Any) -> bool:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def encode(message: SessionMessage) -> bytes:
    """One outgoing line. A lone surrogate (say, echoed from an upstream answer) cannot be UTF-8: it is sent
    as U+FFFD rather than losing the whole message."""
    try:
        text = message.message.model_dump_json(by_alias=True, exclude_unset=True)
    except PydanticSerializationError:
        plain = message.message.model_dump(mode="json", by_alias=True, exclude_unset=True)
        text = json.dumps(plain, ensure_ascii=False, separators=(",", ":"))
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text.encode("utf-8") + b"\n"


async def serve_stdio(server: Server[Any]) -> None:
    """Serve `server` on this process's stdin and stdout until stdin ends, SIGINT or SIGTERM."""
    with _claim_stdio() as (wire_in, wire_out):
        await serve_fds(server, wire_in, wire_out, stop_signals=_STOP_SIGNALS)


async def serve_fds(
    server: Server[Any], read_fd: int, write_fd: int, *, stop_signals: tuple[signal.Signals, ...] = ()
) -> None:
    """Serve `server` on two file descriptors (stdio's, or a test's pipes) until EOF or one of `stop_signals`."""
    to_server, server_in = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    server_out, outgoing = anyio.create_memory_object_stream[SessionMessage](0)
    written = anyio.Event()
    async with anyio.create_task_group() as everything:
        if stop_signals:
            everything.start_soon(_stop_on, stop_signals, everything.cancel_scope)
        token = anyio.lowlevel.current_token()
        _daemon(lambda: _pump_out(write_fd, outgoing, written, everything.cancel_scope, token), "stdout")
        everything.start_soon(_read, read_fd, to_server, server_out.clone())
        async with server_out:
            await server.run(server_in, server_out, server.create_initialization_options())
        # stdin has ended: let the last answers reach stdout, then stop.
        with anyio.move_on_after(5):
            await written.wait()
        everything.cancel_scope.cancel()


async def _stop_on(signals: tuple[signal.Signals, ...], scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(*signals) as received:
        async for signum in received:
            log.info("stopping on %s", signal.Signals(signum).name)
            scope.cancel()
            return


async def _read(
    fd: int,
    to_server: MemoryObjectSendStream[SessionMessage | Exception],
    answers: MemoryObjectSendStream[SessionMessage],
) -> None:
    chunks_in, chunks = anyio.create_memory_object_stream[bytes](1)
    token = anyio.lowlevel.current_token()
    _daemon(lambda: _pump_in(fd, chunks_in, token), "stdin")
    splitter = LineSplitter()
    refused = 0
    async with to_server, answers, chunks:
        async for chunk in chunks:
            last = None if chunk else splitter.finish()
            lines = splitter.feed(chunk) if chunk else [] if last is None else [last]
            for line in lines:
                result = too_long() if line is None else read_line(line)
                if isinstance(result, SessionMessage):
                    await to_server.send(result)
                    continue
                if line is not None and not line.strip():
                    continue  # a blank line
                refused += 1
                level = logging.WARNING if refused <= _WARNINGS else logging.DEBUG
                size = "too long" if line is None else f"{len(line)} bytes"
                if isinstance(result, types.JSONRPCError):
                    log.log(level, "stdio: refused a line (%s): %s", size, result.error.message)
                    await answers.send(SessionMessage(result))
                else:
                    log.log(level, "stdio: ignored an invalid notification (%s)", size)
            if not chunk:
                return


def _pump_in(fd: int, chunks: MemoryObjectSendStream[bytes], token: EventLoopToken) -> None:
    """Daemon thread: stdin's bytes into the event loop; an empty chunk means EOF."""
    with contextlib.suppress(Exception):  # the loop or the reader is gone: nothing left to feed
        while True:
            try:
                chunk = os.read(fd, _CHUNK)
            except OSError as error:
                log.warning("stdio: reading stdin failed (%s); stopping", error.strerror)
                chunk = b""
            anyio.from_thread.run(chunks.send, chunk, token=token)
            if not chunk:
                return


def _pump_out(
    fd: int,
    outgoing: MemoryObjectReceiveStream[SessionMessage],
    written: anyio.Event,
    scope: anyio.CancelScope,
    token: EventLoopToken,
) -> None:
    """Daemon thread: the server's messages onto stdout, one line each, until the server's stream closes."""
    try:
        try:
            while True:
                data = memoryview(encode(anyio.from_thread.run(outgoing.receive, token=token)))
                while data:
                    data = data[os.write(fd, data) :]
        except anyio.EndOfStream:
            anyio.from_thread.run_sync(written.set, token=token)
        except OSError as error:  # the client closed its end: nobody is left to serve
            log.info("stdio: stdout closed (%s); stopping", error.strerror)
            anyio.from_thread.run_sync(scope.cancel, token=token)
    except Exception:  # most likely the loop is gone at exit, with nobody waiting for these messages
        log.debug("stdio: the stdout thread stopped", exc_info=True)


def _daemon(target: Callable[[], None], name: str) -> None:
    # Daemon: a thread blocked in read() or write() must not keep a stopping process alive.
    threading.Thread(target=target, name=f"mcp-{name}", daemon=True).start()


@contextlib.contextmanager
def _claim_stdio() -> Iterator[tuple[int, int]]:
    """Private copies of fds 0 and 1 for the protocol. Meanwhile fd 0 reads /dev/null and fd 1 writes to stderr,
    so a stray read or print (a library's, a child process's) cannot touch the wire."""
    sys.stdout.flush()
    try:
        wire_in, wire_out = os.dup(0), os.dup(1)
        null = os.open(os.devnull, os.O_RDONLY)
    except OSError:  # no usable std descriptors to divert: serve them as they are
        yield 0, 1
        return
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    try:
        yield wire_in, wire_out
    finally:
        sys.stdout.flush()
        os.dup2(wire_in, 0)
        os.dup2(wire_out, 1)
        # The copies stay open: a daemon thread may still be blocked on one, and a closed number can be reused.
