"""Notifications' wiring: the mail service and staff's side of it, the consumers that
send queued mail and confirm paid orders, and who an order's customer is for mail.

Identity owns the accounts; notifications asks for an address through its
``RecipientDirectory`` port, which ``AccountRecipients`` implements over identity's
``AccountService`` here, so neither context imports the other.
"""

from __future__ import annotations

from uuid import UUID

from agora.identity.accounts.services import AccountService
from agora.notifications.administration import MailAdministration
from agora.notifications.consumers import mail_sender_consumer, order_confirmation_consumer
from agora.notifications.domain import Recipient
from agora.notifications.ports import NotificationsUnitOfWorkFactory
from agora.notifications.services import MailService
from agora.platform.audit import AuditTrail
from agora.platform.events.consumers import Consumer


class AccountRecipients:
    """``RecipientDirectory`` over identity's accounts."""

    def __init__(self, accounts: AccountService) -> None:
        self._accounts = accounts

    async def recipient(self, user_id: UUID) -> Recipient | None:
        contact = await self._accounts.mail_contact(user_id)
        return None if contact is None else Recipient(email=contact[0], name=contact[1])


def build_mail_administration(
    uow: NotificationsUnitOfWorkFactory, audit: AuditTrail
) -> MailAdministration:
    return MailAdministration(uow, audit)


def notification_consumers(
    mail: MailService,
    accounts: AccountService,
    uow: NotificationsUnitOfWorkFactory,
    *,
    max_attempts: int,
) -> list[Consumer]:
    return [
        mail_sender_consumer(mail, max_attempts=max_attempts),
        order_confirmation_consumer(mail, AccountRecipients(accounts), uow),
    ]
