"""The checkout route's idempotency wrapper, against the real key store.

An outcome is stored only once the request started executing (Stripe's rule), and then
every outcome is, a server error included: an order exists by then, so a retry must
not place a second one. A failure before that leaves the key free for a retry.
"""

from __future__ import annotations

import asyncio
import uuid

import orjson
import pytest
from starlette.responses import Response

from agora.bootstrap import Container
from agora.http.idempotency import Execution, run_idempotently
from agora.platform.errors import OutOfStockError, PaymentDeclinedError, ValidationError
from agora.platform.idempotency_keys import IdempotencyStore


@pytest.fixture
def store(container: Container) -> IdempotencyStore:
    return container.infrastructure.idempotency


def new_scope() -> str:
    return f"orders:{uuid.uuid4()}"


async def test_unexpected_failure_before_execution_releases_the_key(
    store: IdempotencyStore,
) -> None:
    scope, key = new_scope(), "k"

    async def broken(execution: Execution) -> Response:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        await run_idempotently(store, scope, key, "h", broken)
    assert await store.claim(scope, key, "h") is None  # free to retry


async def test_unexpected_failure_after_execution_started_is_replayed_not_rerun(
    store: IdempotencyStore,
) -> None:
    scope, key = new_scope(), "k"
    calls = 0

    async def broken(execution: Execution) -> Response:
        nonlocal calls
        calls += 1
        execution.start()
        raise RuntimeError("the provider connection dropped mid-charge")

    first = await run_idempotently(store, scope, key, "h", broken)
    again = await run_idempotently(store, scope, key, "h", broken)
    assert first.status_code == again.status_code == 500
    assert orjson.loads(again.body)["errors"]["code"] == "INTERNAL_ERROR"
    assert again.headers["idempotent-replayed"] == "true"
    assert calls == 1  # the retry placed no second order


async def test_failure_after_execution_started_is_stored_and_replayed(
    store: IdempotencyStore,
) -> None:
    scope, key = new_scope(), "k"
    calls = 0

    async def declined(execution: Execution) -> Response:
        nonlocal calls
        calls += 1
        execution.start()
        raise PaymentDeclinedError(reason="card_declined")

    first = await run_idempotently(store, scope, key, "h", declined)
    again = await run_idempotently(store, scope, key, "h", declined)
    assert first.status_code == again.status_code == 402
    assert bytes(again.body) == bytes(first.body)
    assert again.headers["idempotent-replayed"] == "true"
    assert calls == 1


@pytest.mark.parametrize(
    ("refusal", "status"),
    [(ValidationError("An order needs at least one item."), 422), (OutOfStockError(), 409)],
)
async def test_failure_before_execution_is_not_stored(
    store: IdempotencyStore, refusal: Exception, status: int
) -> None:
    scope, key = new_scope(), "k"

    async def refused(execution: Execution) -> Response:
        raise refusal

    first = await run_idempotently(store, scope, key, "h", refused)
    assert first.status_code == status
    assert "idempotent-replayed" not in first.headers
    assert await store.claim(scope, key, "h") is None  # released: the key is unused


async def test_server_error_after_execution_started_is_replayed(
    store: IdempotencyStore,
) -> None:
    scope, key = new_scope(), "k"
    calls = 0

    async def unavailable(execution: Execution) -> Response:
        nonlocal calls
        calls += 1
        execution.start()
        return Response(b"{}", 503)

    first = await run_idempotently(store, scope, key, "h", unavailable)
    again = await run_idempotently(store, scope, key, "h", unavailable)
    # Not "retry shortly" (a retry only replays): the answer says to look the order up.
    assert first.status_code == again.status_code == 500
    assert bytes(again.body) == bytes(first.body)
    assert "look its result up" in orjson.loads(again.body)["errors"]["message"]
    assert "retry-after" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert calls == 1


async def test_a_request_cancelled_after_execution_started_is_not_run_again(
    store: IdempotencyStore,
) -> None:
    scope, key = new_scope(), "k"
    calls = 0

    async def cancelled(execution: Execution) -> Response:
        nonlocal calls
        calls += 1
        execution.start()
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await run_idempotently(store, scope, key, "h", cancelled)
    again = await run_idempotently(store, scope, key, "h", cancelled)
    assert again.status_code == 500
    assert again.headers["idempotent-replayed"] == "true"
    assert calls == 1


async def test_server_error_before_execution_releases_the_key(
    store: IdempotencyStore,
) -> None:
    scope, key = new_scope(), "k"

    async def unavailable(execution: Execution) -> Response:
        return Response(b"{}", 503)

    assert (await run_idempotently(store, scope, key, "h", unavailable)).status_code == 503
    assert await store.claim(scope, key, "h") is None
