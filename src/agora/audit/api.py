"""REST route of the audit context: query the trail (holders of ``audit:read`` only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from agora.audit.domain import ACTION_PATTERN, MAX_ACTION, AuditQuery
from agora.audit.schemas import AuditEventOut, audit_event_out
from agora.audit.services import AuditService
from agora.http import envelope
from agora.http.dependencies import CurrentPrincipal, Page, use
from agora.http.schemas import Envelope, error_responses

router = APIRouter(tags=["audit"])
Audit = Annotated[AuditService, Depends(use(AuditService))]


@router.get(
    "/audit-events",
    summary="Query the audit trail, newest first",
    description=(
        "Security and admin actions (logins, role changes, refunds, deletions, ...). "
        "Requires the `audit:read` permission (administrators). Times without an offset "
        "are read as UTC; `since` is inclusive, `until` exclusive."
    ),
    response_model=Envelope[list[AuditEventOut]],
    responses=error_responses(401, 403, 422),
)
async def list_audit_events(
    *,
    audit: Audit,
    principal: CurrentPrincipal,
    page: Page,
    actor: Annotated[UUID | None, Query(description="Only actions by this user id")] = None,
    action: Annotated[
        str | None,
        Query(
            max_length=MAX_ACTION,
            pattern=ACTION_PATTERN,
            description="Only this action, e.g. `auth.login`",
        ),
    ] = None,
    since: Annotated[datetime | None, Query(description="Inclusive, ISO 8601")] = None,
    until: Annotated[datetime | None, Query(description="Exclusive, ISO 8601")] = None,
) -> Response:
    found, total = await audit.query(
        principal, AuditQuery(actor, action, since, until), page.offset, page.page_size
    )
    return envelope.ok(
        [audit_event_out(record) for record in found],
        pagination=envelope.pagination(page.page, page.page_size, total),
    )
