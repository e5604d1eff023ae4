"""The access token never leaks; personal data is masked when SQUARE_REDACT_PII is on."""

from __future__ import annotations

import base64
import json
import logging
import re
from typing import Any

import httpx
import pytest
from fakes import MakeFakeSquare, json_response

from square_customers_mcp.config import Settings
from square_customers_mcp.logs import SecretFilter, configure_logging
from square_customers_mcp.retry import RetryPolicy
from square_customers_mcp.tools import TOOLS
from square_customers_mcp.tools.redact import mask_email, mask_phone, redact_pii

FAKE_TOKEN = "EAAAl3akTestToken-0123456789-abcdef"
SQUARE = Settings(access_token="t", environment="sandbox")
VALID_ARGS: dict[str, dict[str, Any]] = {
    "list_customers": {"limit": 5},
    "create_customer": {"given_name": "Ada", "phone_number": "+1-212-555-4240"},
    "bulk_create_customers": {"customers": [{"email_address": "ada@example.com"}]},
    "bulk_delete_customers": {"customer_ids": ["C1"]},
    "bulk_retrieve_customers": {"customer_ids": ["C1"]},
    "bulk_update_customers": {"customers": [{"customer_id": "C1", "note": "n"}]},
    "search_customers": {"filter": {"email_address": {"exact": "ada@example.com"}}},
    "delete_customer": {"customer_id": "C1", "version": 1},
    "retrieve_customer": {"customer_id": "C1"},
    "update_customer": {"customer_id": "C1", "clear": ["note"]},
    "create_customer_card": {"customer_id": "C1", "card_nonce": "cnon:card-nonce-ok"},
    "delete_customer_card": {"customer_id": "C1", "card_id": "ccof:abc"},
    "remove_group_from_customer": {"customer_id": "C1", "group_id": "G1"},
    "add_group_to_customer": {"customer_id": "C1", "group_id": "G1"},
    "list_customer_groups": {"cursor": "next"},
    "list_customer_segments": {},
}
CUSTOMER = {"id": "C1", "version": 1, "email_address": "amelia@example.com", "phone_number": "+1-212-555-4240"}


@pytest.mark.anyio
async def test_every_tool_has_valid_sample_arguments(fake_square: MakeFakeSquare) -> None:
    assert set(VALID_ARGS) == {t.name for t in TOOLS}
    dispatcher = fake_square(settings=SQUARE).dispatcher()
    for name, args in VALID_ARGS.items():
        assert dispatcher.check(name, args) is None, name


def square_answers(request: httpx.Request) -> httpx.Response:
    """Square's answers, good and bad, each in the shape of its endpoint."""
    path = request.url.path
    if path.endswith("/cards"):
        return httpx.Response(401, json={"errors": [{"category": "AUTHENTICATION_ERROR", "code": "UNAUTHORIZED"}]})
    if "bulk" in path:
        return httpx.Response(503, text="<html>upstream unavailable</html>")
    if request.method == "GET" and path == "/v2/customers":
        return httpx.Response(200, json={"customers": [CUSTOMER]})
    if path == "/v2/customers/search":
        raise httpx.ConnectError("connection refused")
    if "/groups/" in path:
        return httpx.Response(404, json={"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "NOT_FOUND"}]})
    return httpx.Response(200, json={"customer": CUSTOMER})


@pytest.mark.anyio
@pytest.mark.parametrize("redact", [False, True])
async def test_token_appears_in_no_result_and_no_log(
    redact: bool, caplog: pytest.LogCaptureFixture, fake_square: MakeFakeSquare
) -> None:
    # No filter on caplog's handler: what is captured is what the server logged, before any scrubbing.
    caplog.set_level(logging.DEBUG)
    settings = Settings(access_token=FAKE_TOKEN, environment="sandbox")
    policy = RetryPolicy(max_attempts=2, base_delay=0.001)
    square = fake_square(square_answers, settings=settings, retry=policy)
    sent = square.requests
    dispatcher = square.dispatcher(redact_pii=redact)
    texts: list[str] = []
    for name, args in VALID_ARGS.items():
        for call_args in (args, {**args, "unexpected": 1}):
            result = await dispatcher.call(name, call_args)
            texts += [block.text for block in result.content]
            texts.append(repr(result))
    texts.append(repr(settings))
    await square.aclose()
    everything = "\n".join(texts) + caplog.text
    assert sent, "the calls reached the mock Square"
    assert all(r.headers["Authorization"] == f"Bearer {FAKE_TOKEN}" for r in sent)
    assert FAKE_TOKEN not in everything
    assert "Traceback" not in "\n".join(texts)


def test_secret_filter_scrubs_messages_arguments_and_tracebacks() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "token is %s", (FAKE_TOKEN,), None)
    try:
        raise RuntimeError(f"failed with {FAKE_TOKEN}")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert SecretFilter([FAKE_TOKEN]).filter(record)
    assert record.getMessage() == "token is ***"
    assert FAKE_TOKEN not in (record.exc_text or "")
    assert "RuntimeError" in (record.exc_text or "")


def test_configure_logging_installs_the_filter_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("INFO", [FAKE_TOKEN, None])
        logging.getLogger("square_customers_mcp").info("Authorization: Bearer %s", FAKE_TOKEN)
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Bearer ***" in captured.err and FAKE_TOKEN not in captured.err


@pytest.mark.parametrize(
    ("email", "masked"), [("amelia@example.com", "a***@example.com"), ("x@y.z", "x***@y.z"), ("nope", "***")]
)
def test_mask_email(email: str, masked: str) -> None:
    assert mask_email(email) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("+1-212-555-4240", "+1******4240"), ("(206) 222-3333", "2*****3333"), ("+12", "+**")],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.anyio
