"""Routes of notifications: staff's view of queued, sent and failed mail, and the
development mailbox.

``/api/v1/notifications/mail``: holders of ``mail:manage`` (staff, administrators) list
messages, read one and re-send it. ``/dev/mailbox`` (HTML) and ``/dev/mailbox.json`` are
mounted only outside production (see ``agora.app``): they show every message, including
password reset links, to anyone who can reach the server.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from agora.http import envelope
from agora.http.dependencies import CurrentPrincipal, Page, use
from agora.http.pages import escape, page
from agora.http.schemas import Envelope, error_responses
from agora.notifications.administration import MailAdministration
from agora.notifications.domain import MAX_ADDRESS_LENGTH, DeliveredMessage, MailQuery, MailStatus
from agora.notifications.schemas import (
    MailMessageOut,
    MailMessageSummaryOut,
    message_out,
    summary_out,
)
from agora.notifications.services import MailService

router = APIRouter(prefix="/notifications/mail", tags=["notifications"])
dev_router = APIRouter(prefix="/dev", include_in_schema=False)
Mail = Annotated[MailService, Depends(use(MailService))]
Staff = Annotated[MailAdministration, Depends(use(MailAdministration))]


@router.get(
    "",
    summary="List mail messages, newest first",
    description="Requires `mail:manage` (staff, administrators). Filter by `status` "
    "(`queued`, `sent`, `failed`) and by exact recipient address `to`.",
    response_model=Envelope[list[MailMessageSummaryOut]],
    responses=error_responses(401, 403, 422),
)
async def list_mail(
    *,
    staff: Staff,
    principal: CurrentPrincipal,
    page: Page,
    status: Annotated[MailStatus | None, Query(description="Only messages in this status")] = None,
    to: Annotated[
        str | None,
        Query(min_length=3, max_length=MAX_ADDRESS_LENGTH, description="Only mail to this address"),
    ] = None,
) -> Response:
    query = MailQuery(status=status, to=to.strip().lower() if to else None)
    found, total = await staff.search(principal, query, page.offset, page.page_size)
    return envelope.ok(
        [summary_out(message) for message in found],
        pagination=envelope.pagination(page.page, page.page_size, total),
    )


@router.get(
    "/{message_id}",
    summary="Read one mail message",
    description="The body is withheld (`body_withheld`) when it holds a one-time sign-in "
    "or password reset link.",
    response_model=Envelope[MailMessageOut],
    responses=error_responses(401, 403, 404, 422),
)
async def get_mail(message_id: UUID, staff: Staff, principal: CurrentPrincipal) -> Response:
    return envelope.ok(message_out(await staff.get(principal, message_id)))


@router.post(
    "/{message_id}/resend",
    status_code=202,
    summary="Send a sent or failed message again",
    description="Queues the stored message for a new attempt through the events backbone "
    "(retried like the first). 409 `MAIL_ALREADY_QUEUED` while it is still queued. "
    "Recorded in the audit trail.",
    response_model=Envelope[MailMessageOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def resend_mail(message_id: UUID, staff: Staff, principal: CurrentPrincipal) -> Response:
    return envelope.ok(message_out(await staff.resend(principal, message_id)), status_code=202)


@dev_router.get("/mailbox")
async def mailbox_page(mail: Mail) -> Response:
    messages = mail.kept_messages()
    if messages is None:
        return page(
            "Mailbox",
            '<p class="note">Mail goes out through SMTP (<code>AGORA_MAIL_BACKEND=smtp</code>); '
            "read it where that server delivers it.</p>",
        )
    if not messages:
        return page("Mailbox", '<p class="note">No mail yet.</p>')
    parts = [f'<p class="note">{len(messages)} most recent messages, newest first.</p>']
    for delivered in messages:
        message = delivered.message
        links = "".join(
            f'<li><a href="{escape(link)}">{escape(link)}</a></li>' for link in message.links
        )
        parts.append(
            "<article>"
            f"<h2>{escape(message.subject)}</h2>"
            f"<p>To <strong>{escape(message.to)}</strong> from {escape(message.sender)}, "
            f"{escape(delivered.sent_at.isoformat(timespec='seconds'))}</p>"
            f"{f'<ul>{links}</ul>' if links else ''}"
            f"<pre>{escape(message.text)}</pre>"
            "</article>"
        )
    return page("Mailbox", "".join(parts))


@dev_router.get("/mailbox.json")
async def mailbox_json(mail: Mail) -> Response:
    messages = mail.kept_messages() or ()
    return envelope.ok([_message_out(delivered) for delivered in messages])


def _message_out(delivered: DeliveredMessage) -> dict[str, Any]:
    message = delivered.message
    return {
        "id": delivered.id,
        "sent_at": delivered.sent_at,
        "from": message.sender,
        "to": message.to,
        "subject": message.subject,
        "text": message.text,
        "links": list(message.links),
    }
