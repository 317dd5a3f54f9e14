"""Run a money-moving request once per Idempotency-Key, replaying its first outcome.

A key stores an outcome only if the request started executing, Stripe's rule: a
request refused before it changed anything (validation, an empty cart, a product not
for sale, stock short before any unit was taken, an unverified email) releases the key,
so the same key works once the client has fixed the cause. The handler says when
execution starts (``Execution.start``, for checkout: once the order and its stock
reservation are committed); from then on every outcome below 500 is stored and
replayed, a declined payment (402) as much as the created order (201), and so is a
server error: the order exists and a payment may have been taken, so a retry must not
place another. A success is always stored. A server error before execution releases the
key; a retry while the first attempt still runs is 409 ``REQUEST_IN_PROGRESS``.
See docs/adr/0024-idempotency-stores-only-executed-requests.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

import orjson
from pydantic import BaseModel
from starlette.responses import Response

from agora.http import envelope
from agora.http.errors import domain_error_response, unexpected_error_response
from agora.platform.errors import DomainError
from agora.platform.idempotency_keys import IdempotencyStore, StoredResponse


class Execution:
    """Told by the handler when the request starts changing things."""

    __slots__ = ("started",)

    def __init__(self) -> None:
        self.started = False

    def start(self) -> None:
        self.started = True


def request_hash(body: BaseModel) -> str:
    """What "the same body" means for a key: the parsed request, keys in sorted order."""
    canonical = orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


async def run_idempotently(
    store: IdempotencyStore,
    scope: str,
    key: str,
    request_hash: str,
    handler: Callable[[Execution], Awaitable[Response]],
) -> Response:
    """Run ``handler`` once per key; outcomes after execution started are replayed."""
    stored = await store.claim(scope, key, request_hash)
    if stored is not None:
        return Response(
            stored.body,
            stored.status_code,
            headers={"Idempotent-Replayed": "true"},
            media_type="application/json",
        )
    execution = Execution()
    try:
        try:
            response = await handler(execution)
        except DomainError as exc:
            response = domain_error_response(exc)
        except Exception as exc:
            if not execution.started:
                raise
            unexpected_error_response(exc)  # logged once, with the request ID
            response = _interrupted()
    except BaseException:
        if execution.started:  # cancelled mid-payment: a retry must not run it again
            await store.complete(scope, key, StoredResponse(500, bytes(_interrupted().body)))
        else:
            await store.release(scope, key)
        raise
    if execution.started and response.status_code >= 500:
        # An order exists and a payment may have been taken: "retry shortly" would be
        # wrong, since a retry with this key only replays. Say what to do instead.
        response = _interrupted()
    status = response.status_code
    if status < 300 or execution.started:
        await store.complete(scope, key, StoredResponse(status, bytes(response.body)))
    else:
        await store.release(scope, key)
    return response


def _interrupted() -> Response:
    return envelope.error(
        500,
        "INTERNAL_ERROR",
        "The request was interrupted after it started executing; look its result up "
        "(for a checkout, in your orders) before trying again with a new key.",
    )
