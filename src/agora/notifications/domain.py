"""Email as the platform sends it: one plain-text message to one recipient (pure Python)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

MAX_ADDRESS_LENGTH = 320
MAX_SUBJECT_LENGTH = 200
_LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True, slots=True)
class EmailMessage:
    sender: str
    to: str
    subject: str
    text: str

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
