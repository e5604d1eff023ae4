"""The state store behind OAuth mode, on SQLite and on PostgreSQL: every race two replicas can run has one
winner, used codes and refresh tokens revoke their sign-in, Square tokens are sealed, and keys rotate."""

from __future__ import annotations

import anyio
import pytest
from conftest import OpenStore
from cryptography.fernet import Fernet

from square_customers_mcp.state import open_state
from square_customers_mcp.state.sealing import Sealer, SealError
from square_customers_mcp.state.store import MIGRATIONS, StateStore

pytestmark = pytest.mark.anyio
SQUARE = {
    "access_token": "EAAAsquare-access-canary-0123456789",
    "refresh_token": "EQAAsquare-refresh-canary",
    "expires_at": 9,
}


async def gather(count: int, work: object) -> list[object]:
    results: list[object] = []

    async def one() -> None:
        results.append(await work())  # type: ignore[operator]

    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(one)
    return results


async def test_replicas_starting_together_migrate_once(open_store: OpenStore) -> None:
    stores = await gather(4, open_store)
    assert len(stores) == 4
    assert await stores[0].migrate() == len(MIGRATIONS)  # type: ignore[attr-defined]


async def test_a_code_is_used_once_however_many_replicas_race(open_store: OpenStore) -> None:
    first, second = await open_store(), await open_store()
    grant = await first.new_grant("client-1", "MERCHANT1", ["CUSTOMERS_READ"], SQUARE)
    await first.put("code", "the-code", client_id="client-1", data={"x": 1}, lifetime=60, grant_id=grant)
    stores = [first, second] * 5
    winners = await gather(10, lambda: stores.pop().use("code", "the-code"))
    assert sum(item is not None for item in winners) == 1
    # Presenting it again is a replay: the sign-in it started is revoked.
    assert await first.grant(grant) is None


async def test_a_rotated_refresh_token_presented_again_revokes_the_family(open_store: OpenStore) -> None:
    store = await open_store()
    grant = await store.new_grant("client-1", "MERCHANT1", ["CUSTOMERS_READ"], SQUARE)
    await store.put("refresh", "old", client_id="client-1", data={}, lifetime=60, grant_id=grant)
    await store.put("access", "live", client_id="client-1", data={}, lifetime=60, grant_id=grant)
    assert await store.use("refresh", "old") is not None
    assert await store.get("access", "live") is not None
    assert await store.use("refresh", "old") is None
    assert await store.get("access", "live") is None


async def test_expired_items_are_gone_and_pruned(open_store: OpenStore) -> None:
    store = await open_store()
    now = [1_000_000.0]
    clocked = StateStore(store.db, Sealer(Fernet.generate_key().decode()), clock=lambda: now[0])
    await clocked.put("pending", "state-1", client_id="c", data={}, lifetime=10, grant_id=None)
    now[0] += 11
    assert await clocked.take("pending", "state-1") is None
    await clocked.put("pending", "state-2", client_id="c", data={}, lifetime=10, grant_id=None)  # prunes state-1
    rows = await store.db.fetch("SELECT count(*) FROM mcp_tokens")
    assert rows[0][0] == 1


async def test_a_sign_in_in_progress_is_taken_once(open_store: OpenStore) -> None:
    first, second = await open_store(), await open_store()
    await first.put("pending", "state-x", client_id="c", data={"v": 1}, lifetime=60, grant_id=None)
    stores = [first, second] * 3
    taken = await gather(6, lambda: stores.pop().take("pending", "state-x"))
    assert [item.data for item in taken if item is not None] == [{"v": 1}]  # type: ignore[attr-defined]


async def test_square_tokens_are_sealed_at_rest(open_store: OpenStore) -> None:
    store = await open_store()
    await store.new_grant("client-1", "MERCHANT1", ["CUSTOMERS_READ"], SQUARE)
    dump = repr(await store.db.fetch("SELECT * FROM mcp_grants"))
    assert "canary" not in dump and "EAAA" not in dump


async def test_keys_rotate_new_first_old_after(state_url: str, state_key: str) -> None:
    store = await open_state(state_url, state_key)
    grant = await store.new_grant("client-1", "MERCHANT1", ["CUSTOMERS_READ"], SQUARE)
    await store.db.close()
    new_key = Fernet.generate_key().decode()
    rotated = await open_state(state_url, f"{new_key},{state_key}")
    try:
        assert (await rotated.grant(grant)).square == SQUARE  # type: ignore[union-attr]
        await rotated.save_square(grant, SQUARE)  # sealed again, with the new key
    finally:
        await rotated.db.close()
    only_new = await open_state(state_url, new_key)
    try:
        assert (await only_new.grant(grant)).square == SQUARE  # type: ignore[union-attr]
    finally:
        await only_new.db.close()
    only_old = await open_state(state_url, state_key)
    try:
        with pytest.raises(SealError, match="SQUARE_MCP_STATE_KEY"):
            await only_old.grant(grant)
    finally:
        await only_old.db.close()


async def test_replicas_share_secrets_and_spent_nonces(open_store: OpenStore) -> None:
    stores = [await open_store() for _ in range(3)]
    secrets = await gather(3, lambda: stores.pop().secret("confirm"))
    assert len(set(secrets)) == 1
    replicas = [await open_store(), await open_store()] * 3
    spent = await gather(6, lambda: replicas.pop().spend("nonce-1", 2**40))
    assert spent.count(True) == 1


async def test_one_replica_refreshes_square_at_a_time(open_store: OpenStore) -> None:
    first, second = await open_store(), await open_store()
    grant = await first.new_grant("client-1", "MERCHANT1", ["CUSTOMERS_READ"], SQUARE)
    # Claims compare-and-set the time of the last refresh: with a clock a day on, the one winner moves it.
    later = [
        StateStore(store.db, Sealer(Fernet.generate_key().decode()), clock=lambda: 2e9) for store in (first, second)
    ]
    seen = (await first.grant(grant)).square_refreshed_at  # type: ignore[union-attr]
    stores = later * 4
    claims = await gather(8, lambda: stores.pop().claim_square_refresh(grant, seen))
    assert claims.count(True) == 1


def test_a_malformed_key_is_refused_without_quoting_it() -> None:
    with pytest.raises(SealError) as refused:
        Sealer("not-a-fernet-key-but-a-secret")
    assert "not-a-fernet-key" not in str(refused.value) and "Fernet" in str(refused.value)
