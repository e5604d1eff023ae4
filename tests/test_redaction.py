"""SQUARE_REDACT_PII: masked values can't be searched around, and no text the model sees unmasks them.

The oracle attack (issue 11): fuzzy search runs on the real values, so a model that sees +1******0199
can ask "does the phone contain 14?", "...141?", and rebuild every digit. In redact mode fuzzy email and
phone filters are refused before any request, with a text that does not depend on the guess; an exact
filter still works, and an exact match confirming an exact guess is inherent to search (and costs one
call per whole guess, not one per character).
"""

from __future__ import annotations

import re
import string
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fakes import SANDBOX, MakeFakeSquare, json_response
from mcp import Client
from mcp.shared.exceptions import MCPError

from square_customers_mcp.app import build_server
from square_customers_mcp.backend import Backend, open_backend
from square_customers_mcp.config import Settings
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.tools.redact import fuzzy_pii_filters, mask_text, redact_pii

pytestmark = pytest.mark.anyio

PHONE, PHONE_DIGITS = "+1 415 555 0199", "14155550199"
EMAIL, EMAIL_TOKENS = "zora.quill@example.org", ("zora", "quill", "example", "org")
SETTINGS = SANDBOX  # fast retries
# What must never reach the model in redact mode: the values, and any 5+ character piece of them.
LEAKS = re.compile(r"zora|quill|14155|415 ?555|555 ?0199|55501")


def assert_no_pii(text: str) -> None:
    assert not LEAKS.search(text), text


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    async with open_backend(Settings.from_env({"SQUARE_SANDBOX_DB": ":memory:"})) as opened:
        yield opened


async def seed_target(backend: Backend) -> str:
    made = await Dispatcher(backend.client).call(
        "create_customer", {"given_name": "Zora", "phone_number": PHONE, "email_address": EMAIL}
    )
    assert made.structured_content is not None, made.content
    customer_id: str = made.structured_content["customer"]["id"]
    return customer_id


class Attacker:
    """The scripted model of the issue: grows a guess one character at a time while fuzzy search says the
    target's value contains it. Records every answer text, to show what the answers could tell apart."""

    def __init__(self, dispatcher: Dispatcher, target: str) -> None:
        self.dispatcher, self.target, self.answers, self.calls = dispatcher, target, set[str](), 0

    async def contains(self, field: str, piece: str) -> bool:
        self.calls += 1
        result = await self.dispatcher.call("search_customers", {"filter": {field: {"fuzzy": piece}}, "limit": 100})
        text = result.content[0].text if result.content else ""
        self.answers.add(text)
        found = result.structured_content["customers"] if result.structured_content else []
        return any(customer["id"] == self.target for customer in found)

    async def grow(self, field: str, alphabet: str, limit: int = 16) -> str:
        """The longest piece found by adding one character at a time to the right, then to the left."""
        known = ""
        for side in ("right", "left"):
            while known or side == "right":
                if len(known) >= limit:
                    return known
                for char in alphabet:
                    guess = known + char if side == "right" else char + known
                    if await self.contains(field, guess):
                        known = guess
                        break
                else:
                    break
            if not known:
                return known
        return known


