"""Run a money-moving request once per Idempotency-Key, replaying its first outcome.

It lives at the edge because an outcome is an HTTP response: expected failures (402,
409, 422) are mapped here exactly as the error handlers map them and stored like
successes; a server error or a crash releases the key so the client can retry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import Response

from agora.api.errors import domain_error_response
from agora.platform.errors import DomainError
from agora.platform.idempotency import SqlIdempotencyStore, StoredResponse


async def run_idempotently(
    store: SqlIdempotencyStore,
    scope: str,
    key: str,
    request_hash: str,
    handler: Callable[[], Awaitable[Response]],
) -> Response:
    """Run ``handler`` once per key; expected failures are outcomes and are replayed too."""
    stored = await store.claim(scope, key, request_hash)
    if stored is not None:
        return Response(
            stored.body,
            stored.status_code,
            headers={"Idempotent-Replayed": "true"},
            media_type="application/json",
        )
    try:
        try:
            response = await handler()
        except DomainError as exc:
            response = domain_error_response(exc)
    except BaseException:
        await store.release(scope, key)
        raise
    if response.status_code >= 500:
        await store.release(scope, key)
    else:
        await store.complete(scope, key, StoredResponse(response.status_code, bytes(response.body)))
    return response
