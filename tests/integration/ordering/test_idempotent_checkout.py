"""The checkout route's idempotency wrapper, against the real key store."""

from __future__ import annotations

import uuid

import pytest
from starlette.responses import Response

from agora.api.idempotency import run_idempotently
from agora.bootstrap import Container
from agora.platform.errors import OutOfStockError
from agora.platform.idempotency import SqlIdempotencyStore


@pytest.fixture
def store(container: Container) -> SqlIdempotencyStore:
    return container.registry.get(SqlIdempotencyStore)


async def test_unexpected_failure_releases_the_key(store: SqlIdempotencyStore) -> None:
    scope, key = f"orders:{uuid.uuid4()}", "k"

    async def broken() -> Response:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        await run_idempotently(store, scope, key, "h", broken)
    assert await store.claim(scope, key, "h") is None  # free to retry


async def test_expected_failure_is_stored_and_replayed(store: SqlIdempotencyStore) -> None:
    scope, key = f"orders:{uuid.uuid4()}", "k"
    calls = 0

    async def sold_out() -> Response:
        nonlocal calls
        calls += 1
        raise OutOfStockError(product_id="p")

    first = await run_idempotently(store, scope, key, "h", sold_out)
    again = await run_idempotently(store, scope, key, "h", sold_out)
    assert first.status_code == again.status_code == 409
    assert bytes(again.body) == bytes(first.body)
    assert calls == 1


async def test_server_error_response_releases_the_key(store: SqlIdempotencyStore) -> None:
    scope, key = f"orders:{uuid.uuid4()}", "k"

    async def unavailable() -> Response:
        return Response(b"{}", 503)

    assert (await run_idempotently(store, scope, key, "h", unavailable)).status_code == 503
    assert await store.claim(scope, key, "h") is None
