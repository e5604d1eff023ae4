"""Create, retrieve, update and delete one customer: Square's semantics and every documented error."""

from __future__ import annotations

import re

import httpx
import pytest
from sandbox_support import error_of, make_customer

pytestmark = pytest.mark.anyio

FULL = {
    "given_name": "Amelia",
    "family_name": "Earhart",
    "nickname": "Meli",
    "company_name": "Electric Avenue Bikes",
    "email_address": "Amelia.Earhart@example.com",
    "phone_number": "+1-212-555-4240",
    "reference_id": "YOUR_REFERENCE_ID",
    "note": "a customer",
    "birthday": "1897-07-24",
    "address": {
        "address_line_1": "500 Electric Ave",
        "address_line_2": "Suite 600",
        "administrative_district_level_1": "NY",
        "country": "US",
        "locality": "New York",
        "postal_code": "10003",
    },
    "tax_ids": {"eu_vat": "IE3426675K"},
}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


async def test_create_returns_square_shaped_customer(client: httpx.AsyncClient) -> None:
    customer = await make_customer(client, **FULL)
    assert re.fullmatch(r"[0-9A-Z]{26}", customer["id"])
    assert TIMESTAMP.match(customer["created_at"]) and customer["updated_at"] == customer["created_at"]
    assert customer["creation_source"] == "THIRD_PARTY"
    assert customer["preferences"] == {"email_unsubscribed": False}
    assert customer["version"] == 0
    for key, value in FULL.items():
        assert customer[key] == value
    assert "group_ids" not in customer and "segment_ids" not in customer and "cards" not in customer


async def test_create_omits_unset_and_empty_fields(client: httpx.AsyncClient) -> None:
    customer = await make_customer(client, email_address="only@example.com", note="", address={"country": None})
    assert set(customer) == {
        "id", "created_at", "updated_at", "email_address", "preferences", "creation_source", "version",
    }  # fmt: skip
    assert None not in customer.values()


@pytest.mark.parametrize(
    ("given", "stored"), [("09-21", "0000-09-21"), ("02-29", "0000-02-29"), ("1998-09-21", "1998-09-21")]
)
async def test_birthday_formats(client: httpx.AsyncClient, given: str, stored: str) -> None:
    assert (await make_customer(client, given_name="B", birthday=given))["birthday"] == stored


async def test_address_first_and_last_name_are_ignored(client: httpx.AsyncClient) -> None:
    customer = await make_customer(client, given_name="A", address={"first_name": "X", "locality": "Paris"})
    assert customer["address"] == {"locality": "Paris"}


async def test_create_needs_a_name_email_or_phone(client: httpx.AsyncClient) -> None:
    response = await client.post("/v2/customers", json={"note": "nobody", "nickname": "x"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "BAD_REQUEST" and error["category"] == "INVALID_REQUEST_ERROR"
    assert "given_name" in error["detail"] and "field" not in error


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("given_name", "x" * 301, "VALUE_TOO_LONG"),
        ("family_name", "x" * 301, "VALUE_TOO_LONG"),
        ("company_name", "x" * 501, "VALUE_TOO_LONG"),
        ("nickname", "x" * 101, "VALUE_TOO_LONG"),
        ("reference_id", "x" * 101, "VALUE_TOO_LONG"),
        ("email_address", "a" * 250 + "@x.com", "VALUE_TOO_LONG"),
        ("email_address", "not-an-email", "INVALID_EMAIL_ADDRESS"),
        ("email_address", "a@b", "INVALID_EMAIL_ADDRESS"),
        ("phone_number", "12345678", "INVALID_PHONE_NUMBER"),
        ("phone_number", "+12345678901234567", "INVALID_PHONE_NUMBER"),
        ("phone_number", "+1-212-555-CALL", "INVALID_PHONE_NUMBER"),
        ("phone_number", "1+2125554240", "INVALID_PHONE_NUMBER"),
        ("birthday", "1998-02-30", "INVALID_TIME"),
        ("birthday", "13-01", "INVALID_TIME"),
        ("birthday", "21/09/1998", "INVALID_TIME"),
        ("given_name", 42, "EXPECTED_STRING"),
        ("address", "500 Electric Ave", "EXPECTED_OBJECT"),
    ],
)
async def test_create_field_errors_name_the_field(
    client: httpx.AsyncClient, field: str, value: object, code: str
) -> None:
    body = {"given_name": "Ok", field: value} if field != "given_name" else {"email_address": "a@b.co", field: value}
    response = await client.post("/v2/customers", json=body)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == (code, field)


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"tax_ids": {"eu_vat": "X" * 21}}, "VALUE_TOO_LONG", "tax_ids.eu_vat"),
        ({"tax_ids": {"eu_vat": "IE-342"}}, "INVALID_VALUE", "tax_ids.eu_vat"),
        ({"address": {"country": "USA"}}, "INVALID_ENUM_VALUE", "address.country"),
        ({"address": {"planet": "Mars"}}, "UNKNOWN_BODY_PARAMETER", "address.planet"),
        ({"favourite_colour": "blue"}, "UNKNOWN_BODY_PARAMETER", "favourite_colour"),
    ],
)
async def test_create_nested_errors(client: httpx.AsyncClient, body: dict[str, object], code: str, field: str) -> None:
    response = await client.post("/v2/customers", json={"given_name": "Ok", **body})
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["field"]) == (code, field)


