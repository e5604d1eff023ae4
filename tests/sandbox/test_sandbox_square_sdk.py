"""Square's own Python SDK (`squareup` 46.x) runs all 14 Customers operations against the sandbox process (with any
token, and with a token its OAuth code exchange obtained), and
completes Square's OAuth with it: the code exchange, a refresh, token status and a revoke."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sandbox_support import live_sandbox

from square_customers_mcp.sandbox.seed import REGULARS_SEGMENT_ID, SEEDED_SEGMENTS

square = pytest.importorskip("square", reason="the `squareup` SDK is not installed: pip install 'squareup>=46,<47'")


APP = {"client_id": "sq0idp-sdk-app", "client_secret": "sq0csp-sdk-secret", "redirect_uris": ["http://127.0.0.1:9/cb"]}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db_path = str(Path(tmp_path_factory.mktemp("sdk")) / "sandbox.db")
    with live_sandbox(db_path, [APP]) as (_, base_url):
        yield base_url


@pytest.fixture(scope="module")
def sdk(live: str) -> object:
    return square.Square(token="sandbox-token", base_url=live, version="2026-09-16", timeout=10)


def _code(base_url: str, scope: str, merchant: str) -> str:
    """The consent page, answered as a seller would; the code it sends back to the app's redirect URI."""
    params = {"client_id": APP["client_id"], "scope": scope, "state": "sdk-state"}
    assert httpx.get(f"{base_url}/oauth2/authorize", params=params, timeout=10).status_code == 200
    answer = httpx.post(
        f"{base_url}/oauth2/authorize", data=params | {"merchant_id": merchant, "decision": "approve"}, timeout=10
    )
    sent_back = parse_qs(urlsplit(answer.headers["location"]).query)
    assert sent_back["state"] == ["sdk-state"]
    return sent_back["code"][0]


def _signed_in(live: str, scopes: str, merchant: str) -> tuple[Any, Any]:
    """The application's SDK client, and the tokens its code exchange got for `merchant` with `scopes`."""
    app_client = square.Square(token=None, base_url=live, version="2026-09-16", timeout=10)
    tokens = app_client.o_auth.obtain_token(
        client_id=APP["client_id"], client_secret=APP["client_secret"],
        code=_code(live, scopes, merchant), grant_type="authorization_code",
    )  # fmt: skip
    return app_client, tokens


def test_sdk_completes_oauth_and_works_with_the_issued_token(live: str) -> None:
    app_client, tokens = _signed_in(live, "CUSTOMERS_READ CUSTOMERS_WRITE", "SDKMERCHANT01")
    assert tokens.merchant_id == "SDKMERCHANT01" and tokens.token_type == "bearer"
    renewed = app_client.o_auth.obtain_token(
        client_id=APP["client_id"], client_secret=APP["client_secret"],
        refresh_token=tokens.refresh_token, grant_type="refresh_token",
    )  # fmt: skip
    assert renewed.refresh_token == tokens.refresh_token and renewed.access_token != tokens.access_token

    seller = square.Square(token=renewed.access_token, base_url=live, version="2026-09-16", timeout=10)
    status = seller.o_auth.retrieve_token_status()
    assert status.merchant_id == "SDKMERCHANT01" and status.client_id == APP["client_id"]
    assert status.scopes == ["CUSTOMERS_READ", "CUSTOMERS_WRITE"]
    made = seller.customers.create(given_name="Grace", idempotency_key="sdk-oauth-1").customer
    assert seller.customers.get(made.id).customer.given_name == "Grace"
    assert [c.id for c in seller.customers.list()] == [made.id]  # this merchant's store holds only its own
    group = seller.customers.groups.create(group={"name": "Seller's own"}).group
    seller.customers.groups.add(made.id, group.id)
    found = seller.customers.search(query={"filter": {"group_ids": {"all": [group.id]}}}, count=True)
    assert found.count == 1

    revoked = app_client.o_auth.revoke_token(
        client_id=APP["client_id"], access_token=renewed.access_token,
        request_options={"additional_headers": {"Authorization": f"Client {APP['client_secret']}"}},
    )  # fmt: skip
    assert revoked.success
    from square.core.api_error import ApiError

    with pytest.raises(ApiError) as refused:
        seller.customers.get(made.id, request_options={"max_retries": 0})
    assert refused.value.status_code == 401
    assert refused.value.body["errors"][0]["code"] == "ACCESS_TOKEN_REVOKED"


def test_sdk_read_only_token_is_refused_a_write(live: str) -> None:
    from square.core.api_error import ApiError

    _, tokens = _signed_in(live, "CUSTOMERS_READ", "SDKREADER0001")
    reader = square.Square(token=tokens.access_token, base_url=live, version="2026-09-16", timeout=10)
    assert not list(reader.customers.list())
    with pytest.raises(ApiError) as refused:
        reader.customers.create(given_name="Nope", request_options={"max_retries": 0})
    assert refused.value.status_code == 403
    assert refused.value.body["errors"][0] == {
        "category": "AUTHENTICATION_ERROR",
        "code": "INSUFFICIENT_SCOPES",
        "detail": refused.value.body["errors"][0]["detail"],
    }
    assert "CUSTOMERS_WRITE" in refused.value.body["errors"][0]["detail"]


