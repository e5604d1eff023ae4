"""stdio: every unreadable line is answered, lines are capped, and SIGINT/SIGTERM stop the server at once.

Fast tests drive the line reader and a whole in-process server over pipes; the slow ones run the console
script as an MCP host would (local backend, in memory).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any

import anyio
import mcp.types as types
import pytest
from fakes import FakeSquare, MakeFakeSquare
from mcp.shared.message import SessionMessage

from square_customers_mcp.app import build_server
from square_customers_mcp.stdio import MAX_LINE_BYTES, LineSplitter, encode, read_line, serve_fds

SCRIPT = Path(sys.executable).with_name("square-customers-mcp")
SURROGATE_CALL = (
    rb'{"jsonrpc":"2.0","id":7,"method":"tools/call",'
    rb'"params":{"name":"retrieve_customer","arguments":{"customer_id":"\ud800"}}}'
)
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def call(request_id: int, customer_id: str) -> dict[str, Any]:
    arguments = {"customer_id": customer_id}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": "retrieve_customer", "arguments": arguments}}  # fmt: skip


def line(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode() + b"\n"


# The line reader, in-process.


def test_lines_are_framed_across_chunks() -> None:
    splitter = LineSplitter(limit=10)
    assert splitter.feed(b"ab") == []
    assert splitter.feed(b"c\nde\n\nf") == [b"abc", b"de", b""]
    assert splitter.finish() == b"f"


def test_a_line_past_the_cap_is_refused_once_and_never_held() -> None:
    splitter = LineSplitter(limit=1024)
    assert splitter.feed(b"x" * 1000) == []
    assert splitter.feed(b"x" * 1000) == [None]  # reported as soon as it grows past the cap
    for _ in range(100):  # the rest of the line is dropped as it arrives
        assert splitter.feed(b"y" * 65536) == []
        assert splitter.held == 0
    assert splitter.feed(b"tail\nnext\n") == [b"next"]  # back in step at the next newline
    assert splitter.feed(b"z" * 1024 + b"\n") == [b"z" * 1024]  # exactly the cap is fine


def error_of(result: object) -> tuple[int | str | None, int, str]:
    assert isinstance(result, types.JSONRPCError), result
    return result.id, result.error.code, result.error.message


def test_a_valid_line_goes_to_the_server() -> None:
    result = read_line(line(call(1, "C1")))
    assert isinstance(result, SessionMessage)
    assert isinstance(result.message, types.JSONRPCRequest) and result.message.id == 1


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        (b"not json", types.PARSE_ERROR, "not valid JSON"),
        (b'{"jsonrpc":"2.0","id":1,"method":"ping"', types.PARSE_ERROR, "not valid JSON"),
        (b'\xff{"jsonrpc":"2.0","id":1,"method":"ping"}', types.PARSE_ERROR, "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, types.PARSE_ERROR, "not valid JSON"),
        (b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]', types.INVALID_REQUEST, "not a JSON-RPC 2.0"),
    ],
)
def test_an_unreadable_line_is_a_parse_error_without_an_id(raw: bytes, code: int, words: str) -> None:
    request_id, got_code, message = error_of(read_line(raw))
    assert (request_id, got_code) == (None, code)
    assert words in message


def test_a_lone_surrogate_is_answered_with_the_request_id() -> None:
    request_id, code, message = error_of(read_line(SURROGATE_CALL))
    assert (request_id, code) == (7, types.INVALID_REQUEST)
    assert "lone surrogate" in message


def test_a_lone_surrogate_in_the_id_is_answered_without_one() -> None:
    request_id, code, _ = error_of(read_line(rb'{"jsonrpc":"2.0","id":"\udc00","method":"ping"}'))
    assert (request_id, code) == (None, types.INVALID_REQUEST)


def test_a_message_of_the_wrong_shape_is_answered_with_its_id() -> None:
    assert error_of(read_line(b'{"jsonrpc":"2.0","id":5}'))[:2] == (5, types.INVALID_REQUEST)
    assert error_of(read_line(b'{"jsonrpc":"1.0","id":"a","method":"ping"}'))[:2] == ("a", types.INVALID_REQUEST)


@pytest.mark.parametrize("request_id", ["null", '{"a":1}', "[1]", "1.5", "true"])
def test_a_request_with_an_invalid_id_is_answered_with_a_null_id(request_id: str) -> None:
    # The SDK dropped the id and read a notification: no answer ever came. JSON-RPC 2.0: answer with id null.
    raw = b'{"jsonrpc":"2.0","id":%s,"method":"ping"}' % request_id.encode()
    request_id_seen, code, message = error_of(read_line(raw))
    assert (request_id_seen, code) == (None, types.INVALID_REQUEST)
    assert "the id must be a string or an integer" in message


def test_a_notification_still_reaches_the_server() -> None:
    result = read_line(line(INITIALIZED))
    assert isinstance(result, SessionMessage) and isinstance(result.message, types.JSONRPCNotification)
    nested = read_line(b'{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","id":1}}')
    assert isinstance(nested, SessionMessage)  # an "id" inside params is not the message's


def test_blank_lines_and_bad_notifications_are_not_answered() -> None:
    assert read_line(b"   \r") is None
    assert read_line(rb'{"jsonrpc":"2.0","method":"notifications/x","params":{"a":"\ud800"}}') is None


def test_an_outgoing_lone_surrogate_becomes_a_replacement_character() -> None:
    answer = types.JSONRPCError(jsonrpc="2.0", id=1, error=types.ErrorData(code=-1, message="bad \ud800 text"))
    data = encode(SessionMessage(answer))
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    assert json.loads(data.decode("utf-8"))["error"]["message"] == "bad \ufffd text"


# A whole server on pipes, in-process.


class Pipes:
    """The client's ends of a server's stdin and stdout."""

    def __init__(self) -> None:
        self.server_in, self.to_server = os.pipe()
        self.from_server, self.server_out = os.pipe()
        self.answers: IO[bytes] = os.fdopen(self.from_server, "rb")

    async def send(self, data: bytes) -> None:
        """In a thread: a long line fills the pipe, and the server reading it runs on this event loop."""

        def write_all() -> None:
            view = memoryview(data)
            while view:
                view = view[os.write(self.to_server, view) :]

        with anyio.fail_after(10):
            await anyio.to_thread.run_sync(write_all, abandon_on_cancel=True)

    async def answer(self) -> dict[str, Any]:
        with anyio.fail_after(10):
            raw = await anyio.to_thread.run_sync(self.answers.readline, abandon_on_cancel=True)
        answer: dict[str, Any] = json.loads(raw)
        return answer

    def end_input(self) -> None:
        os.close(self.to_server)
        self.to_server = -1

    def close(self) -> None:
        self.answers.close()
        for fd in (self.server_in, self.to_server, self.server_out):
            if fd >= 0:
                os.close(fd)


@pytest.fixture
def pipes() -> Iterator[Pipes]:
    made = Pipes()
    yield made
    made.close()


@contextlib.asynccontextmanager
async def serving(square: FakeSquare, pipes: Pipes) -> AsyncIterator[Pipes]:
    """A server on `pipes`, initialized; at the end stdin is closed (EOF) and the server must return."""
    server = build_server(square.dispatcher())
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            tg.start_soon(serve_fds, server, pipes.server_in, pipes.server_out)
            await pipes.send(line(INITIALIZE) + line(INITIALIZED))
            assert (await pipes.answer())["id"] == 0
            yield pipes
            pipes.end_input()
    os.close(pipes.server_out)
    pipes.server_out = -1
    assert pipes.answers.read() == b"", "nothing more is written after stdin ends"


@pytest.mark.anyio
async def test_the_server_answers_every_bad_line_and_keeps_serving(fake_square: MakeFakeSquare, pipes: Pipes) -> None:
    async with serving(fake_square(), pipes) as server:
        await server.send(b"not json\n")
        assert (await server.answer())["error"]["code"] == types.PARSE_ERROR
        await server.send(SURROGATE_CALL + b"\n")
        assert (answer := await server.answer())["id"] == 7 and answer["error"]["code"] == types.INVALID_REQUEST
        await server.send(b"{" + b" " * MAX_LINE_BYTES + b"}\n")
        assert (answer := await server.answer())["id"] is None and "4 MiB" in answer["error"]["message"]
        await server.send(line(call(8, "C1")))
        answer = await server.answer()
        assert answer["id"] == 8 and "result" in answer


@pytest.mark.anyio
async def test_invalid_ids_are_answered_and_logged_boundedly(
    fake_square: MakeFakeSquare, pipes: Pipes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="square_customers_mcp.stdio")
    async with serving(fake_square(), pipes) as server:
        for _ in range(12):
            await server.send(b'{"jsonrpc":"2.0","id":null,"method":"tools/list"}\n')
            answer = await server.answer()
            assert answer["id"] is None and answer["error"]["code"] == types.INVALID_REQUEST
        await server.send(line({"jsonrpc": "2.0", "id": 3, "method": "ping"}))
        assert (await server.answer())["id"] == 3
    refused = [r for r in caplog.records if r.name == "square_customers_mcp.stdio" and "refused a line" in r.message]
    assert len(refused) == 12 and "the id must be a string or an integer" in refused[0].message
    assert [r.levelno for r in refused] == [logging.WARNING] * 10 + [logging.DEBUG] * 2  # garbage can't flood


# The console script, as an MCP host runs it.


class Script:
    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SQUARE_")}
        env["SQUARE_SANDBOX_DB"] = ":memory:"
        self.proc = subprocess.Popen(
            [str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin = self.proc.stdin
        # Read by a thread, so that a missing answer fails the test after a while instead of hanging it.
        self.lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(raw) for raw in self.proc.stdout or ()], daemon=True).start()
        self.send(line(INITIALIZE) + line(INITIALIZED))
        assert self.answer()["id"] == 0

    def send(self, data: bytes) -> None:
        self.stdin.write(data)
        self.stdin.flush()

    def answer(self) -> dict[str, Any]:
        try:
            raw = self.lines.get(timeout=10)
        except queue.Empty:
            raise AssertionError("no answer within 10 s") from None
        answer: dict[str, Any] = json.loads(raw)  # stdout carries JSON-RPC lines only
        assert answer["jsonrpc"] == "2.0"
        return answer

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.kill()
        self.stdin.close()
        self.proc.wait(timeout=10)
        err = self.proc.stderr.read() if self.proc.stderr else b""
        return self.proc.returncode, err.decode(errors="replace")


@pytest.fixture
def script() -> Iterator[Script]:
    assert SCRIPT.exists(), f"console script missing at {SCRIPT}"
    running = Script()
    yield running
    running.stop()


@pytest.mark.slow
def test_the_script_answers_surrogates_garbage_and_long_lines(script: Script) -> None:
    script.send(SURROGATE_CALL + b"\n")
    assert script.answer() == {
        "jsonrpc": "2.0",
        "id": 7,
        "error": {"code": types.INVALID_REQUEST, "message": error_of(read_line(SURROGATE_CALL))[2]},
    }
    script.send(b"\xc3\x28 not utf-8\n")
    assert script.answer()["error"]["code"] == types.PARSE_ERROR
    script.send(b'{"jsonrpc":"2.0","id":9,"method":"tools/call","params":' + b"x" * (MAX_LINE_BYTES + 10) + b"}\n")
    assert script.answer()["error"]["code"] == types.INVALID_REQUEST
    script.send(line(call(10, "NOPE")))
    answer = script.answer()
    assert answer["id"] == 10 and answer["result"]["isError"] is True  # the local API's 404, as a tool error


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_script_at_once_while_stdin_is_idle(script: Script, signum: signal.Signals) -> None:
    started = time.monotonic()
    script.proc.send_signal(signum)
    code = script.proc.wait(timeout=5)
    assert code == 0
    assert time.monotonic() - started < 5
    _, err = script.stop()
    assert "Traceback" not in err
