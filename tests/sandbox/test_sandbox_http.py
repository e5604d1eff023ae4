"""The HTTP surface: bearer auth, Square-Version, malformed bodies, unknown routes, route precedence."""

from __future__ import annotations

import httpx
import pytest
from sandbox_support import AUTH, BASE_URL, error_of, make_customer

from square_customers_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic abc", "token abc"])
async def test_missing_or_malformed_authorization_is_401(client: httpx.AsyncClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    client.headers.pop("Authorization")
    response = await client.get("/v2/customers", headers=headers)
    assert response.status_code == 401
    error = error_of(response)
    assert (error["code"], error["category"]) == ("UNAUTHORIZED", "AUTHENTICATION_ERROR")


async def test_configured_token_must_match() -> None:
    app = create_app(":memory:", token="s3cret")
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
            wrong = await http.get("/v2/customers", headers={"Authorization": "Bearer other"})
            assert wrong.status_code == 401 and error_of(wrong)["code"] == "UNAUTHORIZED"
            right = await http.get("/v2/customers", headers={"Authorization": "Bearer s3cret"})
            assert right.status_code == 200
    finally:
        app.state.store.close()


async def test_any_token_accepted_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/customers", headers={"Authorization": "bearer EAAAl-anything"})
    assert response.status_code == 200


async def test_square_version_is_accepted_and_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/customers", headers={"Square-Version": "2026-09-16"})
    assert response.status_code == 200 and response.headers["Square-Version"] == "2026-09-16"
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("raw", "code"),
    [(b"{not json", "EXPECTED_JSON_BODY"), (b"[1, 2]", "EXPECTED_OBJECT"), (b"\xff\xfe", "EXPECTED_JSON_BODY")],
)
async def test_malformed_bodies(client: httpx.AsyncClient, raw: bytes, code: str) -> None:
    response = await client.post("/v2/customers", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and error_of(response)["code"] == code


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v2/payments")
    assert missing.status_code == 404 and error_of(missing)["code"] == "NOT_FOUND"
    wrong = await client.patch("/v2/customers")
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "METHOD_NOT_ALLOWED"


async def test_fixed_paths_win_over_customer_id(client: httpx.AsyncClient) -> None:
    await make_customer(client)
    assert "groups" in (await client.get("/v2/customers/groups")).json()
    assert "segments" in (await client.get("/v2/customers/segments")).json()
    search = await client.post("/v2/customers/search", json={})
    assert "customers" in search.json()


async def test_internal_errors_are_square_shaped() -> None:
    app = create_app(":memory:")
    app.state.store.close()  # every handler now fails inside the store
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=AUTH) as http:
        response = await http.get("/v2/customers")
    assert response.status_code == 500
    assert error_of(response)["code"] == "INTERNAL_SERVER_ERROR" and error_of(response)["category"] == "API_ERROR"