async def test_redact_pii_mode_masks_results_but_not_what_is_sent(fake_square: MakeFakeSquare) -> None:
    square = fake_square(json_response({"customers": [CUSTOMER], "cursor": "n"}), settings=SQUARE)
    sent = square.requests
    result = await square.dispatcher(redact_pii=True).call(
        "search_customers", {"filter": {"email_address": {"exact": "amelia@example.com"}}}
    )
    assert result.structured_content == {
        "customers": [{"id": "C1", "version": 1, "email_address": "a***@example.com", "phone_number": "+1******4240"}],
        "next_cursor": "n",
    }
    assert "amelia@example.com" not in result.content[0].text
    assert b"amelia@example.com" in sent[0].content


def test_redact_pii_walks_nested_results() -> None:
    bulk = {"customers": [{"id": "C", "version": 0, "email_address": "bo@x.io"}], "succeeded": 1, "failed": 0}
    assert redact_pii(bulk)["customers"][0]["email_address"] == "b***@x.io"


def test_settings_repr_hides_tokens() -> None:
    settings = Settings.from_env({"SQUARE_ACCESS_TOKEN": FAKE_TOKEN, "SQUARE_MCP_HTTP_TOKEN": "h-secret-1"})
    assert FAKE_TOKEN not in repr(settings) and "h-secret-1" not in repr(settings)


@pytest.mark.anyio
async def test_masked_values_are_never_written_back(fake_square: MakeFakeSquare) -> None:
    square = fake_square(json_response({"customer": CUSTOMER}), settings=SQUARE)
    sent = square.requests
    dispatcher = square.dispatcher(redact_pii=True)
    result = await dispatcher.call("update_customer", {"customer_id": "C1", "email_address": "a***@example.com"})
    assert result.is_error and "$.email_address holds a masked value" in result.content[0].text
    bulk = await dispatcher.call(
        "bulk_update_customers",
        {
            "customers": [
                {"customer_id": "C2", "note": "ok"},
                {"customer_id": "C1", "email_address": "a***@example.com"},
            ]
        },
    )
    assert bulk.is_error and "$.customers[1].email_address holds a masked value" in bulk.content[0].text
    created = await dispatcher.call("bulk_create_customers", {"customers": [{"email_address": "a***@example.com"}]})
    assert created.is_error and "$.customers[0].email_address" in created.content[0].text
    assert sent == []
    # Reads still take real values, and a write of a real value goes through.
    assert not (await dispatcher.call("update_customer", {"customer_id": "C1", "note": "ok"})).is_error


def test_short_secrets_do_not_garble_logs() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "a tiny token t appears", None, None)
    assert SecretFilter(["t"]).filter(record)
    assert record.getMessage() == "a tiny token t appears"


def json_escaped(text: str, *, upper: bool = False, every: int = 1) -> str:
    """`text` with every `every`-th character written as a JSON \\uXXXX escape (the rest literal)."""
    return "".join(
        (f"\\u{ord(c):04X}" if upper else f"\\u{ord(c):04x}") if i % every == 0 else c for i, c in enumerate(text)
    )


def percent_encoded(text: str) -> str:
    return "".join(f"%{ord(c):02X}" for c in text)


ECHOES = {
    "escaped": json_escaped(FAKE_TOKEN),
    "escaped, upper-case hex": json_escaped(FAKE_TOKEN, upper=True),
    "partly escaped": json_escaped(FAKE_TOKEN, every=3),
    "percent-encoded": percent_encoded(FAKE_TOKEN),
}


