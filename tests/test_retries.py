"""Retries towards Square: which requests, on what, how long, and that a retry never duplicates."""

from __future__ import annotations

import json
import time
from typing import Protocol

import anyio
import httpx
import pytest
from fakes import FakeSquare, MakeFakeSquare, scripted

from square_customers_mcp.config import Settings
from square_customers_mcp.retry import RetryPolicy, retry_after_seconds

pytestmark = pytest.mark.anyio
FAST = RetryPolicy(max_attempts=4, deadline_seconds=5, base_delay=0.001, max_delay=0.01)
CUSTOMER = {"customer": {"id": "C1", "version": 0, "given_name": "Ada"}}


SQUARE = Settings(access_token="tok", environment="sandbox")


class Script(Protocol):
    def __call__(self, *answers: httpx.Response | Exception) -> tuple[FakeSquare, list[httpx.Request]]: ...


@pytest.fixture
def script(fake_square: MakeFakeSquare) -> Script:
    """A fake Square that plays the given answers in order, then repeats the last one; and what it was sent."""

    def make(*answers: httpx.Response | Exception) -> tuple[FakeSquare, list[httpx.Request]]:
        square = fake_square(scripted(*answers), settings=SQUARE, retry=FAST)
        return square, square.requests

    return make


def unavailable(status: int = 503, **headers: str) -> httpx.Response:
    body = {"errors": [{"category": "API_ERROR", "code": "SERVICE_UNAVAILABLE", "detail": "busy"}]}
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_retryable_status_then_success(status: int, script: Script) -> None:
    square, sent = script(unavailable(status), httpx.Response(200, json=CUSTOMER))
    result = await square.dispatcher().call("retrieve_customer", {"customer_id": "C1"})
    assert not result.is_error
    assert len(sent) == 2


@pytest.mark.parametrize(
    "error", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped")]
)
async def test_connection_errors_and_timeouts_are_retried(error: Exception, script: Script) -> None:
    square, sent = script(error, httpx.Response(200, json=CUSTOMER))
    result = await square.dispatcher().call("retrieve_customer", {"customer_id": "C1"})
    assert not result.is_error
    assert len(sent) == 2


async def test_create_retries_resend_the_same_idempotency_key(script: Script) -> None:
    square, sent = script(httpx.ReadTimeout("answer lost"), unavailable(), httpx.Response(200, json=CUSTOMER))
    result = await square.dispatcher().call("create_customer", {"given_name": "Ada"})
    assert not result.is_error
    keys = {json.loads(r.content)["idempotency_key"] for r in sent}
    assert len(sent) == 3 and len(keys) == 1
    # A success spends no tokens on the key: the customer is all the model needs.
    assert result.structured_content == {"customer": {"id": "C1", "version": 0, "given_name": "Ada"}}


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("answer lost"), unavailable()], ids=["timeout", "503"])
async def test_an_unknown_create_outcome_gives_the_key_to_retry_with(
    failure: httpx.Response | Exception, script: Script
) -> None:
    square, sent = script(failure)
    result = await square.dispatcher().call("create_customer", {"given_name": "Ada"})
    text = result.content[0].text
    key = json.loads(sent[0].content)["idempotency_key"]
    assert result.is_error and len(sent) == FAST.max_attempts
    assert "The outcome is unknown" in text and f"idempotency_key {key!r}" in text
    # The retry the error asks for sends that very key, so Square can never create a second customer.
    square, again = script(httpx.Response(200, json=CUSTOMER))
    retried = await square.dispatcher().call("create_customer", {"given_name": "Ada", "idempotency_key": key})
    assert not retried.is_error and json.loads(again[0].content)["idempotency_key"] == key


async def test_a_lost_answer_then_a_rate_limit_still_gives_the_key(script: Script) -> None:
    # Attempt 1 may have created the customer; the last attempt's 429 must not hide that.
    square, sent = script(httpx.ReadTimeout("answer lost"), unavailable(429))
    result = await square.dispatcher().call("create_customer", {"given_name": "Ada"})
    key = json.loads(sent[0].content)["idempotency_key"]
    assert result.is_error and "The outcome is unknown" in result.content[0].text
    assert f"idempotency_key {key!r}" in result.content[0].text


async def test_a_connection_that_never_opened_is_no_unknown_outcome(script: Script) -> None:
    square, sent = script(httpx.ConnectError("refused"))
    result = await square.dispatcher().call("create_customer", {"given_name": "Ada"})
    text = result.content[0].text
    assert result.is_error and len(sent) == FAST.max_attempts
    assert "The outcome is unknown" not in text and "Next step: retry the call" in text


