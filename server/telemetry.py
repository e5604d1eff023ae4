"""Traces: the spans this server adds to the mcp SDK's, and the opt-in export set-up.

The request path uses only opentelemetry-api (installed with mcp): with no SDK configured every span is the API's
no-op, so tracing costs next to nothing unless someone asked for it. `configure_tracing` installs the SDK's
TracerProvider with an OTLP/HTTP exporter when the standard OTEL_* variables ask for export (the `otel` extra).

What spans may hold: tool names (a fixed set), path templates, HTTP methods and status codes, Square error codes,
attempt counts and durations. Never argument values, customer ids, emails, names, query strings or tokens: a trace
backend is read by more people than the customer data is.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, StatusCode

from square_customers_mcp import __version__

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger("square_customers_mcp")

SERVICE_NAME = "square-customers-mcp"
_tracer = trace.get_tracer("square_customers_mcp", __version__)  # a proxy: follows a provider set later

# Attribute names: OpenTelemetry semantic conventions where one fits, `square_mcp.*` for the rest.
TOOL_NAME = "gen_ai.tool.name"  # as the SDK's own tools/call span names it
OUTCOME = "square_mcp.outcome"  # "ok" | "error"
ERROR_CODE = "square_mcp.error_code"  # Square's first error code (NOT_FOUND), or ours (INVALID_ARGUMENTS, TIMEOUT)
ATTEMPTS = "square_mcp.attempts"
DURATION_MS = "square_mcp.duration_ms"
METHOD = "http.request.method"
URL_TEMPLATE = "url.template"
STATUS = "http.response.status_code"
SERVER_ADDRESS = "server.address"
ERROR_TYPE = "error.type"

# An error code worth recording looks like Square's: upper-case words. Anything else (an upstream that is not
# Square could send any text as a code) is recorded as OTHER rather than copied into traces.
_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,63}")


def error_code(code: str) -> str:
    return code if _CODE.fullmatch(code) else "OTHER"


def _off() -> bool:
    """No TracerProvider installed: every span would be the API's no-op, so ours are skipped altogether (a no-op
    span still costs ~15 µs of context switching; this check well under one)."""
    return isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


@contextmanager
def tool_span(tool: str | None) -> Iterator[Span]:
    """The span of one tool call. `tool`: None for a name that is not a served tool (the client chose that text).

    The caller sets OUTCOME (and ERROR_CODE, ATTEMPTS as they become known); an exception escaping the call is a
    bug and is recorded by type only: its message may quote arguments."""
    if _off():
        yield trace.INVALID_SPAN
        return
    name = tool or "unknown"
    start = time.perf_counter()
    with _tracer.start_as_current_span(
        f"call_tool {name}",
        kind=SpanKind.INTERNAL,
        attributes={TOOL_NAME: name},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as error:
            span.set_attributes({OUTCOME: "error", ERROR_TYPE: type(error).__qualname__})
            span.set_status(StatusCode.ERROR, type(error).__qualname__)
            raise
        finally:
            span.set_attribute(DURATION_MS, round((time.perf_counter() - start) * 1000, 3))


def tool_outcome(span: Span, error: str | None) -> None:
    """Record how a tool call ended: `error` is its error code, None on success."""
    if error is None:
        span.set_attribute(OUTCOME, "ok")
        return
    code = error_code(error)
    span.set_attributes({OUTCOME: "error", ERROR_CODE: code})
    span.set_status(StatusCode.ERROR, code)  # the code, never the message: it can quote customer data


@contextmanager
def request_span(method: str, template: str | None, base_url: str) -> Iterator[Span]:
    """The span of one Square request, all its attempts included (each retry is an event on it).

    `template` is the path template (/v2/customers/{customer_id}): the concrete path holds customer ids."""
    if _off():
        yield trace.INVALID_SPAN
        return
    attributes: dict[str, Any] = {METHOD: method, SERVER_ADDRESS: urlsplit(base_url).hostname or ""}
    if template:
        attributes[URL_TEMPLATE] = template
    start = time.perf_counter()
    with _tracer.start_as_current_span(
        f"{method} {template}" if template else method,
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,  # httpx messages can carry the URL, and with it customer ids
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as error:
            span.set_attribute(ERROR_TYPE, type(error).__qualname__)
            span.set_status(StatusCode.ERROR, type(error).__qualname__)
            raise
        finally:
            span.set_attribute(DURATION_MS, round((time.perf_counter() - start) * 1000, 3))


def request_answered(span: Span, status: int, attempts: int) -> None:
    span.set_attributes({STATUS: status, ATTEMPTS: attempts})
    if status >= 400:  # a client span's error, as OpenTelemetry's HTTP conventions define it
        span.set_attributes({ERROR_TYPE: str(status)})
        span.set_status(StatusCode.ERROR, f"HTTP {status}")


# --- export set-up ---------------------------------------------------------------------------------------------

_INSTALL = "pip install 'square-customers-mcp[otel]'"


def _export_asked(env: Mapping[str, str]) -> str | None:
    """The exporter the OTEL_* variables ask for ("otlp", "console"), "none", or None when they ask nothing."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return "none"
    chosen = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if chosen:
        return chosen.split(",")[0].strip()
    if env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return "otlp"
    return None