def test_the_leak_scan_sees_escaped_and_percent_encoded_tokens() -> None:
    from leak_scan import leaked_canaries

    for echo in ECHOES.values():
        assert leaked_canaries(f"note: {echo}.") == [FAKE_TOKEN], echo
    assert leaked_canaries(percent_encoded(FAKE_TOKEN).lower()) == [FAKE_TOKEN]
    assert leaked_canaries("EAAAl3akTestToken-0123456789-abcde") == []


@pytest.mark.anyio
@pytest.mark.parametrize("spelling", ECHOES)
async def test_a_token_echoed_in_any_escaping_reaches_no_result(spelling: str, fake_square: MakeFakeSquare) -> None:
    from leak_scan import leaked_canaries

    echo = ECHOES[spelling]

    def echoing_upstream(request: httpx.Request) -> httpx.Response:
        # Raw JSON text, so the escapes reach the client as a misbehaving proxy would send them.
        path = request.url.path
        if path.endswith("/C1"):
            body = '{"customer":{"id":"C1","version":1,"note":"seen: %s","%s":1}}' % (echo, echo)  # noqa: UP031
            return httpx.Response(200, content=body.encode(), headers={"Content-Type": "application/json"})
        if path.endswith("/C2"):  # JSON, but not Square's error shape: quoted from the raw text
            return httpx.Response(502, content=f'["{echo}"]'.encode(), headers={"Content-Type": "application/json"})
        if path.endswith("/C3"):
            return httpx.Response(502, content=f"<html>bad gateway {echo}</html>".encode())
        body = '{"errors":[{"code":"UNAUTHORIZED","category":"AUTHENTICATION_ERROR","detail":"bad token %s"}]}' % echo  # noqa: UP031
        return httpx.Response(401, content=body.encode(), headers={"Content-Type": "application/json"})

    settings = Settings(access_token=FAKE_TOKEN, environment="sandbox", retry_policy=RetryPolicy(max_attempts=1))
    dispatcher = fake_square(echoing_upstream, settings=settings).dispatcher()
    results = [await dispatcher.call("retrieve_customer", {"customer_id": c}) for c in ("C1", "C2", "C3", "C9")]
    assert [r.is_error for r in results] == [False, True, True, True]
    assert results[0].structured_content == {"customer": {"id": "C1", "version": 1, "note": "seen: ***"}}
    assert "UNAUTHORIZED" in results[3].content[0].text and "bad token ***" in results[3].content[0].text
    for result in results:
        seen = result.content[0].text + json.dumps(result.structured_content) + repr(result)
        assert leaked_canaries(seen) == [], seen


def test_the_client_scrubs_every_decoded_string_and_key() -> None:
    from square_customers_mcp.logs import Scrubber

    # What JSON decoding can still bring: a percent-encoded token inside a value, a token as a key.
    parsed = {"a": [{"note": percent_encoded(FAKE_TOKEN)}, FAKE_TOKEN], FAKE_TOKEN: {"x": [[FAKE_TOKEN]]}}
    assert Scrubber([FAKE_TOKEN]).decoded(parsed) == {"a": [{"note": "***"}, "***"], "***": {"x": [["***"]]}}
    nested: list[Any] = [FAKE_TOKEN]
    for _ in range(100_000):  # deeper than the recursion limit: the walk must not recurse
        nested = [nested]
    Scrubber([FAKE_TOKEN]).decoded(nested)


def test_a_base_url_with_credentials_is_refused_without_echoing_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from square_customers_mcp.cli import main

    monkeypatch.setenv("SQUARE_ACCESS_TOKEN", FAKE_TOKEN)
    for url in ("https://ops:pa55-w0rd-9@square.example.test", "http://ops:pa55-w0rd-9@127.0.0.1:8765"):
        monkeypatch.setenv("SQUARE_BASE_URL", url)
        assert main(["serve"]) == 2
        captured = capsys.readouterr()
        assert "must not carry a user name or password" in captured.err
        assert "pa55-w0rd-9" not in captured.out + captured.err and "ops" not in captured.err


# Encoded echoes: an upstream that base64s or hexes what it was sent, or changes its case.


def _b64_echoes(secret: bytes) -> dict[str, str]:
    echoes = {}
    for lead in (b"", b"x", b"xy", b"Bearer ", b"\x00Bearer ", b"\x00\x00Bearer "):
        for tail in (b"", b"q", b"qq"):
            name = f"{lead!r}+token+{tail!r}"
            echoes[f"base64 {name}"] = base64.b64encode(lead + secret + tail).decode()
            echoes[f"url-safe base64 {name}"] = base64.urlsafe_b64encode(lead + secret + tail).decode().rstrip("=")
    return echoes


