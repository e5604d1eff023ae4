"""Fidelity to Square (issue 12): the Square-Version header, error categories from the spec, the Country enum,
unknown query parameters, and the generated facts module these rely on."""

from __future__ import annotations

import importlib.util
import re
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from sandbox_support import error_of, make_customer
from spec_facts import operations, schemas, spec_facts

from square_customers_mcp.config import DEFAULT_SQUARE_VERSION
from square_customers_mcp.sandbox import square_facts
from square_customers_mcp.sandbox.errors import SquareError
from square_customers_mcp.sandbox.routes import ROUTES
from square_customers_mcp.sandbox.versions import FIRST_VERSION, NEWEST_VERSION

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tests" / "data" / "make_sandbox_facts.py"
SANDBOX = REPO / "server" / "sandbox"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sandbox_facts", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _day_after(version: str) -> str:
    return (date.fromisoformat(version) + timedelta(days=1)).isoformat()


# --- The generated facts module ---


def test_facts_module_is_what_the_script_makes() -> None:
    """square_facts.py is exactly the script's output from the committed spec facts (rerun the script if not)."""
    assert (SANDBOX / "square_facts.py").read_text(encoding="utf-8") == _script().fresh_text(), (
        "server/sandbox/square_facts.py is stale: run python tests/data/make_sandbox_facts.py"
    )


def test_facts_module_holds_the_specs_facts() -> None:
    facts = spec_facts()
    assert facts["error_categories"] == square_facts.ERROR_CATEGORIES
    assert set(schemas()["Country"]["enum"]) == square_facts.COUNTRIES
    assert facts["square_version"] == square_facts.SPEC_SQUARE_VERSION
    documented = {
        _script().snake_case(op["operationId"]): tuple(
            p["name"] for p in op.get("parameters", []) if p["in"] == "query"
        )
        for _, _, op in operations()
    }
    assert documented == square_facts.QUERY_PARAMETERS


def test_every_route_serves_the_spec_operation_it_is_named_after() -> None:
    """The query check finds a route's parameters by its handler's name: each name must be the operation
    (method and path) the route serves, or the check would guard the wrong endpoint."""
    by_name = {_script().snake_case(op["operationId"]): (method, path) for method, path, op in operations()}
    for path, method, handler, *_ in ROUTES:
        assert by_name.get(handler.__name__) == (method, path), handler.__name__


# --- Square-Version ---


@pytest.mark.parametrize("value", ["banana", "2024-13-01", "2024-02-30", "20240101", "2024-1-5", " 2024-01-18x", ""])
async def test_malformed_square_version_is_400(client: httpx.AsyncClient, value: str) -> None:
    response = await client.get("/v2/customers", headers={"Square-Version": value})
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["category"]) == ("INVALID_SQUARE_VERSION_FORMAT", "INVALID_REQUEST_ERROR")
    assert "Square-Version" not in response.headers  # no version was used to answer


@pytest.mark.parametrize("value", ["2001-01-01", "2018-07-11", _day_after(NEWEST_VERSION), "2999-12-31"])
async def test_a_version_that_does_not_exist_is_400(client: httpx.AsyncClient, value: str) -> None:
    response = await client.get("/v2/customers", headers={"Square-Version": value})
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["category"]) == ("API_VERSION_INCOMPATIBLE", "INVALID_REQUEST_ERROR")
    assert value in error["detail"]


@pytest.mark.parametrize("value", [FIRST_VERSION, "2024-01-18", square_facts.SPEC_SQUARE_VERSION, NEWEST_VERSION])
async def test_known_versions_are_accepted_and_echoed(client: httpx.AsyncClient, value: str) -> None:
    response = await client.get("/v2/customers", headers={"Square-Version": value})
    assert response.status_code == 200 and response.headers["Square-Version"] == value


def test_the_newest_version_covers_the_server_default_and_the_spec() -> None:
    assert max(DEFAULT_SQUARE_VERSION, square_facts.SPEC_SQUARE_VERSION) == NEWEST_VERSION


async def test_a_refused_version_changes_nothing(client: httpx.AsyncClient) -> None:
    refused = await client.post("/v2/customers", json={"given_name": "Ada"}, headers={"Square-Version": "banana"})
    assert refused.status_code == 400
    assert (await client.get("/v2/customers")).json() == {}


async def test_every_answer_names_the_default_version_when_the_request_names_none(client: httpx.AsyncClient) -> None:
    customer = await make_customer(client)
    answers = [
        await client.get("/v2/customers"),
        await client.get(f"/v2/customers/{customer['id']}"),
        await client.post("/v2/customers/search", json={}),
        await client.get("/v2/customers/groups"),
        await client.get("/v2/customers/segments"),
        await client.delete(f"/v2/customers/{customer['id']}"),
        await client.get("/v2/customers/NOPE"),  # errors name it too
    ]
    for answer in answers:
        assert "Square-Version" not in answer.request.headers
        assert answer.headers["Square-Version"] == DEFAULT_SQUARE_VERSION, answer.request.url


# --- Error categories come from the spec ---


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("INVALID_CARD", "PAYMENT_METHOD_ERROR"),
        ("CARD_TOKEN_USED", "INVALID_REQUEST_ERROR"),
        ("UNAUTHORIZED", "AUTHENTICATION_ERROR"),
        ("INSUFFICIENT_SCOPES", "AUTHENTICATION_ERROR"),
        ("INTERNAL_SERVER_ERROR", "API_ERROR"),
        ("RATE_LIMITED", "RATE_LIMIT_ERROR"),
        ("NOT_FOUND", "INVALID_REQUEST_ERROR"),
    ],
)
def test_an_errors_category_is_the_one_the_spec_gives_its_code(code: str, category: str) -> None:
    assert spec_facts()["error_categories"][code] == category
    assert SquareError(code, "detail").to_json()["category"] == category