def configure_tracing() -> TracerProvider | None:
    """Install `tracer_provider()` as the global one, unless export was not asked for or a provider is already
    installed (e.g. by opentelemetry-instrument, whose set-up then wins); return what was installed."""
    if _export_asked(os.environ) in (None, "none"):
        return None
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        log.info("tracing: a TracerProvider is already installed; using it")
        return None
    provider = tracer_provider()
    if provider is not None:
        trace.set_tracer_provider(provider)
    return provider


def tracer_provider() -> TracerProvider | None:
    """The SDK TracerProvider the OTEL_* variables ask for, exporting in batches; None if they ask for none.

    Honoured: OTEL_TRACES_EXPORTER (otlp, console, none), OTEL_EXPORTER_OTLP[_TRACES]_{ENDPOINT,HEADERS,TIMEOUT,
    PROTOCOL}, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED, and the OTEL_BSP_* batch settings
    (read by the SDK itself). Problems are one log line each, never a failed start: traces are optional."""
    env = os.environ
    exporter_name = _export_asked(env)
    if exporter_name in (None, "none"):
        return None
    if exporter_name not in ("otlp", "console"):
        log.warning("tracing: OTEL_TRACES_EXPORTER=%s is not supported (otlp or console); not exporting", exporter_name)
        return None
    protocol = (env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "").strip()
    if exporter_name == "otlp" and protocol not in ("", "http/protobuf"):
        log.warning(
            "tracing: OTEL_EXPORTER_OTLP_PROTOCOL=%s is not supported, only http/protobuf (usually port 4318); "
            "not exporting",
            protocol,
        )
        return None
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

        exporter: SpanExporter
        if exporter_name == "console":
            exporter = ConsoleSpanExporter(out=sys.stderr)  # stdout carries the MCP protocol on stdio
        else:
            # The `otel` extra; absent from the dev install, hence no types to check against there.
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found,unused-ignore]
                OTLPSpanExporter,
            )

            exporter = OTLPSpanExporter()  # reads the OTEL_EXPORTER_OTLP_* variables itself
    except ImportError:
        log.warning(
            "tracing: OTEL_* variables ask for trace export, but the OpenTelemetry SDK or exporter is not installed: %s",
            _INSTALL,
        )
        return None
    resource = Resource.create()  # OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, which win over ours
    ours = {} if "service.version" in resource.attributes else {"service.version": __version__}
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):  # the SDK's "none given"
        ours["service.name"] = SERVICE_NAME
    resource = resource.merge(Resource(ours))
    provider = TracerProvider(resource=resource)  # flushes at exit (the SDK registers its own atexit shutdown)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    log.info(
        "tracing: exporting spans as %s (service.name %s)",
        "OTLP/HTTP" if exporter_name == "otlp" else "text on stderr",
        resource.attributes.get("service.name"),
    )
    return provider
