"""Signing in with an OpenID Connect provider: what the provider vouches for, the pending
login kept between the redirect and the callback, the link between an account and a
provider identity, and the ways a login can fail (pure Python).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from agora.platform.errors import (
    AuthenticationError,
    ConflictError,
    DependencyUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)

STATE_BYTES = 32
NONCE_BYTES = 32
# 64 characters of the URL-safe alphabet: inside RFC 7636's 43..128 and all "unreserved".
CODE_VERIFIER_BYTES = 48
BROWSER_BINDING_BYTES = 32
MAX_SUBJECT_LENGTH = 255


@dataclass(frozen=True, slots=True)
class OidcIdentity:
    """Claims of a verified ID token (and the UserInfo answer, when the token lacked them)."""

    issuer: str
    subject: str
    nonce: str | None
    email: str | None = None
    email_verified: bool = False
    name: str | None = None


@dataclass(frozen=True, slots=True)
class OidcLink:
    """An account's link to one identity at one provider; ``(issuer, subject)`` is unique."""

    id: UUID
    user_id: UUID
    issuer: str
    subject: str
    email: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LoginState:
    """A sign-in started by ``/oidc/login`` and not yet finished by the callback.

    Only hashes of the ``state`` and of the browser-binding cookie are stored: a copy of
    the table does not let anyone finish somebody else's sign-in.
    """

    id: UUID
    state_hash: str
    browser_hash: str
    nonce: str
    code_verifier: str
    redirect_uri: str  # the callback address sent to the provider; the token request repeats it
    return_to: str | None  # an allow-listed front-end address, or None for a JSON answer
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    @property
    def was_used(self) -> bool:
        return self.used_at is not None


def random_secret(nbytes: int) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """SHA-256 hex: enough for high-entropy values, which cannot be guessed from it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def code_challenge(code_verifier: str) -> str:
    """The PKCE ``S256`` challenge (RFC 7636 section 4.2)."""
    hashed = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(hashed).rstrip(b"=").decode("ascii")


# -- failures -----------------------------------------------------------------------------


class OidcNotConfiguredError(NotFoundError):
    code = "OIDC_NOT_CONFIGURED"
    default_message = "Signing in with an OpenID Connect provider is not set up on this shop."


class OidcRedirectNotAllowedError(ValidationError):
    code = "OIDC_REDIRECT_NOT_ALLOWED"
    default_message = "redirect_uri is not one of the addresses this shop allows after signing in."


class OidcLoginError(AuthenticationError):
    """The sign-in could not be completed; nothing was created or changed."""

    code = "OIDC_LOGIN_FAILED"
    default_message = "Signing in with the provider failed; start again."


class OidcStateInvalidError(OidcLoginError):
    code = "OIDC_STATE_INVALID"
    default_message = "This sign-in is unknown to us; start signing in again."


class OidcStateExpiredError(OidcLoginError):
    code = "OIDC_STATE_EXPIRED"
    default_message = "This sign-in took too long and has expired; start signing in again."


class OidcStateUsedError(OidcLoginError):
    code = "OIDC_STATE_USED"
    default_message = "This sign-in was already completed; start signing in again."


class OidcBrowserMismatchError(OidcLoginError):
    code = "OIDC_BROWSER_MISMATCH"
    default_message = (
        "This sign-in was started in another browser (or its cookie was removed); "
        "start signing in again here."
    )


class OidcIssuerMismatchError(OidcLoginError):
    code = "OIDC_ISSUER_MISMATCH"
    default_message = "The answer came from another provider than the one configured."


class OidcProviderRefusedError(OidcLoginError):
    """The provider sent the browser back with an ``error`` (e.g. the user said no)."""

    code = "OIDC_PROVIDER_ERROR"
    default_message = "The provider did not sign you in."


class OidcCodeRejectedError(OidcLoginError):
    code = "OIDC_CODE_REJECTED"
    default_message = "The provider refused to confirm this sign-in; start signing in again."


class OidcIdTokenInvalidError(OidcLoginError):
    code = "OIDC_ID_TOKEN_INVALID"
    default_message = "The provider's answer could not be verified; start signing in again."


class OidcEmailMissingError(OidcLoginError):
    code = "OIDC_EMAIL_MISSING"
    default_message = (
        "The provider did not share a usable email address; allow the shop to see your "
        "email address and try again."
    )


class OidcEmailNotVerifiedError(ConflictError):
    code = "OIDC_EMAIL_NOT_VERIFIED"
    default_message = (
        "An account with this email address already exists, and the provider has not "
        "verified that the address is yours. Verify it at the provider, or sign in with "
        "your password."
    )


class AccountDeactivatedError(PermissionDeniedError):
    code = "ACCOUNT_DEACTIVATED"
    default_message = "This account is deactivated; contact the shop."


class OidcProviderUnavailableError(DependencyUnavailableError):
    """The provider cannot be reached, answers with a server error or is misconfigured."""

    default_message = "The sign-in provider is not answering right now; try again shortly."

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message, dependency="oidc_provider", reason=reason)