@pytest.mark.parametrize("redact", [False, True])
async def test_the_fuzzy_oracle_attack_learns_nothing_in_redact_mode(
    redact: bool, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = await seed_target(backend)
    sent: list[str] = []
    request = backend.client.request

    async def counting(method: str, path: str, **options: Any) -> Any:
        sent.append(path)
        return await request(method, path, **options)

    monkeypatch.setattr(backend.client, "request", counting)
    attacker = Attacker(Dispatcher(backend.client, redact_pii=redact), target)
    phone = await attacker.grow("phone_number", string.digits)
    email = await attacker.grow("email_address", string.ascii_lowercase + string.digits)
    if not redact:  # the attack is real: without the mask's guard it reads the values back
        assert phone == PHONE_DIGITS and email in EMAIL_TOKENS
        return
    assert (phone, email) == ("", "")
    assert sent == [], "a fuzzy email/phone filter reached the API"
    # One answer for every guess, right or wrong: the refusal carries no bit about the hidden value.
    assert len(attacker.answers) == 2 and attacker.calls == 10 + 36
    for answer in attacker.answers:
        assert "is refused because SQUARE_REDACT_PII is on" in answer and '{"exact":' in answer
        assert_no_pii(answer)


async def test_the_refusal_names_each_fuzzy_filter_and_what_to_do(backend: Backend) -> None:
    result = await Dispatcher(backend.client, redact_pii=True).call(
        "search_customers",
        {"filter": {"email_address": {"fuzzy": "zo"}, "phone_number": {"fuzzy": "41"}, "reference_id": {"exact": "r"}}},
    )
    text = result.content[0].text
    assert result.is_error
    assert "$.filter.email_address.fuzzy, $.filter.phone_number.fuzzy is refused" in text
    assert "Search with the whole value instead" in text and "nothing was sent to Square" in text


async def test_only_an_exact_guess_confirms_and_then_only_masked(backend: Backend) -> None:
    """Exact search stays: finding a customer by the email you already hold is what search is for. It
    confirms a whole guess or nothing, so a wrong guess teaches nothing about any single character."""
    target = await seed_target(backend)
    dispatcher = Dispatcher(backend.client, redact_pii=True)

    async def exact(field: str, value: str) -> list[dict[str, Any]]:
        result = await dispatcher.call("search_customers", {"filter": {field: {"exact": value}}})
        assert not result.is_error, result.content
        assert result.structured_content is not None
        assert_no_pii(result.content[0].text)
        found: list[dict[str, Any]] = result.structured_content["customers"]
        return found

    for wrong in ("+14155550198", "+14155550190", "+24155550199"):
        assert await exact("phone_number", wrong) == []
    for wrong in ("zora.quil@example.org", "zora.quill@example.com", "zora@example.org"):
        assert await exact("email_address", wrong) == []
    hit = await exact("phone_number", "+14155550199")
    assert [c["id"] for c in hit] == [target] and hit[0]["phone_number"] == "+1******0199"
    hit = await exact("email_address", EMAIL)
    assert [c["id"] for c in hit] == [target] and hit[0]["email_address"] == "z***@example.org"


async def test_fuzzy_filters_on_unmasked_fields_still_run(backend: Backend) -> None:
    result = await Dispatcher(backend.client, redact_pii=True).call(
        "search_customers", {"filter": {"reference_id": {"fuzzy": "r"}}}
    )
    assert not result.is_error, result.content


def test_fuzzy_pii_filters_finds_only_fuzzy_email_and_phone() -> None:
    args = {
        "filter": {
            "email_address": {"fuzzy": "a"},
            "phone_number": {"exact": "+1"},
            "reference_id": {"fuzzy": "r"},
        }
    }
    assert fuzzy_pii_filters(args) == ["$.filter.email_address.fuzzy"]
    assert fuzzy_pii_filters({"filter": {"phone_number": {"fuzzy": "1"}}}) == ["$.filter.phone_number.fuzzy"]
    assert fuzzy_pii_filters({"email_address": "a@b.io"}) == []


# --- every text the model sees ---


async def test_square_errors_that_echo_a_value_are_masked(fake_square: MakeFakeSquare) -> None:
    detail = f"`{EMAIL}` is not a valid email address; `{PHONE}` is not a valid phone number."
    error = {"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "INVALID_EMAIL_ADDRESS", "detail": detail}]}
    square = fake_square(json_response(error, 400), settings=SETTINGS)
    result = await square.dispatcher(redact_pii=True).call("create_customer", {"email_address": "z@example.org"})
    text = result.content[0].text
    assert result.is_error and "INVALID_EMAIL_ADDRESS" in text and "z***@example.org" in text
    assert "+1******0199" in text
    assert_no_pii(text)


async def test_a_bad_phone_echoed_back_is_masked(backend: Backend) -> None:
    """The server's own check or the local API (whichever refuses it first) quotes the phone back."""
    result = await Dispatcher(backend.client, redact_pii=True).call(
        "create_customer", {"given_name": "Zora", "phone_number": "+1 415 5550"}
    )
    text = result.content[0].text
    assert result.is_error and "phone" in text and "+1***5550" in text
    assert "415 5550" not in text


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(httpx.Response(200, json=[{"email_address": EMAIL, "phone_number": PHONE}]), id="json-list"),
        pytest.param(
            httpx.Response(200, content=b'["zora.quill\\u0040example.org", "+1 415 555 0199"]'), id="json-escaped"
        ),
        pytest.param(httpx.Response(200, text=f"<html>{EMAIL} {PHONE}</html>"), id="not-json"),
        # The quote is cut at 200 characters; the cut lands inside the email, which must not slip out.
        pytest.param(httpx.Response(200, text="x" * 190 + f" {EMAIL}"), id="cut-in-the-middle"),
        pytest.param(httpx.Response(502, text="x" * 190 + f" {EMAIL}"), id="error-page"),
    ],
)
async def test_a_malformed_answer_is_quoted_masked(answer: httpx.Response, fake_square: MakeFakeSquare) -> None:
    square = fake_square(lambda request: answer, settings=SETTINGS)
    result = await square.dispatcher(redact_pii=True).call("retrieve_customer", {"customer_id": "C1"})
    text = result.content[0].text
    assert result.is_error
    assert_no_pii(text)