ENCODED_ECHOES = {
    **_b64_echoes(FAKE_TOKEN.encode()),
    "hex": FAKE_TOKEN.encode().hex(),
    "upper-case hex": FAKE_TOKEN.encode().hex().upper(),
    "upper case": FAKE_TOKEN.upper(),
    "swapped case": FAKE_TOKEN.swapcase(),
}


def decodes_to_token(text: str, secret: str = FAKE_TOKEN, piece: int = 12) -> bool:
    """Whether `piece` consecutive bytes of `secret` can be read back from `text`: in any letter case, or by
    decoding a base64 (either alphabet, any offset) or hex run. Written apart from the Scrubber, to check it."""
    windows = [secret.encode()[i : i + piece] for i in range(len(secret) - piece + 1)]
    lowered = text.lower().encode()
    decoded = [lowered]
    for run in re.findall(r"[A-Za-z0-9+/_-]{8,}", text):
        standard = run.replace("-", "+").replace("_", "/")
        for start in range(4):
            part = standard[start:]
            part = part[: len(part) - len(part) % 4]
            decoded.append(base64.b64decode(part, validate=False))
    for run in re.findall(r"[0-9a-fA-F]{8,}", text):
        for start in range(2):
            part = run[start:]
            decoded.append(bytes.fromhex(part[: len(part) - len(part) % 2]))
    return any(w.lower() in d.lower() for w in windows for d in decoded)


def test_the_encoded_leak_check_sees_every_echo() -> None:
    for name, echo in ENCODED_ECHOES.items():
        assert decodes_to_token(f"note: {echo}."), name
    assert not decodes_to_token(base64.b64encode(FAKE_TOKEN.encode()[:11]).decode())


@pytest.mark.parametrize("spelling", ENCODED_ECHOES)
def test_the_scrubber_removes_encoded_and_recased_tokens(spelling: str) -> None:
    from square_customers_mcp.logs import Scrubber

    scrubber = Scrubber([FAKE_TOKEN], min_length=12)
    echo = ENCODED_ECHOES[spelling]
    text = f"bad token {echo}; again:{echo}"
    assert not decodes_to_token(scrubber.text(text)), scrubber.text(text)
    assert not decodes_to_token(scrubber.raw(text.encode()).decode())
    assert scrubber.text(text).count("***") == 2
    escaped = text.replace("/", "\\/")  # JSON may escape the slash of standard base64
    assert not decodes_to_token(scrubber.raw(escaped.encode()).decode().replace("\\/", "/"))


def test_the_scrubber_leaves_text_without_a_token_alone() -> None:
    from square_customers_mcp.logs import Scrubber

    scrubber = Scrubber([FAKE_TOKEN], min_length=12)
    near = base64.b64encode(FAKE_TOKEN.encode()[:-2]).decode()[:-4]  # too short to be the token's
    for text in ("a customer note", near, FAKE_TOKEN[:-1], FAKE_TOKEN.encode().hex()[:-2], "%41\\u0042"):
        assert scrubber.text(text) == text and scrubber.raw(text.encode()) == text.encode()


@pytest.mark.anyio
@pytest.mark.parametrize(
    "spelling", ["base64 b''+token+b''", "url-safe base64 b'Bearer '+token+b'q'", "hex", "upper case"]
)
async def test_a_token_echoed_encoded_reaches_no_result(spelling: str, fake_square: MakeFakeSquare) -> None:
    echo = ENCODED_ECHOES[spelling]

    def echoing_upstream(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/C1"):
            body = {"customer": {"id": "C1", "version": 1, "note": f"seen: {echo}", echo: 1}}
            return httpx.Response(200, json=body)
        if request.url.path.endswith("/C3"):
            return httpx.Response(502, content=f"<html>Your header was: {echo}</html>".encode())
        detail = f"bad token {echo}"
        errors = [{"code": "UNAUTHORIZED", "category": "AUTHENTICATION_ERROR", "detail": detail}]
        return httpx.Response(401, json={"errors": errors})

    settings = Settings(access_token=FAKE_TOKEN, environment="sandbox", retry_policy=RetryPolicy(max_attempts=1))
    dispatcher = fake_square(echoing_upstream, settings=settings).dispatcher()
    results = [await dispatcher.call("retrieve_customer", {"customer_id": c}) for c in ("C1", "C3", "C9")]
    assert [r.is_error for r in results] == [False, True, True]
    for result in results:
        seen = result.content[0].text + json.dumps(result.structured_content) + repr(result)
        assert "***" in seen and not decodes_to_token(seen), seen
