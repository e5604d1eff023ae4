"""Traces: a tool call's span joins the mcp SDK's tools/call span, each Square request's span joins the tool's,
their attributes say what happened and nothing about whom; and the OTEL_* set-up."""

from __future__ import annotations

import logging
import sys
import types
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fakes import MakeFakeSquare, scripted, settings
from mcp import Client
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, StatusCode
from opentelemetry.util.types import Attributes

from square_customers_mcp import telemetry
from square_customers_mcp.app import build_server
from square_customers_mcp.backend import open_backend
from square_customers_mcp.config import Settings
from square_customers_mcp.dispatcher import Dispatcher
from square_customers_mcp.retry import RetryPolicy

pytestmark = pytest.mark.anyio
FAST = RetryPolicy(max_attempts=4, deadline_seconds=5, base_delay=0.0, max_delay=0.0)
OTLP_MODULE = "opentelemetry.exporter.otlp.proto.http.trace_exporter"

# Distinctive values that must never reach a span, in any of its names, attributes, events or statuses.
TOKEN = "EAAAcanaryTraceToken-9c1e7b0d4f"
NAME = "Zyxwvcanaryname"
FAMILY = "Qqcanaryfamily"
EMAIL = "canary.zyx@example.org"
PHONE = "+12125550199"
NOTE = "canary-note-7e51"
QUERY = "canaryfuzzyq"


class _Switch(Sampler):
    """Samples only while a test captures: the provider is process-wide and cannot be removed, so every other
    test's spans are dropped before anything records them."""

    on = False

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        return SamplingResult(Decision.RECORD_AND_SAMPLE if self.on else Decision.DROP, attributes)

    def get_description(self) -> str:
        return "on while a test captures spans"


_SWITCH = _Switch()
_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The global TracerProvider can be set once per process: the first test to ask installs one for the
    session, with an in-memory exporter that each test finds empty."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider(sampler=_SWITCH)
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    assert provider.sampler is _SWITCH, "another TracerProvider was installed first"
    _EXPORTER.clear()
    _SWITCH.on = True
    yield _EXPORTER
    _SWITCH.on = False
    _EXPORTER.clear()