def test_a_stated_category_must_agree_with_the_spec() -> None:
    with pytest.raises(ValueError, match="PAYMENT_METHOD_ERROR"):
        SquareError("INVALID_CARD", "detail", category="INVALID_REQUEST_ERROR")
    assert SquareError("INVALID_CARD", "detail", category="PAYMENT_METHOD_ERROR").category == "PAYMENT_METHOD_ERROR"


def test_a_code_outside_the_spec_needs_its_category_stated() -> None:
    with pytest.raises(ValueError, match="not in the ErrorCode enum"):
        SquareError("NOT_A_SQUARE_CODE", "detail")


def test_every_code_the_local_api_raises_is_in_the_spec() -> None:
    codes = {
        code
        for source in SANDBOX.glob("*.py")
        if source.name != "square_facts.py"
        for code in re.findall(r'SquareError\(\s*"([A-Z0-9_]+)"', source.read_text(encoding="utf-8"))
    }
    assert codes and codes <= set(spec_facts()["error_categories"]), codes - set(spec_facts()["error_categories"])


@pytest.mark.parametrize(
    ("nonce", "code", "category"),
    [
        ("cnon:not-a-nonce", "INVALID_CARD", "PAYMENT_METHOD_ERROR"),
        ("cnon:card-nonce-already-used", "CARD_TOKEN_USED", "INVALID_REQUEST_ERROR"),
        ("cnon:card-nonce-declined", "CARD_DECLINED", "PAYMENT_METHOD_ERROR"),
    ],
)
async def test_card_errors_carry_the_specs_categories(
    client: httpx.AsyncClient, nonce: str, code: str, category: str
) -> None:
    customer = await make_customer(client)
    response = await client.post(f"/v2/customers/{customer['id']}/cards", json={"card_nonce": nonce})
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["category"], error["field"]) == (code, category, "card_nonce")


# --- The Country enum ---


@pytest.mark.parametrize("country", ["XX", "us", "USA", "U1"])
async def test_a_country_outside_the_enum_is_400_naming_the_field(client: httpx.AsyncClient, country: str) -> None:
    created = await client.post("/v2/customers", json={"given_name": "Ada", "address": {"country": country}})
    assert created.status_code == 400
    error = error_of(created)
    assert (error["code"], error["field"]) == ("INVALID_ENUM_VALUE", "address.country")
    customer = await make_customer(client)
    updated = await client.put(f"/v2/customers/{customer['id']}", json={"address": {"country": country}})
    assert updated.status_code == 400 and error_of(updated)["field"] == "address.country"


async def test_a_bad_country_in_a_bulk_entry_or_a_card_names_its_path(client: httpx.AsyncClient) -> None:
    bulk = await client.post(
        "/v2/customers/bulk-create", json={"customers": {"k1": {"given_name": "Ada", "address": {"country": "XX"}}}}
    )
    assert bulk.status_code == 200
    (error,) = bulk.json()["responses"]["k1"]["errors"]
    assert (error["code"], error["field"]) == ("INVALID_ENUM_VALUE", "customers.k1.address.country")
    customer = await make_customer(client)
    card = await client.post(
        f"/v2/customers/{customer['id']}/cards",
        json={"card_nonce": "cnon:card-nonce-ok", "billing_address": {"country": "XX"}},
    )
    assert card.status_code == 400 and error_of(card)["field"] == "billing_address.country"


@pytest.mark.parametrize("country", ["US", "AQ", "ZZ"])
async def test_every_enum_country_is_accepted(client: httpx.AsyncClient, country: str) -> None:
    customer = await make_customer(client, given_name="Ada", address={"country": country})
    assert customer["address"]["country"] == country


# --- Unknown query parameters ---


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/customers?foo=1"),
        ("GET", "/v2/customers?limit=10&foo=1"),
        ("GET", "/v2/customers/{id}?bar=2"),
        ("PUT", "/v2/customers/{id}?bar=2"),
        ("DELETE", "/v2/customers/{id}?bar=2"),
        ("POST", "/v2/customers/search?limit=1"),
        ("GET", "/v2/customers/groups?sort_order=ASC"),
        ("GET", "/v2/customers/segments?count=true"),
    ],
)
async def test_an_undocumented_query_parameter_is_400_naming_it(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    customer = await make_customer(client)
    body = {"note": "changed"} if method == "PUT" else ({} if method == "POST" else None)
    response = await client.request(method, path.replace("{id}", customer["id"]), json=body)
    assert response.status_code == 400, response.text
    error = error_of(response)
    name = path.rsplit("&", 1)[-1].split("?")[-1].split("=")[0]
    assert (error["code"], error["category"], error["field"]) == (
        "UNKNOWN_QUERY_PARAMETER",
        "INVALID_REQUEST_ERROR",
        name,
    )
    after = (await client.get(f"/v2/customers/{customer['id']}")).json()["customer"]
    assert after["version"] == customer["version"]  # nothing was changed or deleted


async def test_documented_query_parameters_pass(client: httpx.AsyncClient) -> None:
    customer = await make_customer(client)
    listed = await client.get(
        "/v2/customers", params={"limit": 1, "sort_field": "DEFAULT", "sort_order": "ASC", "count": "true"}
    )
    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert (await client.get("/v2/customers/groups", params={"limit": 5})).status_code == 200
    assert (await client.get("/v2/customers/segments", params={"limit": 5})).status_code == 200
    deleted = await client.delete(f"/v2/customers/{customer['id']}", params={"version": customer["version"]})
    assert deleted.status_code == 200 and deleted.json() == {}
