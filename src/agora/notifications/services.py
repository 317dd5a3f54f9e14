"""Mail on behalf of the other contexts: queued in the caller's transaction, sent by the
events backbone, and what the development mailbox kept.

``queue`` writes the message and a ``notifications.MailQueued`` event in the unit of
work of the change that causes the mail: a rolled-back change sends nothing, and a
committed one is sent even when the mail server is down at that moment (the
``notifications.mail-sender`` consumer retries with backoff; ``deliver`` is its work).
Contexts never import each other, so identity declares a small port of its own
(``queue(uow, ...)``) and the composition root hands it this service.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from uuid import UUID

from agora.notifications.domain import (
    DeliveredMessage,
    MailMessage,
    MailStatus,
)
from agora.notifications.events import MAIL_QUEUED, MailQueued
from agora.notifications.ports import (
    Mailbox,
    Mailer,
    MailMessagesIn,
    MailServerProbe,
    NotificationsUnitOfWorkFactory,
)
from agora.platform.clock import utcnow
from agora.platform.errors import DependencyUnavailableError
from agora.platform.events import DomainEvent
from agora.platform.ids import new_id
from agora.platform.logging import get_logger
from agora.platform.unit_of_work import UnitOfWork

log = get_logger("agora.notifications")


class MailDegradedError(Exception):
    """Mail is not going out right now; orders still are (readiness shows ``degraded``)."""


class LastSendFailedError(MailDegradedError):
    pass


class MailServerUnreachableError(MailDegradedError):
    pass


def queued_event(message_id: UUID, kind: str) -> DomainEvent:
    payload = MailQueued(message_id=message_id, kind=kind).model_dump(mode="json")
    return DomainEvent(MAIL_QUEUED, message_id, payload)


class MailService:
    def __init__(
        self,
        mailer: Mailer,
        sender: str,
        *,
        uow: NotificationsUnitOfWorkFactory,
        messages_in: MailMessagesIn,
        mailbox: Mailbox | None = None,
        probe: MailServerProbe | None = None,
        probe_cache_seconds: float = 15.0,
    ) -> None:
        self._mailer = mailer
        self._sender = sender
        self._uow = uow
        self._messages_in = messages_in
        # The development mailbox, when mail goes there (``/dev/mailbox`` reads it).
        self._mailbox = mailbox
        self._probe = probe
        self._probe_cache_seconds = probe_cache_seconds
        self._probed: tuple[float, BaseException | None] | None = None

    async def queue(
        self,
        uow: UnitOfWork,
        *,
        to: str,
        subject: str,
        text: str,
        kind: str,
        html: str | None = None,
        user_id: UUID | None = None,
        dedupe_key: str | None = None,
    ) -> UUID | None:
        """Queue a message in the caller's open unit of work (the caller commits).

        Returns its id; None when a message with ``dedupe_key`` was queued before.
        Raises ``ValueError`` for a message no server would take (a header with a line
        break, no recipient address).
        """
        message = MailMessage(
            id=new_id(),
            to=to,
            subject=subject,
            text=text,
            html=html,
            kind=kind,
            status=MailStatus.QUEUED,
            attempts=0,
            last_error=None,
            provider_message_id=None,
            created_at=utcnow(),
            sent_at=None,
            last_attempt_at=None,
            user_id=user_id,
            dedupe_key=dedupe_key,
        )
        message.email(self._sender)  # checks the headers now, not at the first attempt
        if not await self._messages_in(uow).add(message):
            return None
        uow.record(queued_event(message.id, kind))
        return message.id

    async def deliver(self, message_id: UUID, *, final_attempt: bool) -> None:
        """Send a queued message once: a message already sent is not sent again.

        A failure is recorded on the message and re-raised, so the backbone tries again
        later; on the ``final_attempt`` the message is marked failed.
        """
        async with self._uow(read_only=True) as uow:
            message = await uow.mail.get(message_id)
        if message is None:
            log.warning("mail_message_missing", message_id=str(message_id))
            return
        if message.status is MailStatus.SENT:
            return
        try:
            provider_id = await self._mailer.send(message.email(self._sender))
        except Exception as exc:
            error = (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:500]
            async with self._uow() as uow:
                await uow.mail.record_failure(message_id, error, utcnow(), final=final_attempt)
                await uow.commit()
            if final_attempt:
                log.error("mail_failed", message_id=str(message_id), kind=message.kind)
            raise
        # The server just took a message: that answers readiness's probe as well.
        self._probed = (time.monotonic(), None)
        async with self._uow() as uow:
            await uow.mail.record_sent(message_id, provider_id, utcnow())
            await uow.commit()

    async def check(self) -> None:
        """Readiness: raises ``MailDegradedError`` when the last attempt failed or the
        mail server does not answer (checked at most every ``probe_cache_seconds``)."""
        async with self._uow(read_only=True) as uow:
            last = await uow.mail.last_outcome()
        if last is not None and last.status is not MailStatus.SENT and last.last_error:
            raise LastSendFailedError()
        if self._probe is None:
            return
        now = time.monotonic()
        if self._probed is None or now - self._probed[0] > self._probe_cache_seconds:
            outcome: BaseException | None = None
            try:
                await self._probe()
            except (DependencyUnavailableError, OSError, TimeoutError) as exc:
                outcome = exc
            self._probed = (now, outcome)
        if self._probed[1] is not None:
            raise MailServerUnreachableError()

    def kept_messages(self) -> Sequence[DeliveredMessage] | None:
        """The development mailbox's messages, newest first; None when mail goes out
        through SMTP and is kept nowhere here."""
        return None if self._mailbox is None else self._mailbox.recent()