def named(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    found = [span for span in exporter.get_finished_spans() if span.name == name]
    assert len(found) == 1, (name, [span.name for span in exporter.get_finished_spans()])
    return found[0]


def parent_of(child: ReadableSpan, parent: ReadableSpan) -> bool:
    assert child.parent is not None and parent.context is not None and child.context is not None
    return child.parent.span_id == parent.context.span_id and child.context.trace_id == parent.context.trace_id


def ours(span: ReadableSpan) -> dict[str, Any]:
    """Attributes without the duration, which varies (but is checked to be there)."""
    attributes = dict(span.attributes or {})
    assert isinstance(attributes.pop(telemetry.DURATION_MS), float)
    return attributes


@asynccontextmanager
async def connected(mode: str = "auto", **env: str) -> AsyncIterator[Client]:
    """An in-memory MCP client of a server on the embedded local API."""
    settings = Settings.from_env({"SQUARE_SANDBOX_DB": ":memory:", **env})
    async with (
        open_backend(settings) as backend,
        Client(build_server(Dispatcher(backend.client)), mode=mode, raise_exceptions=True) as client,
    ):
        yield client


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_tool_span_is_the_sdk_spans_child_and_the_square_request_span_its_own(
    spans: InMemorySpanExporter, mode: str
) -> None:
    async with connected(mode) as client:
        created = await client.call_tool("create_customer", {"given_name": "Ada"})
    assert not created.is_error
    sdk = named(spans, "tools/call create_customer")
    tool = named(spans, "call_tool create_customer")
    square = named(spans, "POST /v2/customers")
    assert parent_of(tool, sdk) and parent_of(square, tool)
    assert ours(tool) == {"gen_ai.tool.name": "create_customer", "square_mcp.outcome": "ok", "square_mcp.attempts": 1}
    assert tool.status.status_code == StatusCode.UNSET and tool.kind == SpanKind.INTERNAL
    assert ours(square) == {
        "http.request.method": "POST",
        "url.template": "/v2/customers",
        "server.address": "sandbox.local",
        "http.response.status_code": 200,
        "square_mcp.attempts": 1,
    }
    assert square.kind == SpanKind.CLIENT


async def test_a_failing_call_is_an_error_with_squares_code(spans: InMemorySpanExporter) -> None:
    async with connected() as client:
        missing = await client.call_tool("retrieve_customer", {"customer_id": "NOSUCHCUSTOMER1"})
    assert missing.is_error
    tool = named(spans, "call_tool retrieve_customer")
    square = named(spans, "GET /v2/customers/{customer_id}")
    assert parent_of(square, tool) and parent_of(tool, named(spans, "tools/call retrieve_customer"))
    assert ours(tool)["square_mcp.outcome"] == "error"
    assert ours(tool)["square_mcp.error_code"] == "NOT_FOUND"
    assert tool.status.status_code == StatusCode.ERROR and tool.status.description == "NOT_FOUND"
    assert ours(square)["http.response.status_code"] == 404 and ours(square)["error.type"] == "404"
    assert square.status.status_code == StatusCode.ERROR


async def test_arguments_refused_before_any_request_make_no_square_span(spans: InMemorySpanExporter) -> None:
    async with open_backend(Settings.from_env({"SQUARE_SANDBOX_DB": ":memory:"})) as backend:
        dispatcher = Dispatcher(backend.client)
        invalid = await dispatcher.call("create_customer", {"given_name": 7})
        unknown = await dispatcher.call(f"{NAME}_tool", {})
    assert invalid.is_error and unknown.is_error
    assert [span.name for span in spans.get_finished_spans()] == ["call_tool create_customer", "call_tool unknown"]
    refused, stranger = spans.get_finished_spans()
    assert ours(refused) == {
        "gen_ai.tool.name": "create_customer",
        "square_mcp.outcome": "error",
        "square_mcp.error_code": "INVALID_ARGUMENTS",
    }
    assert ours(stranger)["square_mcp.error_code"] == "UNKNOWN_TOOL"  # and the client's text is not recorded
    assert ours(stranger)["gen_ai.tool.name"] == "unknown"


async def test_retries_are_counted_and_each_is_an_event(
    spans: InMemorySpanExporter, fake_square: MakeFakeSquare
) -> None:
    busy = httpx.Response(503, json={"errors": [{"category": "API_ERROR", "code": "SERVICE_UNAVAILABLE"}]})
    answers = scripted(busy, httpx.ConnectError("refused"), httpx.Response(200, json={"customer": {"id": "C1"}}))
    square = fake_square(answers, settings=settings(), retry=FAST)
    result = await square.dispatcher().call("retrieve_customer", {"customer_id": "C1"})
    assert not result.is_error
    tool, request = named(spans, "call_tool retrieve_customer"), named(spans, "GET /v2/customers/{customer_id}")
    assert ours(tool)["square_mcp.attempts"] == 3 and ours(request)["square_mcp.attempts"] == 3
    assert ours(request)["server.address"] == "connect.squareupsandbox.com"
    assert [(event.name, dict(event.attributes or {})["reason"]) for event in request.events] == [
        ("retry", "HTTP 503"),
        ("retry", "ConnectError"),
    ]


async def test_a_request_that_never_gets_an_answer_is_an_error_of_its_type(
    spans: InMemorySpanExporter, fake_square: MakeFakeSquare
) -> None:
    square = fake_square(scripted(httpx.ConnectError(f"refused for {EMAIL}")), settings=settings(), retry=FAST)
    result = await square.dispatcher().call("retrieve_customer", {"customer_id": "C1"})
    assert result.is_error
    tool, request = named(spans, "call_tool retrieve_customer"), named(spans, "GET /v2/customers/{customer_id}")
    assert ours(request) == {
        "http.request.method": "GET",
        "url.template": "/v2/customers/{customer_id}",
        "server.address": "connect.squareupsandbox.com",
        "square_mcp.attempts": 4,
        "error.type": "ConnectError",
    }
    assert request.status.status_code == StatusCode.ERROR and not any(e.name == "exception" for e in request.events)
    assert ours(tool)["square_mcp.error_code"] == "NETWORK_ERROR" and ours(tool)["square_mcp.attempts"] == 4
    assert EMAIL not in request.to_json()  # the exception's message stays out


async def test_no_argument_customer_data_or_token_in_any_span(spans: InMemorySpanExporter) -> None:
    person = {"given_name": NAME, "family_name": FAMILY, "email_address": EMAIL, "phone_number": PHONE, "note": NOTE}
    async with connected(SQUARE_ACCESS_TOKEN=TOKEN, SQUARE_ENVIRONMENT="local") as client:
        created = await client.call_tool("create_customer", person)
        assert created.structured_content is not None
        customer_id = created.structured_content["customer"]["id"]
        calls: list[tuple[str, dict[str, Any]]] = [
            ("retrieve_customer", {"customer_id": customer_id}),
            ("update_customer", {"customer_id": customer_id, "note": NOTE + "2", "version": 0}),
            ("search_customers", {"filter": {"email_address": {"fuzzy": QUERY}}}),
            ("list_customers", {"cursor": QUERY}),  # a query string value, refused by Square
            ("retrieve_customer", {"customer_id": NAME}),  # a failing call quoting the value
            ("create_customer", {"email_address": EMAIL + "x@"}),  # invalid, quoted in the error
        ]
        for name, args in calls:
            await client.call_tool(name, args)
    recorded = spans.get_finished_spans()
    assert {span.name for span in recorded} >= {"call_tool update_customer", "PUT /v2/customers/{customer_id}"}
    dumped = "\n".join(span.to_json() for span in recorded)
    for canary in (TOKEN, NAME, FAMILY, EMAIL, PHONE, NOTE, QUERY, customer_id):
        assert canary not in dumped and quote(canary, safe="") not in dumped, canary


# --- set-up from OTEL_* ---------------------------------------------------------------------------------------


@pytest.fixture
def otel_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "OTEL_SDK_DISABLED",
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def built(monkeypatch: pytest.MonkeyPatch, **env: str) -> TracerProvider | None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    provider = telemetry.tracer_provider()
    if provider is not None:
        provider.shutdown()  # its batch thread and atexit hook, in a test
    return provider


def test_no_otel_variables_no_provider(otel_env: pytest.MonkeyPatch) -> None:
    assert built(otel_env) is None
    assert built(otel_env, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318", OTEL_SDK_DISABLED="true") is None
    assert built(otel_env, OTEL_TRACES_EXPORTER="none") is None


def test_an_otlp_endpoint_exports_over_otlp_http_as_this_service(otel_env: pytest.MonkeyPatch) -> None:
    exported: list[InMemorySpanExporter] = []

    class OTLPSpanExporter(InMemorySpanExporter):  # stands in for the `otel` extra's exporter
        def __init__(self) -> None:
            super().__init__()
            exported.append(self)

    otel_env.setitem(sys.modules, OTLP_MODULE, types.SimpleNamespace(OTLPSpanExporter=OTLPSpanExporter))
    provider = built(otel_env, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318")
    assert provider is not None and len(exported) == 1
    assert provider.resource.attributes["service.name"] == "square-customers-mcp"
    assert provider.resource.attributes["service.version"]
    named_otherwise = built(otel_env, OTEL_SERVICE_NAME="crm-tools")
    assert named_otherwise is not None and named_otherwise.resource.attributes["service.name"] == "crm-tools"


def test_console_export_goes_to_stderr_never_stdout(
    otel_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    otel_env.setenv("OTEL_TRACES_EXPORTER", "console")
    provider = telemetry.tracer_provider()
    assert provider is not None
    with provider.get_tracer("t").start_as_current_span("console-check"):
        pass
    provider.shutdown()
    out, err = capsys.readouterr()
    assert out == "" and "console-check" in err


def test_export_asked_without_the_extra_is_one_line_naming_it(
    otel_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    otel_env.setitem(sys.modules, OTLP_MODULE, None)  # what an install without the `otel` extra imports
    with caplog.at_level(logging.WARNING, logger="square_customers_mcp"):
        assert built(otel_env, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://127.0.0.1:4318/v1/traces") is None
    assert [r.getMessage() for r in caplog.records if "tracing" in r.getMessage()] == [
        "tracing: OTEL_* variables ask for trace export, but the OpenTelemetry SDK or exporter is not installed: "
        "pip install 'square-customers-mcp[otel]'"
    ]


def test_unsupported_protocol_or_exporter_is_a_line_not_a_crash(
    otel_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="square_customers_mcp"):
        assert built(otel_env, OTEL_EXPORTER_OTLP_ENDPOINT="http://h:4317", OTEL_EXPORTER_OTLP_PROTOCOL="grpc") is None
        assert built(otel_env, OTEL_TRACES_EXPORTER="zipkin") is None
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "only http/protobuf" in said and "OTEL_TRACES_EXPORTER=zipkin is not supported" in said


def test_an_installed_provider_is_kept(otel_env: pytest.MonkeyPatch, spans: InMemorySpanExporter) -> None:
    before = trace.get_tracer_provider()
    otel_env.setenv("OTEL_TRACES_EXPORTER", "console")
    assert telemetry.configure_tracing() is None
    assert trace.get_tracer_provider() is before
