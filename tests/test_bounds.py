"""Square's answer is read up to MAX_RESPONSE_BYTES (decoded), then the call fails with a clear, unretried error."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fakes import FakeSquare, MakeFakeSquare, result_text

from square_customers_mcp.retry import RetryPolicy
from square_customers_mcp.square_client import MAX_RESPONSE_BYTES, ResponseTooLarge

pytestmark = pytest.mark.anyio
CHUNK = 64 * 1024
RETRYING = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0)


class Endless:
    """A streamed JSON-looking body of `total` bytes (no Content-Length) that counts what was pulled from it."""

    def __init__(self, total: int = 4 * MAX_RESPONSE_BYTES) -> None:
        self.total = total
        self.sent = 0

    async def body(self) -> AsyncIterator[bytes]:
        yield b'{"customer":{"id":"C1","note":"'
        while self.sent < self.total:
            self.sent += CHUNK
            yield b"x" * CHUNK
        yield b'"}}'

    def respond(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=self.body())


def square(fake_square: MakeFakeSquare, respond: object) -> FakeSquare:
    return fake_square(respond, retry=RETRYING)


async def test_an_endless_answer_is_cut_at_the_limit_and_not_retried(fake_square: MakeFakeSquare) -> None:
    endless = Endless()
    fake = square(fake_square, endless.respond)
    result = await fake.dispatcher().call("retrieve_customer", {"customer_id": "C1"})
    text = result_text(result)
    assert result.is_error
    assert text.startswith("RESPONSE_TOO_LARGE:") and "16 MiB" in text, text
    assert "retry" not in text.lower(), text  # the same request would bring the same answer
    assert len(fake.requests) == 1
    assert endless.sent <= MAX_RESPONSE_BYTES + CHUNK  # reading stopped at the cap


async def test_a_declared_oversize_length_is_refused_before_reading(fake_square: MakeFakeSquare) -> None:
    endless = Endless()

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless.body(), headers={"Content-Length": str(MAX_RESPONSE_BYTES + 1)})

    fake = square(fake_square, respond)
    with pytest.raises(ResponseTooLarge, match="16 MiB"):
        await fake.client().request("GET", "/v2/customers/C1", retry_safe=True)
    assert endless.sent == 0
    assert len(fake.requests) == 1


async def test_a_compressed_answer_is_capped_by_its_decoded_size(fake_square: MakeFakeSquare) -> None:
    # 20 MiB of JSON that gzip squeezes into some 20 KB: the cap is on what memory would hold.
    bomb = gzip.compress(b'{"customer":{"id":"C1","note":"' + b"x" * (20 * 1024 * 1024) + b'"}}')
    assert len(bomb) < MAX_RESPONSE_BYTES // 100

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip"})

    fake = square(fake_square, respond)
    result = await fake.dispatcher().call("retrieve_customer", {"customer_id": "C1"})
    assert result.is_error and result_text(result).startswith("RESPONSE_TOO_LARGE:")


async def test_an_answer_at_the_limit_is_read_whole(fake_square: MakeFakeSquare) -> None:
    head, tail = b'{"customer":{"id":"C1","version":1,"note":"', b'"}}'
    body = head + b"n" * (MAX_RESPONSE_BYTES - len(head) - len(tail)) + tail
    assert len(body) == MAX_RESPONSE_BYTES

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(body), CHUNK):
            yield body[start : start + CHUNK]

    fake = square(fake_square, lambda request: httpx.Response(200, content=stream()))
    response = await fake.client().request("GET", "/v2/customers/C1")
    assert response.status == 200
    assert response.body["customer"]["note"] == "n" * (MAX_RESPONSE_BYTES - len(head) - len(tail))


async def test_a_compressed_answer_within_the_limit_still_decodes(fake_square: MakeFakeSquare) -> None:
    answer = {"customer": {"id": "C1", "version": 3, "given_name": "Ada"}}
    compressed = gzip.compress(json.dumps(answer).encode())

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=compressed, headers={"Content-Encoding": "gzip"})

    response = await square(fake_square, respond).client().request("GET", "/v2/customers/C1")
    assert response.body == answer


async def test_an_oversize_answer_to_a_write_says_it_may_have_been_applied(fake_square: MakeFakeSquare) -> None:
    endless = Endless()
    fake = square(fake_square, endless.respond)
    result = await fake.dispatcher().call("create_customer", {"given_name": "Ada"})
    text = result_text(result)
    assert result.is_error and text.startswith("RESPONSE_TOO_LARGE:"), text
    assert "outcome is unknown" in text, text
    assert len(fake.requests) == 1


async def test_an_answer_dripped_slowly_ends_at_the_timeout_not_per_read(fake_square: MakeFakeSquare) -> None:
    """httpx's timeout is per read: a byte every 50 ms never trips a 0.3 s one. The whole answer must arrive
    within the timeout; a read that times out may have applied, so the call is not repeated blindly."""
    import anyio
    from fakes import settings

    async def drip() -> AsyncIterator[bytes]:
        yield b'{"customer":{"id":"C1","note":"'
        for _ in range(200):  # 10 s in all
            await anyio.sleep(0.05)
            yield b"x"
        yield b'"}}'

    fake = fake_square(lambda request: httpx.Response(200, content=drip()), retry=RetryPolicy(max_attempts=1))
    with anyio.fail_after(3):
        result = await fake.dispatcher(settings=settings(timeout_seconds=0.3)).call(
            "retrieve_customer", {"customer_id": "C1"}
        )
    assert result.is_error
    assert result_text(result).startswith("TIMEOUT: Square did not answer in time"), result_text(result)