@pytest.fixture(params=["any token", "OAuth-issued token"])
def seller(request: pytest.FixtureRequest, live: str, sdk: object) -> object:
    """The default merchant (any bearer token), or a merchant signed in through the OAuth code flow."""
    if request.param == "any token":
        return sdk
    _, tokens = _signed_in(live, "CUSTOMERS_READ CUSTOMERS_WRITE", "SDKFOURTEEN01")
    return square.Square(token=tokens.access_token, base_url=live, version="2026-09-16", timeout=10)


def test_all_fourteen_operations(seller: object) -> None:
    client = seller.customers  # type: ignore[attr-defined]
    created = client.create(given_name="Amelia", family_name="Earhart", email_address="amelia@example.com",
                            phone_number="+1-212-555-4240", idempotency_key="sdk-1")  # fmt: skip
    assert not created.errors
    customer = created.customer
    assert customer.id and customer.version == 0 and customer.creation_source == "THIRD_PARTY"

    assert client.get(customer.id).customer.email_address == "amelia@example.com"

    updated = client.update(customer.id, note="flies", version=0)
    assert updated.customer.note == "flies" and updated.customer.version == 1

    batch = client.batch_create(customers={"sdk-k1": {"given_name": "Marie"}, "sdk-k2": {"company_name": "Acme"}})
    other_ids = [entry.customer.id for entry in batch.responses.values()]
    assert len(other_ids) == 2

    listed = [c.id for c in client.list(limit=1, sort_field="DEFAULT", sort_order="ASC")]  # the pager follows cursors
    assert sorted(listed) == sorted([customer.id, *other_ids])

    found = client.search(query={"filter": {"email_address": {"exact": "AMELIA@example.com"}}}, limit=10, count=True)
    assert [c.id for c in found.customers] == [customer.id] and found.count == 1

    retrieved = client.bulk_retrieve_customers(customer_ids=[customer.id, *other_ids])
    assert set(retrieved.responses) == {customer.id, *other_ids}

    bulk_updated = client.bulk_update_customers(customers={other_ids[0]: {"note": "bulk", "version": 0}})
    assert bulk_updated.responses[other_ids[0]].customer.version == 1

    # A group of the merchant's own: the built-in ones belong to the default merchant only.
    group_id = client.groups.create(group={"name": "Fourteen"}).group.id
    client.groups.add(customer.id, group_id)
    assert client.get(customer.id).customer.group_ids == [group_id]
    client.groups.remove(customer.id, group_id)
    assert not client.get(customer.id).customer.group_ids

    card = client.cards.create(customer.id, card_nonce="cnon:card-nonce-ok", cardholder_name="Amelia Earhart").card
    assert card.card_brand == "VISA" and card.last4 == "1111"
    client.cards.delete(customer.id, card.id)

    client.delete(customer.id, version=3)  # created, updated, added to and removed from a group
    deleted = client.bulk_delete_customers(customer_ids=other_ids)
    assert all(not entry.errors for entry in deleted.responses.values())
    assert not list(client.list())


def test_sdk_surfaces_square_errors(sdk: object) -> None:
    from square.core.api_error import ApiError

    with pytest.raises(ApiError) as caught:
        sdk.customers.get("MISSING0000000000000000000")  # type: ignore[attr-defined]
    assert caught.value.status_code == 404
    with pytest.raises(ApiError) as stale:
        made = sdk.customers.create(given_name="Versioned")  # type: ignore[attr-defined]
        # The SDK retries 408/409/429/5xx by default; a stale version never succeeds, so ask for no retries.
        sdk.customers.update(made.customer.id, note="x", version=7, request_options={"max_retries": 0})  # type: ignore[attr-defined]
    assert stale.value.status_code == 409
    assert stale.value.body["errors"][0]["code"] == "CONFLICT"


def test_sdk_can_make_and_find_groups(sdk: object) -> None:
    groups = sdk.customers.groups  # type: ignore[attr-defined]
    made = groups.create(group={"name": "SDK regulars"}, idempotency_key="sdk-group").group
    assert groups.get(made.id).group.name == "SDK regulars"
    assert made.id in [g.id for g in groups.list(limit=1)]


def test_sdk_lists_and_gets_segments(sdk: object) -> None:
    segments = sdk.customers.segments  # type: ignore[attr-defined]
    assert [(s.id, s.name) for s in segments.list(limit=1)] == sorted(SEEDED_SEGMENTS)  # the pager follows cursors
    assert segments.get(REGULARS_SEGMENT_ID).segment.name == "Regulars"