async def test_the_unmasked_quote_is_unchanged_without_redact_mode(fake_square: MakeFakeSquare) -> None:
    square = fake_square(json_response([{"email_address": EMAIL}]), settings=SETTINGS)
    result = await square.dispatcher().call("retrieve_customer", {"customer_id": "C1"})
    assert result.is_error and EMAIL in result.content[0].text


async def test_bulk_per_entry_errors_and_notes_are_masked(fake_square: MakeFakeSquare) -> None:
    bad = {"code": "INVALID_EMAIL_ADDRESS", "detail": f"`{EMAIL}` is not valid", "field": "email_address"}
    body = {
        "responses": {
            "C1": {"errors": [bad]},
            "C2": {"customer": {"id": "C2", "version": 3, "note": f"call {PHONE} or mail {EMAIL}"}},
        }
    }
    square = fake_square(json_response(body), settings=SETTINGS)
    result = await square.dispatcher(redact_pii=True).call(
        "bulk_update_customers", {"customers": [{"customer_id": "C1", "note": "a"}, {"customer_id": "C2", "note": "b"}]}
    )
    assert not result.is_error and result.structured_content is not None
    assert result.structured_content["errors"] == {
        "C1": "INVALID_EMAIL_ADDRESS (email_address): `z***@example.org` is not valid"
    }
    assert result.structured_content["customers"][0]["note"] == "call +1******0199 or mail z***@example.org"
    assert_no_pii(result.content[0].text)
    assert_no_pii(str(result.structured_content))


async def test_invalid_argument_errors_quote_masked(fake_square: MakeFakeSquare) -> None:
    square = fake_square(settings=SETTINGS)
    dispatcher = square.dispatcher(redact_pii=True)
    result = await dispatcher.call("update_customer", {"customer_id": "C1", "email_address": "zora.quill@example"})
    assert result.is_error and "$.email_address" in result.content[0].text
    assert_no_pii(result.content[0].text)
    checked = dispatcher.check("update_customer", {"customer_id": "C1", "email_address": "zora.quill@example"})
    assert checked is not None and "$.email_address" in checked.content[0].text
    assert_no_pii(checked.content[0].text)
    assert square.requests == []


async def test_progress_messages_are_masked(fake_square: MakeFakeSquare) -> None:
    """Today's messages carry only counts and HTTP statuses; the wrapper keeps any future one from
    carrying a value (e.g. a retry reason quoting Square's detail)."""
    heard: list[str | None] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        heard.append(message)

    masked = fake_square(settings=SETTINGS).dispatcher(redact_pii=True)._masked_progress(progress)
    assert masked is not None
    await masked(1, None, f"retrying {EMAIL} at {PHONE}")
    await masked(2, None, None)
    assert heard == ["retrying z***@example.org at +1******0199", None]


