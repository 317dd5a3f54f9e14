"""Staff's side of mail: see what was queued, sent or failed, and send a message again.

Holders of ``mail:manage`` (staff and administrators). A re-send puts the stored
message back on the events backbone as a new ``MailQueued`` event: it goes out through
the same sender, with the same retries, as the first attempt. Bodies with a one-time
sign-in or reset link are never shown (``MailMessage.body_is_secret``).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from agora.notifications.domain import MailMessage, MailQuery
from agora.notifications.ports import NotificationsUnitOfWorkFactory
from agora.notifications.services import queued_event
from agora.platform.access import Permission, Principal
from agora.platform.audit import AuditTrail
from agora.platform.errors import ConflictError, NotFoundError


class MailNotFoundError(NotFoundError):
    default_message = "No mail message has this id."


class MailAlreadyQueuedError(ConflictError):
    code = "MAIL_ALREADY_QUEUED"
    default_message = "The message is queued already; it goes out with its next attempt."


class MailAdministration:
    def __init__(self, uow: NotificationsUnitOfWorkFactory, audit: AuditTrail) -> None:
        self._uow = uow
        self._audit = audit

    async def search(
        self, principal: Principal, query: MailQuery, offset: int, limit: int
    ) -> tuple[Sequence[MailMessage], int]:
        principal.require(Permission.MAIL_MANAGE)
        async with self._uow(read_only=True) as uow:
            return await uow.mail.search(query, offset, limit)

    async def get(self, principal: Principal, message_id: UUID) -> MailMessage:
        principal.require(Permission.MAIL_MANAGE)
        async with self._uow(read_only=True) as uow:
            message = await uow.mail.get(message_id)
        if message is None:
            raise MailNotFoundError()
        return message

    async def resend(self, principal: Principal, message_id: UUID) -> MailMessage:
        """Queue a sent or failed message again. One still queued is refused (409
        ``MAIL_ALREADY_QUEUED``): its attempt is under way, so a double click sends once."""
        principal.require(Permission.MAIL_MANAGE)
        async with self._uow() as uow:
            message = await uow.mail.get(message_id)
            if message is None:
                raise MailNotFoundError()
            if not await uow.mail.requeue(message_id):
                raise MailAlreadyQueuedError()
            uow.record(queued_event(message_id, message.kind))
            current = await uow.mail.get(message_id)
            await uow.commit()
        assert current is not None
        await self._audit.record(
            "notifications.mail_resent",
            actor_id=principal.user_id,
            target_type="mail_message",
            target_id=str(message_id),
            details={"kind": message.kind, "previous_status": message.status.value},
        )
        return current