@pytest.mark.parametrize("phone", ["+1 (206) 222-3333", "206.222.3333", "+44 20 7946 0958", "020-7946-0958"])
async def test_phone_separators_are_accepted(client: httpx.AsyncClient, phone: str) -> None:
    assert (await make_customer(client, phone_number=phone))["phone_number"] == phone


async def test_idempotency_key_replays_and_rejects_reuse(client: httpx.AsyncClient) -> None:
    body = {"given_name": "Ada", "idempotency_key": "create-ada-1"}
    first = await client.post("/v2/customers", json=body)
    again = await client.post("/v2/customers", json=body)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    listed = (await client.get("/v2/customers")).json()["customers"]
    assert [c["id"] for c in listed] == [first.json()["customer"]["id"]]
    reused = await client.post("/v2/customers", json={**body, "given_name": "Grace"})
    assert reused.status_code == 400
    assert (error_of(reused)["code"], error_of(reused)["field"]) == ("IDEMPOTENCY_KEY_REUSED", "idempotency_key")


async def test_retrieve_and_not_found(client: httpx.AsyncClient) -> None:
    customer = await make_customer(client)
    response = await client.get(f"/v2/customers/{customer['id']}")
    assert response.status_code == 200 and response.json() == {"customer": customer}
    missing = await client.get("/v2/customers/NOPE")
    assert missing.status_code == 404
    assert error_of(missing) == {
        "category": "INVALID_REQUEST_ERROR",
        "code": "NOT_FOUND",
        "detail": "Customer with ID `NOPE` not found.",
    }


async def test_update_is_sparse_and_clears_with_null_or_empty(client: httpx.AsyncClient) -> None:
    customer = await make_customer(client, **FULL)
    response = await client.put(
        f"/v2/customers/{customer['id']}",
        json={
            "note": "updated",
            "phone_number": None,
            "nickname": "",
            "address": {"address_line_2": None, "locality": "Brooklyn"},
        },
    )
    assert response.status_code == 200, response.text
    updated = response.json()["customer"]
    assert updated["note"] == "updated" and "phone_number" not in updated and "nickname" not in updated
    assert "address_line_2" not in updated["address"] and updated["address"]["locality"] == "Brooklyn"
    assert updated["address"]["address_line_1"] == "500 Electric Ave"
    assert updated["given_name"] == "Amelia" and updated["version"] == 1
    assert updated["updated_at"] >= customer["updated_at"] and updated["created_at"] == customer["created_at"]
    cleared = await client.put(
        f"/v2/customers/{customer['id']}", json={"address": None, "tax_ids": None, "birthday": "12-25"}
    )
    assert "address" not in cleared.json()["customer"] and "tax_ids" not in cleared.json()["customer"]
    assert cleared.json()["customer"]["birthday"] == "0000-12-25"


async def test_update_cannot_remove_every_name_email_and_phone(client: httpx.AsyncClient) -> None:
    customer = await make_customer(client, given_name="Solo")
    response = await client.put(f"/v2/customers/{customer['id']}", json={"given_name": None})
    assert response.status_code == 400 and error_of(response)["code"] == "BAD_REQUEST"


async def test_update_version_conflict_is_409_conflict(client: httpx.AsyncClient) -> None:
    customer = await make_customer(client)
    ok = await client.put(f"/v2/customers/{customer['id']}", json={"note": "a", "version": 0})
    assert ok.status_code == 200 and ok.json()["customer"]["version"] == 1
    stale = await client.put(f"/v2/customers/{customer['id']}", json={"note": "b", "version": 0})
    assert stale.status_code == 409
    error = error_of(stale)
    assert (error["code"], error["category"], error["field"]) == ("CONFLICT", "INVALID_REQUEST_ERROR", "version")
    assert "version 1" in error["detail"] and "version 0" in error["detail"]


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"email_address": "bad"}, "INVALID_EMAIL_ADDRESS", "email_address"),
        ({"version": "one"}, "EXPECTED_INTEGER", "version"),
        ({"id": "X"}, "UNKNOWN_BODY_PARAMETER", "id"),
        ({"given_name": "x" * 301}, "VALUE_TOO_LONG", "given_name"),
    ],
)
async def test_update_errors(client: httpx.AsyncClient, body: dict[str, object], code: str, field: str) -> None:
    customer = await make_customer(client)
    response = await client.put(f"/v2/customers/{customer['id']}", json=body)
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["field"]) == (code, field)


async def test_update_unknown_customer_is_404(client: httpx.AsyncClient) -> None:
    response = await client.put("/v2/customers/NOPE", json={"note": "x"})
    assert response.status_code == 404 and error_of(response)["code"] == "NOT_FOUND"


async def test_delete_with_and_without_version(client: httpx.AsyncClient) -> None:
    first, second = await make_customer(client), await make_customer(client)
    stale = await client.delete(f"/v2/customers/{first['id']}", params={"version": 3})
    assert stale.status_code == 409 and error_of(stale)["code"] == "CONFLICT"
    bad = await client.delete(f"/v2/customers/{first['id']}", params={"version": "x"})
    assert bad.status_code == 400 and error_of(bad)["code"] == "EXPECTED_INTEGER"
    assert (await client.delete(f"/v2/customers/{first['id']}", params={"version": 0})).json() == {}
    assert (await client.delete(f"/v2/customers/{second['id']}")).json() == {}
    assert (await client.get(f"/v2/customers/{first['id']}")).status_code == 404
    again = await client.delete(f"/v2/customers/{first['id']}")
    assert again.status_code == 404 and error_of(again)["detail"] == f"Customer with ID `{first['id']}` not found."
