"""Staff routes of the events backbone: backlog and lag, dead letters, replay, purge.

Reading needs ``events:read`` (staff and administrators), replaying and purging
``events:manage`` (administrators); ``EventsOperations`` checks both and audits the
changes with the caller as actor.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from agora.http import envelope
from agora.http.dependencies import CurrentPrincipal, Page, use
from agora.http.events.schemas import (
    DeadLetterOut,
    EventsStatusOut,
    PurgeOut,
    PurgeRequest,
    ReplayOut,
    ReplayRequest,
    dead_letter_out,
    status_out,
)
from agora.http.schemas import Envelope, error_responses
from agora.platform.events.operations import EventsOperations

router = APIRouter(prefix="/events", tags=["events"], responses=error_responses(401, 403))
Operations = Annotated[EventsOperations, Depends(use(EventsOperations))]


@router.get(
    "/status",
    summary="Outbox backlog, each consumer's lag and the dead letters",
    description="Requires `events:read` (staff, administrators).",
    response_model=Envelope[EventsStatusOut],
)
async def events_status(operations: Operations, principal: CurrentPrincipal) -> Response:
    return envelope.ok(status_out(await operations.status(principal)))


@router.get(
    "/dead-letters",
    summary="Events a consumer gave up on (or the relay refused), oldest failure first",
    description="Requires `events:read`. `consumer=relay` lists refused outbox rows.",
    response_model=Envelope[list[DeadLetterOut]],
    responses=error_responses(422),
)
async def list_dead_letters(
    operations: Operations,
    principal: CurrentPrincipal,
    page: Page,
    consumer: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only this consumer's")
    ] = None,
) -> Response:
    found, total = await operations.dead_letters(
        principal, consumer=consumer, limit=page.page_size, offset=page.offset
    )
    return envelope.ok(
        [dead_letter_out(letter) for letter in found],
        pagination=envelope.pagination(page.page, page.page_size, total),
    )


@router.post(
    "/dead-letters/replay",
    summary="Put dead letters back to be handled again",
    description=(
        'Requires `events:manage` (administrators). Body: `{"ids": [...]}` or '
        '`{"all": true}`, either with an optional `"consumer"`. Audited.'
    ),
    response_model=Envelope[ReplayOut],
    responses=error_responses(422),
)
async def replay_dead_letters(
    operations: Operations, principal: CurrentPrincipal, body: ReplayRequest
) -> Response:
    outcome = await operations.replay(principal, body.selection())
    return envelope.ok({"replayed": outcome.changed, "missing": list(outcome.missing)})


@router.post(
    "/dead-letters/purge",
    summary="Drop dead letters for good",
    description=(
        "Requires `events:manage`. Same body as replay, plus `older_than_days` to keep "
        "recent failures. A purged event redelivered later is still ignored. Audited."
    ),
    response_model=Envelope[PurgeOut],
    responses=error_responses(422),
)
async def purge_dead_letters(
    operations: Operations, principal: CurrentPrincipal, body: PurgeRequest
) -> Response:
    outcome = await operations.purge(principal, body.selection())
    return envelope.ok({"purged": outcome.changed, "missing": list(outcome.missing)})
