"""Customer groups (CRUD and membership) and cards on file with Square's sandbox nonces."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from sandbox_support import error_of, make_customer
from spec_facts import response_schema

from square_customers_mcp.sandbox.seed import NEWSLETTER_GROUP_ID, SEEDED_GROUPS, VIP_GROUP_ID, WHOLESALE_GROUP_ID

pytestmark = pytest.mark.anyio


def test_group_responses_are_checked_against_the_spec() -> None:
    assert response_schema("GET", "/v2/customers/groups") == "ListCustomerGroupsResponse"
    assert response_schema("POST", "/v2/customers/groups") == "CreateCustomerGroupResponse"
    assert response_schema("PUT", f"/v2/customers/groups/{VIP_GROUP_ID}") == "UpdateCustomerGroupResponse"
    assert response_schema("PUT", f"/v2/customers/C1/groups/{VIP_GROUP_ID}") == "AddGroupToCustomerResponse"


async def test_seeded_groups_are_listed_with_fixed_ids(client: httpx.AsyncClient) -> None:
    groups = (await client.get("/v2/customers/groups")).json()["groups"]
    assert {(g["id"], g["name"]) for g in groups} == set(SEEDED_GROUPS)
    assert {VIP_GROUP_ID, NEWSLETTER_GROUP_ID, WHOLESALE_GROUP_ID} == {g["id"] for g in groups}
    assert all(set(g) == {"id", "name", "created_at", "updated_at"} for g in groups)


async def test_group_crud_and_paging(client: httpx.AsyncClient) -> None:
    made = await client.post("/v2/customers/groups", json={"group": {"name": "Regulars"}, "idempotency_key": "g1"})
    assert made.status_code == 200
    group = made.json()["group"]
    assert re.fullmatch(r"[0-9A-Z]{26}", group["id"]) and group["name"] == "Regulars"
    again = await client.post("/v2/customers/groups", json={"group": {"name": "Regulars"}, "idempotency_key": "g1"})
    assert again.json() == made.json()
    assert (await client.get(f"/v2/customers/groups/{group['id']}")).json() == {"group": group}
    renamed = await client.put(f"/v2/customers/groups/{group['id']}", json={"group": {"name": "Locals"}})
    assert renamed.json()["group"]["name"] == "Locals"
    seen: list[str] = []
    params: dict[str, object] = {"limit": 2}
    while True:
        page = (await client.get("/v2/customers/groups", params=params)).json()
        seen += [g["id"] for g in page["groups"]]
        if "cursor" not in page:
            break
        params["cursor"] = page["cursor"]
    assert len(seen) == 4 and group["id"] in seen
    assert (await client.delete(f"/v2/customers/groups/{group['id']}")).json() == {}
    missing = await client.get(f"/v2/customers/groups/{group['id']}")
    assert missing.status_code == 404 and error_of(missing)["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "MISSING_REQUIRED_PARAMETER", "group"),
        ({"group": {}}, "MISSING_REQUIRED_PARAMETER", "group.name"),
        ({"group": {"name": "x" * 256}}, "VALUE_TOO_LONG", "group.name"),
        ({"group": {"name": "x", "color": "red"}}, "UNKNOWN_BODY_PARAMETER", "group.color"),
    ],
)
async def test_group_create_errors(client: httpx.AsyncClient, body: dict[str, object], code: str, field: str) -> None:
    response = await client.post("/v2/customers/groups", json=body)
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["field"]) == (code, field)


async def test_group_limit_errors(client: httpx.AsyncClient) -> None:
    assert error_of(await client.get("/v2/customers/groups", params={"limit": 51}))["code"] == "VALUE_TOO_HIGH"
    assert error_of(await client.get("/v2/customers/groups", params={"limit": 0}))["code"] == "VALUE_TOO_LOW"
    for method in ("PUT", "DELETE"):
        response = await client.request(method, "/v2/customers/groups/NOPE", json={"group": {"name": "x"}})
        assert response.status_code == 404


async def test_membership_add_remove_bumps_version(client: httpx.AsyncClient) -> None:
    customer = await make_customer(client)
    path = f"/v2/customers/{customer['id']}/groups/{VIP_GROUP_ID}"
    assert (await client.put(path)).json() == {}
    after_add = (await client.get(f"/v2/customers/{customer['id']}")).json()["customer"]
    assert after_add["group_ids"] == [VIP_GROUP_ID] and after_add["version"] == 1
    assert (await client.put(path)).json() == {}  # already a member: no change, no bump
    assert (await client.get(f"/v2/customers/{customer['id']}")).json()["customer"]["version"] == 1
    assert (await client.delete(path)).json() == {}
    after_remove = (await client.get(f"/v2/customers/{customer['id']}")).json()["customer"]
    assert "group_ids" not in after_remove and after_remove["version"] == 2


async def test_deleting_a_group_removes_memberships(client: httpx.AsyncClient) -> None:
    customer = await make_customer(client)
    await client.put(f"/v2/customers/{customer['id']}/groups/{WHOLESALE_GROUP_ID}")
    await client.delete(f"/v2/customers/groups/{WHOLESALE_GROUP_ID}")
    after = (await client.get(f"/v2/customers/{customer['id']}")).json()["customer"]
    assert "group_ids" not in after and after["version"] == 2


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_membership_unknown_customer_or_group(client: httpx.AsyncClient, method: str) -> None:
    customer = await make_customer(client)
    no_customer = await client.request(method, f"/v2/customers/NOPE/groups/{VIP_GROUP_ID}")
    assert no_customer.status_code == 404 and error_of(no_customer)["detail"] == "Customer with ID `NOPE` not found."
    no_group = await client.request(method, f"/v2/customers/{customer['id']}/groups/NOPE")
    assert no_group.status_code == 404 and error_of(no_group)["code"] == "NOT_FOUND"


async def test_create_and_delete_card(client: httpx.AsyncClient) -> None:
    customer = await make_customer(client)
    billing = {"address_line_1": "500 Electric Ave", "postal_code": "10003", "country": "US"}
    response = await client.post(
        f"/v2/customers/{customer['id']}/cards",
        json={"card_nonce": "cnon:card-nonce-ok", "cardholder_name": "Amelia Earhart", "billing_address": billing},
    )
    assert response.status_code == 200, response.text
    card = response.json()["card"]
    assert card["id"].startswith("ccof:") and card["card_brand"] == "VISA" and card["last_4"] == "1111"
    assert card["exp_month"] == 11 and card["exp_year"] > datetime.now(UTC).year
    assert card["cardholder_name"] == "Amelia Earhart" and card["billing_address"] == billing
    assert card["customer_id"] == customer["id"] and card["enabled"] is True
    assert "cards" not in (await client.get(f"/v2/customers/{customer['id']}")).json()["customer"]
    assert (await client.delete(f"/v2/customers/{customer['id']}/cards/{card['id']}")).json() == {}
    gone = await client.delete(f"/v2/customers/{customer['id']}/cards/{card['id']}")
    assert gone.status_code == 404 and error_of(gone)["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("nonce", "code"),
    [
        ("cnon:card-nonce-declined", "CARD_DECLINED"),
        ("cnon:card-nonce-rejected-cvv", "VERIFY_CVV_FAILURE"),
        ("cnon:card-nonce-rejected-postalcode", "VERIFY_AVS_FAILURE"),
        ("cnon:card-nonce-rejected-expiration", "INVALID_EXPIRATION"),
        ("cnon:card-nonce-already-used", "CARD_TOKEN_USED"),
        ("YOUR_CARD_NONCE", "INVALID_CARD"),
    ],
)
async def test_failing_nonces(client: httpx.AsyncClient, nonce: str, code: str) -> None:
    customer = await make_customer(client)
    response = await client.post(f"/v2/customers/{customer['id']}/cards", json={"card_nonce": nonce})
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["field"]) == (code, "card_nonce")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "MISSING_REQUIRED_PARAMETER", "card_nonce"),
        ({"card_nonce": "cnon:card-nonce-ok", "cvv": "111"}, "UNKNOWN_BODY_PARAMETER", "cvv"),
        ({"card_nonce": "cnon:card-nonce-ok", "cardholder_name": "x" * 97}, "VALUE_TOO_LONG", "cardholder_name"),
    ],
)
async def test_card_request_errors(client: httpx.AsyncClient, body: dict[str, object], code: str, field: str) -> None:
    customer = await make_customer(client)
    response = await client.post(f"/v2/customers/{customer['id']}/cards", json=body)
    assert (error_of(response)["code"], error_of(response)["field"]) == (code, field)


async def test_cards_of_unknown_customer_and_deleted_customer(client: httpx.AsyncClient) -> None:
    missing = await client.post("/v2/customers/NOPE/cards", json={"card_nonce": "cnon:card-nonce-ok"})
    assert missing.status_code == 404
    customer = await make_customer(client)
    card = (
        await client.post(f"/v2/customers/{customer['id']}/cards", json={"card_nonce": "cnon:card-nonce-ok"})
    ).json()["card"]
    await client.delete(f"/v2/customers/{customer['id']}")
    gone = await client.delete(f"/v2/customers/{customer['id']}/cards/{card['id']}")
    assert gone.status_code == 404


@pytest.mark.anyio
async def test_the_same_nonce_gives_the_same_card_while_it_is_on_file(client: httpx.AsyncClient) -> None:
    """Square: calls to CreateCustomerCard are idempotent; the same nonce returns the first call's card."""
    customer = await make_customer(client, given_name="Nonce")
    path = f"/v2/customers/{customer['id']}/cards"
    first = (await client.post(path, json={"card_nonce": "cnon:card-nonce-ok"})).json()["card"]
    again = (await client.post(path, json={"card_nonce": "cnon:card-nonce-ok"})).json()["card"]
    assert again["id"] == first["id"]
    other = await make_customer(client, given_name="Other")
    elsewhere = await client.post(f"/v2/customers/{other['id']}/cards", json={"card_nonce": "cnon:card-nonce-ok"})
    assert elsewhere.json()["card"]["id"] != first["id"]
    await client.delete(f"{path}/{first['id']}")
    fresh = (await client.post(path, json={"card_nonce": "cnon:card-nonce-ok"})).json()["card"]
    assert fresh["id"] != first["id"]
