"""Helpers for the sandbox tests: the spec, strict schema validation, small request helpers."""

from __future__ import annotations

import contextlib
import copy
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator

SPEC_PATH = Path(__file__).parents[2].parent / "shared" / "square-customers-openapi.json"
BASE_URL = "http://sandbox"
AUTH = {"Authorization": "Bearer sandbox-test-token"}


@cache
def load_spec() -> dict[str, Any] | None:
    if not SPEC_PATH.exists():
        return None
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return spec


def require_spec() -> dict[str, Any]:
    spec = load_spec()
    if spec is None:
        pytest.skip(f"../shared/square-customers-openapi.json not found: expected at {SPEC_PATH}")
    return spec


def _strict(node: Any) -> Any:
    """The spec with `additionalProperties: false` on every object schema, so a stray field fails validation."""
    if isinstance(node, dict):
        out = {key: _strict(value) for key, value in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(item) for item in node]
    return node


@cache
def _strict_components() -> dict[str, Any]:
    spec = require_spec()
    components: dict[str, Any] = _strict(copy.deepcopy(spec["components"]))
    return components


def validate_schema(body: Any, schema_name: str) -> None:
    """Validate `body` against `#/components/schemas/<schema_name>` of the spec (strictly: no unknown fields)."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _strict_components()}
    OAS30Validator(schema).validate(body)


@cache
def _response_routes() -> list[tuple[str, re.Pattern[str], str]]:
    """(method, path regex, 200-response schema name) for each operation of the spec, fixed paths first."""
    spec = require_spec()
    routes: list[tuple[int, str, re.Pattern[str], str]] = []
    for template, operations in spec["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
        for method, operation in operations.items():
            ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            routes.append((template.count("{"), method.upper(), pattern, ref.rsplit("/", 1)[-1]))
    routes.sort(key=lambda route: route[0])
    return [(method, pattern, name) for _, method, pattern, name in routes]


def response_schema(method: str, path: str) -> str | None:
    if path.startswith("/v2/customers/groups"):
        return None  # the Customer Groups endpoints are outside the Customers spec
    for route_method, pattern, name in _response_routes():
        if route_method == method and pattern.match(path):
            return name
    return None


async def check_response(response: httpx.Response) -> None:
    await response.aread()
    if load_spec() is None:
        return
    name = response_schema(response.request.method, response.request.url.path)
    if name is not None:
        validate_schema(response.json(), name)


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
    "import sys, uvicorn\n"
    "from server.sandbox import create_app\n"
    "uvicorn.run(create_app(sys.argv[1]), host='127.0.0.1', port=int(sys.argv[2]), log_level='warning')\n"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def live_sandbox(db_path: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The sandbox as a real uvicorn process on 127.0.0.1: (process, base URL). Killed on exit."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", _LAUNCHER, db_path, str(port)],
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
