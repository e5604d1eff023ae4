"""SQL in every place a caller's text reaches the local API's queries is data, never SQL: it matches
literally, and the tables survive."""

from __future__ import annotations

import httpx
import pytest
from sandbox_support import make_customer

pytestmark = pytest.mark.anyio
PAYLOADS = ["' OR '1'='1", '"; DROP TABLE customers; --', "%' OR 1=1 --", "x') UNION SELECT * FROM idempotency --"]


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_sql_in_filters_ids_cursors_and_fields_is_only_data(client: httpx.AsyncClient, payload: str) -> None:
    kept = await make_customer(client, given_name="Kept", reference_id="ref-1")
    stored = await make_customer(client, given_name=payload, note=payload, reference_id=payload)
    answers = [
        await client.post("/v2/customers/search", json={"query": {"filter": {"reference_id": {"exact": payload}}}}),
        await client.post("/v2/customers/search", json={"query": {"filter": {"reference_id": {"fuzzy": payload}}}}),
        await client.post("/v2/customers/search", json={"query": {"filter": {"group_ids": {"any": [payload]}}}}),
        await client.get(f"/v2/customers/{httpx.URL(path=payload).raw_path.decode()}"),
        await client.get("/v2/customers", params={"cursor": payload}),
        await client.post("/v2/customers/bulk-retrieve", json={"customer_ids": [payload]}),
    ]
    assert all(answer.status_code in (200, 400, 404) for answer in answers), [a.text for a in answers]
    exact = answers[0].json()["customers"]
    assert [c["id"] for c in exact] == [stored["id"]]  # matched literally: only the customer holding it
    assert answers[2].json().get("customers", []) == []
    listed = (await client.get("/v2/customers")).json()["customers"]
    assert {c["id"] for c in listed} == {kept["id"], stored["id"]}  # nothing dropped, nothing leaked in
    again = (await client.get(f"/v2/customers/{stored['id']}")).json()["customer"]
    assert (again["given_name"], again["note"], again["reference_id"]) == (payload, payload, payload)
