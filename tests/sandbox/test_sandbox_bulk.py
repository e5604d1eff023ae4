"""The four bulk endpoints: per-entry responses, 200 with partial failure, limits and idempotency."""

from __future__ import annotations

import httpx
import pytest
from sandbox_support import error_of, make_customer

pytestmark = pytest.mark.anyio


async def test_bulk_create_with_partial_failure(client: httpx.AsyncClient) -> None:
    body = {
        "customers": {
            "key-ok": {"given_name": "Marie", "email_address": "marie@example.com"},
            "key-bad-email": {"given_name": "X", "email_address": "nope"},
            "key-no-name": {"note": "nameless"},
            "key-unknown": {"given_name": "Y", "shoe_size": 9},
        }
    }
    response = await client.post("/v2/customers/bulk-create", json=body)
    assert response.status_code == 200
    responses = response.json()["responses"]
    assert set(responses) == set(body["customers"])
    assert responses["key-ok"]["customer"]["given_name"] == "Marie"
    assert error_of_entry(responses["key-bad-email"]) == (
        "INVALID_EMAIL_ADDRESS",
        "customers.key-bad-email.email_address",
    )
    assert responses["key-no-name"]["errors"][0]["code"] == "BAD_REQUEST"
    assert error_of_entry(responses["key-unknown"]) == ("UNKNOWN_BODY_PARAMETER", "customers.key-unknown.shoe_size")
    listed = (await client.get("/v2/customers")).json()["customers"]
    assert [c["id"] for c in listed] == [responses["key-ok"]["customer"]["id"]]


def error_of_entry(entry: dict[str, list[dict[str, str]]]) -> tuple[str, str]:
    (error,) = entry["errors"]
    return error["code"], error["field"]


async def test_bulk_create_keys_are_idempotency_keys(client: httpx.AsyncClient) -> None:
    body = {"customers": {"k1": {"given_name": "A"}, "k2": {"given_name": "B"}}}
    first = (await client.post("/v2/customers/bulk-create", json=body)).json()
    again = (await client.post("/v2/customers/bulk-create", json=body)).json()
    assert again == first
    changed = {"customers": {"k1": {"given_name": "Other"}, "k3": {"given_name": "C"}}}
    mixed = (await client.post("/v2/customers/bulk-create", json=changed)).json()["responses"]
    assert mixed["k1"]["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert mixed["k3"]["customer"]["given_name"] == "C"
    assert len((await client.get("/v2/customers")).json()["customers"]) == 3


@pytest.mark.parametrize("path", ["/v2/customers/bulk-create", "/v2/customers/bulk-update"])
@pytest.mark.parametrize(
    ("customers", "code"),
    [
        ({}, "VALUE_EMPTY"),
        ({f"k{i}": {"given_name": "x"} for i in range(101)}, "TOO_MANY_MAP_ENTRIES"),
        (["x"], "EXPECTED_MAP"),
        (None, "MISSING_REQUIRED_PARAMETER"),
    ],
)
async def test_bulk_map_limits(client: httpx.AsyncClient, path: str, customers: object, code: str) -> None:
    response = await client.post(path, json={"customers": customers})
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["field"]) == (code, "customers")


@pytest.mark.parametrize("path", ["/v2/customers/bulk-retrieve", "/v2/customers/bulk-delete"])
@pytest.mark.parametrize(
    ("ids", "code"),
    [
        ([], "ARRAY_EMPTY"),
        ([f"ID{i}" for i in range(101)], "ARRAY_LENGTH_TOO_LONG"),
        ("ID1", "EXPECTED_ARRAY"),
        ([1], "INVALID_ARRAY_VALUE"),
        (None, "MISSING_REQUIRED_PARAMETER"),
    ],
)
async def test_bulk_list_limits(client: httpx.AsyncClient, path: str, ids: object, code: str) -> None:
    response = await client.post(path, json={"customer_ids": ids})
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["field"]) == (code, "customer_ids")


async def test_bulk_unknown_top_level_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/v2/customers/bulk-retrieve", json={"customer_ids": ["A"], "ids": ["B"]})
    assert response.status_code == 400 and error_of(response)["code"] == "UNKNOWN_BODY_PARAMETER"


async def test_bulk_retrieve_and_delete(client: httpx.AsyncClient) -> None:
    a, b = await make_customer(client), await make_customer(client, given_name="B")
    ids = [a["id"], b["id"], "MISSING0000000000000000000"]
    retrieved = (await client.post("/v2/customers/bulk-retrieve", json={"customer_ids": ids})).json()["responses"]
    assert retrieved[a["id"]] == {"customer": a} and retrieved[b["id"]] == {"customer": b}
    assert retrieved[ids[2]] == {
        "errors": [
            {
                "category": "INVALID_REQUEST_ERROR",
                "code": "NOT_FOUND",
                "detail": f"Customer with ID `{ids[2]}` not found.",
            }
        ]
    }
    deleted = await client.post("/v2/customers/bulk-delete", json={"customer_ids": ids})
    assert deleted.status_code == 200
    responses = deleted.json()["responses"]
    assert responses[a["id"]] == {} and responses[b["id"]] == {}
    assert responses[ids[2]]["errors"][0]["code"] == "NOT_FOUND"
    assert (await client.get("/v2/customers")).json() == {}


async def test_bulk_update_with_versions(client: httpx.AsyncClient) -> None:
    a, b = await make_customer(client), await make_customer(client, given_name="B")
    body = {
        "customers": {
            a["id"]: {"note": "new", "version": 0, "phone_number": None},
            b["id"]: {"note": "stale", "version": 5},
            "MISSING0000000000000000000": {"note": "x"},
        }
    }
    responses = (await client.post("/v2/customers/bulk-update", json=body)).json()["responses"]
    assert responses[a["id"]]["customer"]["note"] == "new" and responses[a["id"]]["customer"]["version"] == 1
    assert responses[b["id"]]["errors"][0]["code"] == "CONFLICT"
    assert responses["MISSING0000000000000000000"]["errors"][0]["code"] == "NOT_FOUND"
    assert "note" not in (await client.get(f"/v2/customers/{b['id']}")).json()["customer"]
