"""The development mailbox: ``/dev/mailbox`` (HTML) and ``/dev/mailbox.json``.

Mounted only outside production (see ``agora.app``): it shows every message, including
password reset links, to anyone who can reach the server.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from agora.http import envelope
from agora.http.dependencies import use
from agora.http.pages import escape, page
from agora.notifications.domain import DeliveredMessage
from agora.notifications.services import MailService

router = APIRouter(prefix="/dev", include_in_schema=False)
Mail = Annotated[MailService, Depends(use(MailService))]


@router.get("/mailbox")
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


@router.get("/mailbox.json")
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
