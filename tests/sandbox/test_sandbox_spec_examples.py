"""Every request example of Square's spec is accepted, with example ids mapped to customers that exist.

Each response is also checked against its response schema by the `client` fixture. The examples and schemas
come from tests/data/square_spec_facts.json (made by tests/data/make_spec_facts.py from
../shared/square-customers-openapi.json).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sandbox_support import make_customer
from spec_facts import schema_example, schemas, validate_schema

pytestmark = pytest.mark.anyio

OK_NONCE = "cnon:card-nonce-ok"


def example(name: str) -> dict[str, Any]:
    body: dict[str, Any] = schema_example(name)
    return body


async def customer_at_version(client: httpx.AsyncClient, version: int) -> str:
    customer = await make_customer(client, given_name="Example")
    for step in range(version):
        response = await client.put(f"/v2/customers/{customer['id']}", json={"note": f"step {step}"})
        assert response.status_code == 200
    return str(customer["id"])


def remap(body: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """The example with its placeholder customer ids replaced by real ones."""
    text = json.dumps(body)
    for placeholder, real in ids.items():
        text = text.replace(placeholder, real)
    remapped: dict[str, Any] = json.loads(text)
    return remapped


async def test_create_customer_example(client: httpx.AsyncClient) -> None:
    response = await client.post("/v2/customers", json=example("CreateCustomerRequest"))
    assert response.status_code == 200, response.text
    assert response.json()["customer"]["email_address"] == "Amelia.Earhart@example.com"


async def test_bulk_create_example(client: httpx.AsyncClient) -> None:
    body = example("BulkCreateCustomersRequest")
    response = await client.post("/v2/customers/bulk-create", json=body)
    assert response.status_code == 200
    assert all("customer" in entry for entry in response.json()["responses"].values())
    assert set(response.json()["responses"]) == set(body["customers"])


@pytest.mark.parametrize("name", ["BulkRetrieveCustomersRequest", "BulkDeleteCustomersRequest"])
async def test_bulk_retrieve_and_delete_examples(client: httpx.AsyncClient, name: str) -> None:
    body = example(name)
    ids = {placeholder: await customer_at_version(client, 0) for placeholder in body["customer_ids"]}
    path = "/v2/customers/bulk-retrieve" if "Retrieve" in name else "/v2/customers/bulk-delete"
    response = await client.post(path, json=remap(body, ids))
    assert response.status_code == 200
    assert all("errors" not in entry for entry in response.json()["responses"].values())


async def test_bulk_update_example(client: httpx.AsyncClient) -> None:
    body = example("BulkUpdateCustomersRequest")
    ids = {key: await customer_at_version(client, entry["version"]) for key, entry in body["customers"].items()}
    response = await client.post("/v2/customers/bulk-update", json=remap(body, ids))
    assert response.status_code == 200
    assert all("customer" in entry for entry in response.json()["responses"].values()), response.text


async def test_update_customer_example(client: httpx.AsyncClient) -> None:
    body = example("UpdateCustomerRequest")
    customer_id = await customer_at_version(client, body["version"])
    response = await client.put(f"/v2/customers/{customer_id}", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["customer"]["note"] == body["note"]


async def test_search_customers_example(client: httpx.AsyncClient) -> None:
    body = example("SearchCustomersRequest")
    response = await client.post("/v2/customers/search", json=body)
    assert response.status_code == 200  # its group id does not exist here: Square answers `{}` then
    assert response.json() == {}
    group_id = body["query"]["filter"]["group_ids"]["all"][0]
    local = remap(body, {group_id: "SANDBOXGROUPVIP00000000001"})
    local["query"]["filter"]["created_at"] = {"start_at": "2000-01-01T00:00:00-00:00"}
    customer = await make_customer(client, given_name="Amelia", email_address="amelia@example.com")
    await client.put(f"/v2/customers/{customer['id']}/groups/SANDBOXGROUPVIP00000000001")
    found = (await client.post("/v2/customers/search", json=local)).json()
    assert [c["id"] for c in found["customers"]] == [customer["id"]]


async def test_create_customer_card_example(client: httpx.AsyncClient) -> None:
    body = example("CreateCustomerCardRequest")
    customer_id = await customer_at_version(client, 0)
    response = await client.post(f"/v2/customers/{customer_id}/cards", json={**body, "card_nonce": OK_NONCE})
    assert response.status_code == 200, response.text
    assert response.json()["card"]["cardholder_name"] == body["cardholder_name"]


async def test_response_examples_are_valid_against_their_own_schemas() -> None:
    """Guards the strict validator itself: Square's response examples must pass it."""
    for name, schema in schemas().items():
        if name.endswith("Response") and "example" in schema:
            validate_schema(schema["example"], name)
