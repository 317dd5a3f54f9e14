"""Accounts: the one-time tokens mailed for verifying an address or resetting a password,
and what can go wrong with them (pure Python)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from agora.identity.sessions.domain import hash_refresh_token, new_refresh_token
from agora.platform.errors import ConflictError, ValidationError


class InvalidCurrentPasswordError(ValidationError):
    code = "INVALID_CURRENT_PASSWORD"
    default_message = "The current password is incorrect; the password was not changed."

    def __init__(self) -> None:
        super().__init__(field="current_password")


class EmailAlreadyVerifiedError(ConflictError):
    code = "EMAIL_ALREADY_VERIFIED"
    default_message = "This email address is already verified."


class EmailTokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose, not a secret


class InvalidEmailTokenError(ValidationError):
    """Unknown, expired or already used: one answer, so a token reveals nothing."""

    code = "INVALID_EMAIL_TOKEN"
    default_message = "This link is invalid, has expired or was already used; ask for a new one."

    def __init__(self) -> None:
        super().__init__(field="token")


@dataclass(frozen=True, slots=True)
class EmailToken:
    """A single-use token mailed to ``email``; only its SHA-256 is stored."""

    id: UUID
    user_id: UUID
    purpose: EmailTokenPurpose
    email: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


def new_email_token() -> tuple[str, str]:
    """A fresh one-time token (256 random bits, URL-safe) and the hash it is stored under."""
    return new_refresh_token()


def hash_email_token(token: str) -> str:
    return hash_refresh_token(token)