async def test_customer_resources_are_masked(backend: Backend) -> None:
    made = await Dispatcher(backend.client).call("create_customer", {"email_address": EMAIL, "phone_number": PHONE})
    assert made.structured_content is not None
    customer_id = made.structured_content["customer"]["id"]
    async with Client(build_server(Dispatcher(backend.client, redact_pii=True)), raise_exceptions=True) as client:
        listed = await client.list_resources()
        read = await client.read_resource(f"square://customers/{customer_id}")
    names = [resource.name for resource in listed.resources]
    assert "z***@example.org" in names  # a customer with no name is labelled by its (masked) email
    assert_no_pii(" ".join(names))
    text = getattr(read.contents[0], "text", "")
    assert customer_id in text and "z***@example.org" in text
    assert_no_pii(text)


async def test_a_resource_error_quoting_a_value_is_masked(fake_square: MakeFakeSquare) -> None:
    error = {"errors": [{"code": "NOT_FOUND", "detail": f"no customer with email {EMAIL}"}]}
    square = fake_square(json_response(error, 404), settings=SETTINGS)
    async with Client(build_server(square.dispatcher(redact_pii=True)), raise_exceptions=True) as client:
        with pytest.raises(MCPError, match="Resource not found") as raised:
            await client.read_resource("square://customers/C1")
    assert "z***@example.org" in str(raised.value)
    assert_no_pii(str(raised.value))


# --- the text mask itself ---


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call +1-212-555-4240.", "call +1******4240."),
        ("`bob@ex.com` is bad", "`b***@ex.com` is bad"),
        ("(212) 555-4240 or 2125554240", "2*****4240 or 2*****4240"),
        ("a***@example.com +1******4240", "a***@example.com +1******4240"),  # already masked: unchanged
        ("ids 99999999999999 4155550199, 12 +1 415 555 0199", "ids 99999999999999 4*****0199, 12 +1******0199"),
        # Not phones: dates, times, ids, UUIDs, base64 cursors, short numbers.
        ("born 1990-05-17, at 2026-01-31T09:00:00Z", "born 1990-05-17, at 2026-01-31T09:00:00Z"),
        ("key 12345678-1234-4abc-8def-123456789012", "key 12345678-1234-4abc-8def-123456789012"),
        ("id 8DDA5NZVBZFGAX0V3HPF81HHE0 cursor aGVsbG8+MTIzNDU2Nzg5MDEy", None),
        ("HTTP 503; retry 1/4 in 0.5s (attempt 3)", None),
    ],
)
def test_mask_text(text: str, masked: str | None) -> None:
    assert mask_text(text) == (text if masked is None else masked)


def test_redact_pii_keeps_ids_and_cursors() -> None:
    page = {
        "customers": [{"id": "1234567890", "version": 1, "group_ids": ["4155550199"], "reference_id": "x@y.io"}],
        "next_cursor": "+14155550199",
    }
    redacted = redact_pii(page)
    assert redacted["next_cursor"] == "+14155550199"
    assert redacted["customers"][0] == {**page["customers"][0], "reference_id": "x***@y.io"}


@pytest.mark.parametrize("run", ["x", "1-", "1 ", "(1", "a@"])
def test_mask_text_takes_linear_time(run: str) -> None:
    """One unbroken run (no spaces, or digits and separators) once took quadratic time: 40 KB, 15 s."""
    started = time.perf_counter()
    mask_text(run * 100_000)
    assert time.perf_counter() - started < 2


async def test_a_huge_malformed_answer_is_quoted_quickly(fake_square: MakeFakeSquare) -> None:
    square = fake_square(lambda request: httpx.Response(200, text="a@" * 4_000_000), settings=SETTINGS)
    started = time.perf_counter()
    result = await square.dispatcher(redact_pii=True).call("retrieve_customer", {"customer_id": "C1"})
    assert result.is_error and time.perf_counter() - started < 2


async def test_a_note_holding_a_mask_is_not_written_back(fake_square: MakeFakeSquare) -> None:
    """Notes are masked now, so a note read, edited and written back would replace the real phone in it."""
    square = fake_square(settings=SETTINGS)
    dispatcher = square.dispatcher(redact_pii=True)
    for note in ("call +1******0199 after 5", "mail z***@example.org"):
        result = await dispatcher.call("update_customer", {"customer_id": "C1", "note": note})
        assert result.is_error and "$.note holds a masked value" in result.content[0].text
    assert square.requests == []
    ok = await dispatcher.call("update_customer", {"customer_id": "C1", "note": "rated ***** by 1234 people"})
    assert not ok.is_error, ok.content
