"""What every identity capability shares: the user, the sign-in errors, and the rules for
emails and names (pure Python)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from email_validator import EmailNotValidError, validate_email

from agora.platform.access import Role
from agora.platform.errors import AuthenticationError, PermissionDeniedError, ValidationError
from agora.platform.events import DomainEvent
from agora.platform.ids import new_id

MAX_NAME_LENGTH = 100
MAX_EMAIL_LENGTH = 254
# The password policy's upper bound; request bodies allow some slack above it.
MAX_PASSWORD_LENGTH = 128


class InvalidCredentialsError(AuthenticationError):
    """Wrong email or password; deliberately silent about which one (and about inactive users)."""

    code = "INVALID_CREDENTIALS"
    default_message = "The email or password is incorrect."


class CsrfFailedError(PermissionDeniedError):
    """A cookie-authenticated request that changes something came without the session's
    CSRF token (or with another one): it may have been forged by another site."""

    code = "CSRF_FAILED"
    default_message = (
        "This request needs the X-CSRF-Token header of your session; reload and try again."
    )


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    email: str
    name: str
    password_hash: str
    role: Role
    is_active: bool
    email_verified_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def renamed(self, name: str, now: datetime) -> User:
        return replace(self, name=name, updated_at=now, version=self.version + 1)

    def with_role(self, role: Role, now: datetime) -> User:
        return replace(self, role=role, updated_at=now, version=self.version + 1)

    def deactivated(self, now: datetime) -> User:
        return replace(self, is_active=False, updated_at=now, version=self.version + 1)

    @property
    def is_active_admin(self) -> bool:
        return self.is_active and self.role is Role.ADMIN

    def with_access(self, role: Role, is_active: bool, now: datetime) -> User:
        """Role and activation set by an administrator, as one versioned change."""
        if (role, is_active) == (self.role, self.is_active):
            return self
        return replace(
            self, role=role, is_active=is_active, updated_at=now, version=self.version + 1
        )


def user_registered(user: User) -> DomainEvent:
    return DomainEvent(
        name="identity.UserRegistered",
        aggregate_id=user.id,
        payload={"user_id": str(user.id), "email": user.email, "role": user.role.value},
    )


def password_reset_requested(email: str) -> DomainEvent:
    """Its own aggregate per request: one request never waits behind another."""
    return DomainEvent(
        name="identity.PasswordResetRequested", aggregate_id=new_id(), payload={"email": email}
    )


def normalise_email(email: str) -> str:
    """Trimmed, lower-cased and syntactically valid; ``ValidationError`` otherwise."""
    candidate = email.strip()
    if not candidate or len(candidate) > MAX_EMAIL_LENGTH:
        raise ValidationError("Enter a valid email address.", field="email")
    try:
        valid = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(f"Enter a valid email address: {exc}", field="email") from None
    return valid.normalized.lower()


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH or not cleaned.isprintable():
        raise ValidationError(
            f"The name must be 1 to {MAX_NAME_LENGTH} printable characters.", field="name"
        )
    return cleaned
