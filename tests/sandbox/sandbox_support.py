"""Helpers for the sandbox tests: a client that checks every response against Square's spec, small request helpers.

The spec is read as facts from tests/data/square_spec_facts.json (tests/spec_facts.py; made by
tests/data/make_spec_facts.py from ../shared/square-customers-openapi.json)."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from spec_facts import check_error_categories, response_schema, validate_schema

BASE_URL = "http://sandbox"
AUTH = {"Authorization": "Bearer sandbox-test-token"}
# Codes the local API files under another category than Square's spec does: code -> its category. None now.
CATEGORY_DEVIATIONS: dict[str, str] = {}


async def check_response(response: httpx.Response) -> None:
    """The body must match the spec's response schema for its operation (strictly), errors included, and each
    error must carry the category Square gives its code."""
    await response.aread()
    name = response_schema(response.request.method, response.request.url.path)
    if name is not None:
        body = response.json()
        validate_schema(body, name)
        check_error_categories(body, CATEGORY_DEVIATIONS)


def make_client(app: Any) -> httpx.AsyncClient:
    """A client for `app` whose every response is validated against the spec's response schema."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE_URL,
        headers=AUTH,
        event_hooks={"response": [check_response]},
    )


async def make_customer(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = fields or {"given_name": "Amelia", "family_name": "Earhart"}
    response = await client.post("/v2/customers", json=body)
    assert response.status_code == 200, response.text
    customer: dict[str, Any] = response.json()["customer"]
    return customer


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The single error of an error response."""
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    error: dict[str, Any] = errors[0]
    return error


REPO = Path(__file__).parents[2]
_LAUNCHER = (
    "import json, sys, uvicorn\n"
    "from square_customers_mcp.sandbox import create_app\n"
    "app = create_app(sys.argv[1], oauth_apps=json.loads(sys.argv[3]))\n"
    "uvicorn.run(app, host='127.0.0.1', port=int(sys.argv[2]), log_level='warning')\n"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def live_sandbox(
    db_path: str, oauth_apps: list[dict[str, Any]] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The sandbox as a real uvicorn process on 127.0.0.1: (process, base URL). Killed on exit. `oauth_apps`:
    the OAuth applications it knows (passed as JSON: test secrets only)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", _LAUNCHER, db_path, str(port), json.dumps(oauth_apps or [])],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"sandbox exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                if httpx.get(f"{base_url}/v2/customers", headers=AUTH, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("sandbox did not start within 20 s")
            time.sleep(0.05)
        yield process, base_url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()
