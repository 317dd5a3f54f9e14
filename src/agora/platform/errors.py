"""One error tree for the whole platform.

Every failure a user can cause or notice is one of these, with a stable ``code`` that
clients may rely on. The edges (REST API, CLI) translate the tree in exactly one place
each; nothing below the edge knows about HTTP status codes::

    DomainError                      code
    ├── ValidationError              VALIDATION_ERROR
    │   └── IdempotencyKeyReusedError IDEMPOTENCY_KEY_REUSED
    ├── AuthenticationError          UNAUTHENTICATED
    ├── PermissionDeniedError        FORBIDDEN
    │   ├── MfaRequiredError         MFA_REQUIRED
    │   └── SessionRequiredError     SESSION_REQUIRED
    ├── NotFoundError                NOT_FOUND
    ├── ConflictError                CONFLICT
    │   ├── AlreadyExistsError       ALREADY_EXISTS
    │   ├── StaleVersionError        VERSION_CONFLICT
    │   ├── IllegalTransitionError   INVALID_STATE_TRANSITION
    │   ├── OutOfStockError          OUT_OF_STOCK
    │   └── RequestInProgressError   REQUEST_IN_PROGRESS
    ├── PaymentDeclinedError         PAYMENT_DECLINED
    ├── RateLimitedError             RATE_LIMITED
    └── DependencyUnavailableError   SERVICE_UNAVAILABLE
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every expected failure; carries a stable code, a message and details."""

    code: ClassVar[str] = "DOMAIN_ERROR"
    default_message: ClassVar[str] = "The request could not be completed."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details: dict[str, Any] = details
        super().__init__(self.message)


class ValidationError(DomainError):
    """Input is well-formed but breaks a rule (a field value, a quantity, a password)."""

    code = "VALIDATION_ERROR"
    default_message = "The request is not valid."


class IdempotencyKeyReusedError(ValidationError):
    """The same Idempotency-Key was sent with a different request body."""

    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This Idempotency-Key was already used with a different request."


class AuthenticationError(DomainError):
    """Missing, invalid or expired credentials."""

    code = "UNAUTHENTICATED"
    default_message = "Authentication is required."


class PermissionDeniedError(DomainError):
    """Authenticated, but the actor's role does not allow the action."""

    code = "FORBIDDEN"
    default_message = "You do not have permission to do this."


class MfaRequiredError(PermissionDeniedError):
    """The role's permissions need a session opened with a second factor, and this one was not."""

    code = "MFA_REQUIRED"
    default_message = (
        "Your role requires multi-factor authentication. Enroll an authenticator app "
        "(POST /api/v1/auth/mfa/totp/enroll, then /confirm) and log in again with a code."
    )


class SessionRequiredError(PermissionDeniedError):
    """The action changes how the account signs in, and the caller used an API key.

    Account security (password, second factor, sessions, API keys) needs a session opened
    by signing in, so a leaked integration key cannot lock its owner out.
    """

    code = "SESSION_REQUIRED"
    default_message = (
        "API keys cannot change how the account signs in (password, MFA, sessions, API "
        "keys); sign in to do this."
    )


class NotFoundError(DomainError):
    """The resource does not exist, or is not visible to the actor."""

    code = "NOT_FOUND"
    default_message = "The resource was not found."


class ConflictError(DomainError):
    """The request conflicts with the current state of a resource."""

    code = "CONFLICT"
    default_message = "The request conflicts with the current state."


class AlreadyExistsError(ConflictError):
    code = "ALREADY_EXISTS"
    default_message = "A resource with these unique values already exists."


class StaleVersionError(ConflictError):
    """Optimistic concurrency: the resource changed since the client read it."""

    code = "VERSION_CONFLICT"
    default_message = "The resource was changed by someone else; reload and try again."


class IllegalTransitionError(ConflictError):
    code = "INVALID_STATE_TRANSITION"
    default_message = "This action is not allowed in the resource's current state."


class OutOfStockError(ConflictError):
    code = "OUT_OF_STOCK"
    default_message = "Not enough stock to fulfil the request."


class RequestInProgressError(ConflictError):
    """A request with the same Idempotency-Key is still being processed."""

    code = "REQUEST_IN_PROGRESS"
    default_message = "A request with this Idempotency-Key is still in progress."


class PaymentDeclinedError(DomainError):
    code = "PAYMENT_DECLINED"
    default_message = "The payment was declined."


class RateLimitedError(DomainError):
    code = "RATE_LIMITED"
    default_message = "Too many requests; slow down."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class DependencyUnavailableError(DomainError):
    """A backing service (database, cache, broker, provider) cannot be reached."""

    code = "SERVICE_UNAVAILABLE"
    default_message = "A service this request needs is temporarily unavailable."
