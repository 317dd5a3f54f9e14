"""Email as the platform sends it, and the mail it keeps until it is delivered (pure Python).

A ``MailMessage`` is one queued email: written in the transaction of the change that
causes it, sent later by the events backbone, and kept with its outcome (sent with the
server's Message-ID, or failed with the last error) so staff can see and re-send it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

MAX_ADDRESS_LENGTH = 320
MAX_SUBJECT_LENGTH = 200
MAX_KIND_LENGTH = 60
_LINK = re.compile(r"https?://[^\s<>\"']+")

# Kinds whose body carries a one-time link that signs its holder in (or resets the
# password): staff see that such a message exists and its outcome, never its body.
SECRET_BODY_KINDS = frozenset({"identity.verify-email", "identity.password-reset"})


@dataclass(frozen=True, slots=True)
class EmailMessage:
    sender: str
    to: str
    subject: str
    text: str
    html: str | None = None

    def __post_init__(self) -> None:
        # A line break in a header would let a caller add headers (or recipients).
        for name, value, limit in (
            ("sender", self.sender, MAX_ADDRESS_LENGTH),
            ("to", self.to, MAX_ADDRESS_LENGTH),
            ("subject", self.subject, MAX_SUBJECT_LENGTH),
        ):
            if not value or len(value) > limit or "\r" in value or "\n" in value:
                raise ValueError(f"an email's {name} must be one line of 1 to {limit} characters")
        if "@" not in self.to:
            raise ValueError("an email's recipient must be an address")

    @property
    def links(self) -> tuple[str, ...]:
        """The web links in the body, in order (what a reader would click).

        Punctuation that ends a sentence after a link is not part of it.
        """
        return tuple(link.rstrip(".,;:!?)") for link in _LINK.findall(self.text))


@dataclass(frozen=True, slots=True)
class DeliveredMessage:
    """A message as a mailbox keeps it: with an id and the time it was sent."""

    id: UUID
    message: EmailMessage
    sent_at: datetime


class MailStatus(StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt
    SENT = "sent"  # the mail server accepted it
    FAILED = "failed"  # every attempt failed; staff may re-send it


@dataclass(frozen=True, slots=True)
class MailMessage:
    id: UUID
    to: str
    subject: str
    text: str
    html: str | None
    kind: str  # what it is, e.g. ``identity.password-reset``, ``ordering.confirmation``
    status: MailStatus
    attempts: int
    last_error: str | None
    provider_message_id: str | None  # the Message-ID the mail server accepted
    created_at: datetime
    sent_at: datetime | None
    last_attempt_at: datetime | None
    user_id: UUID | None
    # At most one message per key (one confirmation per order); None: no such rule.
    dedupe_key: str | None = None

    @property
    def body_is_secret(self) -> bool:
        return self.kind in SECRET_BODY_KINDS

    def email(self, sender: str) -> EmailMessage:
        return EmailMessage(
            sender=sender, to=self.to, subject=self.subject, text=self.text, html=self.html
        )


@dataclass(frozen=True, slots=True)
class MailQuery:
    status: MailStatus | None = None
    to: str | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where mail for a user goes."""

    email: str
    name: str