async def test_a_create_answered_without_a_customer_gives_the_key(script: Script) -> None:
    square, sent = script(httpx.Response(200, json={"unexpected": True}))
    result = await square.dispatcher().call("create_customer", {"given_name": "Ada"})
    key = json.loads(sent[0].content)["idempotency_key"]
    assert result.is_error and result.content[0].text.startswith("UNEXPECTED_RESPONSE")
    assert f"idempotency_key {key!r}" in result.content[0].text


async def test_an_unknown_bulk_create_outcome_lists_every_entry_key_in_order(script: Script) -> None:
    square, sent = script(httpx.RemoteProtocolError("dropped"))
    entries = [{"given_name": "A"}, {"given_name": "B", "idempotency_key": "mine-b"}, {"given_name": "C"}]
    result = await square.dispatcher().call("bulk_create_customers", {"customers": entries})
    text = result.content[0].text
    bodies = [json.loads(r.content)["customers"] for r in sent]
    assert result.is_error and text.startswith("NETWORK_ERROR") and "The outcome is unknown" in text
    assert len(sent) == FAST.max_attempts and all(body == bodies[0] for body in bodies)
    keys = list(bodies[0])
    assert len(keys) == 3 and keys[1] == "mine-b"
    assert [body["given_name"] for body in bodies[0].values()] == ["A", "B", "C"]
    assert ", ".join(repr(key) for key in keys) in text


@pytest.mark.parametrize("name", ["bulk_update_customers", "bulk_delete_customers", "create_customer_card"])
async def test_posts_without_idempotency_keys_are_never_retried(name: str, script: Script) -> None:
    args = {
        "bulk_update_customers": {"customers": [{"customer_id": "C1", "note": "x"}]},
        "bulk_delete_customers": {"customer_ids": ["C1"]},
        "create_customer_card": {"customer_id": "C1", "card_nonce": "cnon:card-nonce-ok"},
    }[name]
    square, sent = script(unavailable())
    result = await square.dispatcher().call(name, args)
    assert result.is_error and len(sent) == 1


