"""Idempotency keys: claim once, replay the stored response, refuse another body."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from agora.bootstrap import Container
from agora.platform.db.idempotency_store import SqlIdempotencyStore
from agora.platform.errors import IdempotencyKeyReusedError, RequestInProgressError, ValidationError
from agora.platform.idempotency_keys import StoredResponse, validate_key
from agora.platform.ids import new_id


@pytest.fixture
def store(container: Container) -> SqlIdempotencyStore:
    return SqlIdempotencyStore(container.engine, timedelta(hours=1))


async def test_first_claim_wins_and_the_response_is_replayed(store: SqlIdempotencyStore) -> None:
    scope, key = f"orders:{new_id()}", "key-1"
    assert await store.claim(scope, key, "hash-a") is None
    with pytest.raises(RequestInProgressError):
        await store.claim(scope, key, "hash-a")
    await store.complete(scope, key, StoredResponse(201, b'{"ok": true}'))
    assert await store.claim(scope, key, "hash-a") == StoredResponse(201, b'{"ok": true}')


async def test_same_key_with_another_body_is_refused(store: SqlIdempotencyStore) -> None:
    scope = f"orders:{new_id()}"
    await store.claim(scope, "k", "hash-a")
    with pytest.raises(IdempotencyKeyReusedError):
        await store.claim(scope, "k", "hash-b")


async def test_keys_are_scoped_per_actor(store: SqlIdempotencyStore) -> None:
    assert await store.claim(f"orders:{new_id()}", "shared", "h") is None
    assert await store.claim(f"orders:{new_id()}", "shared", "h") is None


async def test_released_key_can_be_claimed_again(store: SqlIdempotencyStore) -> None:
    scope = f"orders:{new_id()}"
    await store.claim(scope, "k", "h")
    await store.release(scope, "k")
    assert await store.claim(scope, "k", "h") is None


async def test_concurrent_claims_let_exactly_one_through(store: SqlIdempotencyStore) -> None:
    scope = f"orders:{new_id()}"

    async def attempt() -> str:
        try:
            await store.claim(scope, "race", "h")
        except RequestInProgressError:
            return "in-progress"
        return "claimed"

    outcomes = await asyncio.gather(*(attempt() for _ in range(10)))
    assert outcomes.count("claimed") == 1
    assert outcomes.count("in-progress") == 9


def test_keys_must_be_short_and_printable() -> None:
    assert validate_key(" abc ") == "abc"
    for bad in ("", " ", "x" * 256, "line\nbreak"):
        with pytest.raises(ValidationError):
            validate_key(bad)


async def test_an_expired_key_is_claimed_afresh(container: Container) -> None:
    expiring = SqlIdempotencyStore(container.engine, timedelta(0))
    scope = f"orders:{new_id()}"
    await expiring.claim(scope, "k", "hash-a")
    await expiring.complete(scope, "k", StoredResponse(201, b"{}"))
    assert await expiring.claim(scope, "k", "hash-b") is None
