"""Second factors: TOTP credentials (RFC 6238), recovery codes and login challenges (pure Python).

A TOTP code is accepted within one time step of drift either way, but never for a
step at or before the last one accepted for the same user: a code that worked once is
refused if presented again (RFC 6238, section 5.2). Recovery codes and challenge tokens
are random strings: only a SHA-256 is stored, salted per code for recovery codes.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import pyotp

from agora.platform.errors import (
    AuthenticationError,
    ConflictError,
    RateLimitedError,
    ValidationError,
)

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
# 16 symbols of a 32-letter alphabet: 80 random bits, beyond offline guessing of a SHA-256.
RECOVERY_CODE_LENGTH = 16
RECOVERY_CODE_GROUP = 4
RECOVERY_SALT_BYTES = 16
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1: nothing to misread
MAX_CHALLENGE_ATTEMPTS = 5
# After this many wrong codes in a row an account takes one guess per LOCKOUT: a stolen
# password alone cannot be turned into a brute force of the six digits.
LOCKOUT_AFTER_FAILURES = 10
LOCKOUT = timedelta(minutes=15)
CHALLENGE_TOKEN_BYTES = 32


class InvalidMfaCodeError(ValidationError):
    """A wrong code where the caller is already signed in (confirm, disable): a 422."""

    code = "INVALID_MFA_CODE"
    default_message = (
        "The code is not valid. Enter the current 6-digit code from your authenticator app "
        "(each code works once) or an unused recovery code."
    )

    def __init__(self, message: str | None = None, **details: object) -> None:
        super().__init__(message, field="code", **details)


class InvalidSecondFactorError(AuthenticationError):
    """A wrong code at the second step of a login: the login is not complete, a 401."""

    code = "INVALID_MFA_CODE"
    default_message = InvalidMfaCodeError.default_message


class InvalidMfaTokenError(AuthenticationError):
    code = "INVALID_MFA_TOKEN"
    default_message = (
        "The MFA token is invalid, expired or used up; log in again with your password."
    )


class MfaAlreadyEnabledError(ConflictError):
    code = "MFA_ALREADY_ENABLED"
    default_message = (
        "Multi-factor authentication is already enabled; disable it first to enroll "
        "another authenticator."
    )


class MfaNotEnabledError(ConflictError):
    code = "MFA_NOT_ENABLED"
    default_message = "Multi-factor authentication is not enabled for this account."


class MfaEnrollmentNotStartedError(ConflictError):
    code = "MFA_ENROLLMENT_NOT_STARTED"
    default_message = (
        "There is no enrollment to confirm; start one with POST /api/v1/auth/mfa/totp/enroll."
    )


class MfaLockedError(RateLimitedError):
    code = "MFA_LOCKED"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            retry_after,
            f"Too many wrong codes in a row; try again in {retry_after} seconds.",
        )


@dataclass(frozen=True, slots=True)
class TotpCredential:
    """A user's authenticator: pending until a first code confirms it, then enabled."""

    user_id: UUID
    # None when the stored secret can no longer be decrypted (the secret key changed):
    # TOTP codes then fail and only recovery codes (or an operator reset) get the user in.
    secret: str | None
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None = None
    last_used_step: int | None = None
    failed_attempts: int = 0
    last_failed_at: datetime | None = None

    @property
    def enabled(self) -> bool:
        return self.confirmed_at is not None

    def locked_for(self, now: datetime) -> int:
        """Seconds until the next code may be tried; 0 when codes may be tried now."""
        if self.failed_attempts < LOCKOUT_AFTER_FAILURES or self.last_failed_at is None:
            return 0
        remaining = (self.last_failed_at + LOCKOUT - now).total_seconds()
        return max(0, math.ceil(remaining))


@dataclass(frozen=True, slots=True)
class RecoveryCode:
    """A stored recovery code: a per-code salt and the salted SHA-256, never the code."""

    id: UUID
    user_id: UUID
    salt: str
    code_hash: str
    created_at: datetime
    used_at: datetime | None = None

    @classmethod
    def of(cls, id: UUID, user_id: UUID, code: str, now: datetime) -> RecoveryCode:
        normalised = normalise_recovery_code(code)
        if normalised is None:
            raise ValueError("not a recovery code")
        salt = secrets.token_hex(RECOVERY_SALT_BYTES)
        return cls(id, user_id, salt, hash_recovery_code(normalised, salt), now)

    def matches(self, normalised: str) -> bool:
        return hmac.compare_digest(hash_recovery_code(normalised, self.salt), self.code_hash)


@dataclass(frozen=True, slots=True)
class MfaChallenge:
    """The stored half of a login waiting for its second factor."""

    id: UUID
    user_id: UUID
    token_hash: str
    created_at: datetime
    expires_at: datetime
    attempts: int = 0
    used_at: datetime | None = None

    def is_open(self, now: datetime) -> bool:
        return (
            self.used_at is None
            and now < self.expires_at
            and self.attempts < (MAX_CHALLENGE_ATTEMPTS)
        )


@dataclass(frozen=True, slots=True)
class TotpEnrollment:
    secret: str
    otpauth_uri: str
    qr_svg: str


@dataclass(frozen=True, slots=True)
class MfaStatus:
    enabled: bool
    pending: bool
    recovery_codes_left: int


# -- TOTP ---------------------------------------------------------------------------------


def new_totp_secret() -> str:
    """160 random bits in base32, the key length RFC 4226 recommends."""
    return pyotp.random_base32(length=32)


def otpauth_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def normalise_totp(code: str) -> str | None:
    """The six digits of a TOTP code typed with or without spaces; None if it is not one."""
    digits = "".join(code.split())
    if len(digits) == DIGITS and digits.isascii() and digits.isdigit():
        return digits
    return None


def matching_step(secret: str, code: str, now: datetime, *, after: int | None = None) -> int | None:
    """The time step ``code`` belongs to, within the allowed drift and after ``after``."""
    digits = normalise_totp(code)
    if digits is None:
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = time_step(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


# -- recovery codes -----------------------------------------------------------------------


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Fresh codes for display, grouped for reading: ``ABCD-EFGH-JKLM-NPQR``."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        groups = [raw[i : i + RECOVERY_CODE_GROUP] for i in range(0, len(raw), RECOVERY_CODE_GROUP)]
        codes.append("-".join(groups))
    return codes


def normalise_recovery_code(code: str) -> str | None:
    """The code as stored (upper case, no spaces or dashes); None if it cannot be one."""
    raw = "".join(code.split()).replace("-", "").upper()
    if len(raw) == RECOVERY_CODE_LENGTH and all(c in _RECOVERY_ALPHABET for c in raw):
        return raw
    return None


def hash_recovery_code(normalised: str, salt: str) -> str:
    # A fast hash suffices at 80 random bits; the salt makes every code its own search
    # (ASVS 2.6.2; ADR 0018).
    return hashlib.sha256(f"{salt}:{normalised}".encode("ascii")).hexdigest()


# -- challenge tokens ---------------------------------------------------------------------


def new_challenge_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(CHALLENGE_TOKEN_BYTES)
    return token, hash_challenge_token(token)


def hash_challenge_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