async def test_other_4xx_are_never_retried(script: Script) -> None:
    body = {"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "NOT_FOUND", "detail": "no"}]}
    square, sent = script(httpx.Response(404, json=body))
    result = await square.dispatcher().call("retrieve_customer", {"customer_id": "C1"})
    assert result.is_error and len(sent) == 1


async def test_attempts_are_bounded_and_the_last_error_is_reported(script: Script) -> None:
    square, sent = script(unavailable())
    result = await square.dispatcher().call("retrieve_customer", {"customer_id": "C1"})
    assert result.is_error and len(sent) == FAST.max_attempts
    assert result.content[0].text.startswith("SERVICE_UNAVAILABLE")


async def test_retry_after_is_honoured(script: Script) -> None:
    square, sent = script(unavailable(429, **{"Retry-After": "0.3"}), httpx.Response(200, json=CUSTOMER))
    started = time.monotonic()
    result = await square.dispatcher().call("retrieve_customer", {"customer_id": "C1"})
    assert not result.is_error and len(sent) == 2
    assert time.monotonic() - started >= 0.3


async def test_retry_after_past_the_deadline_gives_up_at_once(script: Script) -> None:
    policy = RetryPolicy(max_attempts=5, deadline_seconds=1, base_delay=0.001)
    square, sent = script(unavailable(429, **{"Retry-After": "60"}))
    started = time.monotonic()
    result = await square.dispatcher(retry=policy).call("retrieve_customer", {"customer_id": "C1"})
    assert result.is_error and len(sent) == 1
    assert time.monotonic() - started < 0.5


async def test_total_deadline_bounds_the_retries(script: Script) -> None:
    policy = RetryPolicy(max_attempts=100, deadline_seconds=0.3, base_delay=0.05, max_delay=0.05)
    square, sent = script(httpx.ConnectError("refused"))
    started = time.monotonic()
    result = await square.dispatcher(retry=policy).call("retrieve_customer", {"customer_id": "C1"})
    elapsed = time.monotonic() - started
    assert result.is_error and result.content[0].text.startswith("NETWORK_ERROR")
    assert 0.25 <= elapsed < 1.0
    assert 2 < len(sent) < 100


async def test_conflict_after_a_lost_answer_says_the_write_may_have_landed(script: Script) -> None:
    conflict = {"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "CONFLICT", "field": "version"}]}
    square, _ = script(httpx.ReadTimeout("lost"), httpx.Response(409, json=conflict))
    result = await square.dispatcher().call("update_customer", {"customer_id": "C1", "note": "n", "version": 1})
    text = result.content[0].text
    assert result.is_error and text.startswith("CONFLICT (version)")
    assert "may already have been applied" in text and "retrieve the customer" in text


@pytest.mark.parametrize("name", ["delete_customer", "delete_customer_card"])
async def test_not_found_after_a_lost_delete_answer_does_not_send_the_model_hunting(name: str, script: Script) -> None:
    args = {"customer_id": "C1", "card_id": "ccof:1"} if name == "delete_customer_card" else {"customer_id": "C1"}
    missing = {"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "NOT_FOUND", "detail": "not found."}]}
    square, sent = script(httpx.RemoteProtocolError("answer lost"), httpx.Response(404, json=missing))
    result = await square.dispatcher().call(name, args)
    text = result.content[0].text
    assert result.is_error and len(sent) == 2
    assert text.startswith("NOT_FOUND") and "may already have been applied" in text
    assert "search_customers" not in text


async def test_a_first_attempt_not_found_keeps_the_usual_hint(script: Script) -> None:
    missing = {"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "NOT_FOUND", "detail": "not found."}]}
    square, _ = script(httpx.Response(404, json=missing))
    result = await square.dispatcher().call("delete_customer", {"customer_id": "C1"})
    assert "may already be deleted (search_customers finds customers)" in result.content[0].text
    assert "may already have been applied" not in result.content[0].text


async def test_a_failed_version_read_after_a_membership_change_is_no_error(script: Script) -> None:
    # The PUT is applied; the GET for the new version keeps failing: say so, never "failed" or a retried PUT.
    square, sent = script(httpx.Response(200, json={}), unavailable())
    result = await square.dispatcher().call("add_group_to_customer", {"customer_id": "C1", "group_id": "G1"})
    assert not result.is_error and result.structured_content is not None
    assert result.structured_content["member"] is True and "version" not in result.structured_content
    assert "retrieve it before a versioned update" in result.structured_content["note"]
    assert [r.method for r in sent] == ["PUT", "GET"], "one read: the change is done, retrying only delays it"


async def test_an_undecodable_or_absurdly_nested_answer_is_a_tool_error(script: Script) -> None:
    gzip_lie = httpx.Response(200, stream=httpx.ByteStream(b"not gzip"), headers={"Content-Encoding": "gzip"})
    square, _ = script(gzip_lie)
    result = await square.dispatcher().call("retrieve_customer", {"customer_id": "C1"})
    assert result.is_error and "could not be read" in result.content[0].text
    nested = httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000)
    square, _ = script(nested)
    result = await square.dispatcher().call("retrieve_customer", {"customer_id": "C1"})
    assert result.is_error and result.content[0].text.startswith("UNEXPECTED_RESPONSE")


async def test_no_attempt_outlives_the_deadline_by_a_whole_timeout(fake_square: MakeFakeSquare) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        timeout = request.extensions["timeout"]["read"]
        await anyio.sleep(timeout)
        raise httpx.ReadTimeout("slow", request=request)

    settings = Settings(access_token="tok", environment="sandbox", timeout_seconds=30)
    policy = RetryPolicy(max_attempts=10, deadline_seconds=1.5, base_delay=0.001, max_delay=0.001)
    started = time.monotonic()
    dispatcher = fake_square(slow, settings=settings, retry=policy).dispatcher()
    result = await dispatcher.call("retrieve_customer", {"customer_id": "C1"})
    assert result.is_error and result.content[0].text.startswith("TIMEOUT")
    assert time.monotonic() - started < 4


@pytest.mark.parametrize(
    ("header", "expected"),
    [("2", 2.0), ("0", 0.0), ("-5", 0.0), ("soon", None), (None, None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_parsing(header: str | None, expected: float | None) -> None:
    assert retry_after_seconds(header) == expected


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=4)
    for attempt in (1, 2, 3, 4, 5):
        draws = [policy.backoff(attempt) for _ in range(200)]
        assert all(0 <= d <= min(4, 2 ** (attempt - 1)) for d in draws)
        assert max(draws) > min(4, 2 ** (attempt - 1)) / 2  # jitter spreads over the whole range


def test_retry_settings_come_from_the_environment() -> None:
    settings = Settings.from_env({"SQUARE_MAX_ATTEMPTS": "2", "SQUARE_RETRY_DEADLINE_SECONDS": "7"})
    assert (settings.retry_policy.max_attempts, settings.retry_policy.deadline_seconds) == (2, 7)
