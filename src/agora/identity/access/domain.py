"""Access: API keys, the account's current access, and the rules of administering users
(pure Python)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import sys
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from agora.identity.domain import User
from agora.platform.access import Permission, Role
from agora.platform.errors import AuthenticationError, ConflictError


class LastAdminError(ConflictError):
    code = "LAST_ADMIN"
    default_message = "This would leave no active administrator; promote another one first."


class OwnAccessError(ConflictError):
    code = "OWN_ACCESS_CHANGE"
    default_message = (
        "Administrators cannot demote or deactivate themselves; ask another administrator."
    )


class InvalidApiKeyError(AuthenticationError):
    code = "INVALID_API_KEY"
    default_message = "The API key is invalid, expired or revoked."


class ApiKeyLimitError(ConflictError):
    code = "API_KEY_LIMIT"
    default_message = "You have as many API keys as allowed; revoke one you no longer use."


@dataclass(frozen=True, slots=True)
class AccountAccess:
    """What an account may do now: its role, whether it is active, and its version."""

    user_id: UUID
    role: Role
    is_active: bool
    version: int

    @classmethod
    def of(cls, user: User) -> AccountAccess:
        return cls(user.id, user.role, user.is_active, user.version)

    @classmethod
    def gone(cls, user_id: UUID) -> AccountAccess:
        """An account that no longer exists: inactive for good."""
        return cls(user_id, Role.CUSTOMER, False, sys.maxsize)


# A key reads ``agora_<prefix>_<secret>``: the fixed ``agora_`` marks it as an API key (so
# the authenticator can route it without trying it as a JWT, and secret scanners can find
# leaked ones), the prefix is the public handle under which it is stored and shown, and
# the secret carries 256 random bits. Only the SHA-256 of the whole key is stored.

API_KEY_MARKER = "agora_"
API_KEY_PREFIX_LENGTH = 8
API_KEY_SECRET_LENGTH = 43  # base62: 43 characters carry just over 256 bits
MAX_API_KEY_NAME_LENGTH = 100
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits
_API_KEY_LENGTH = len(API_KEY_MARKER) + API_KEY_PREFIX_LENGTH + 1 + API_KEY_SECRET_LENGTH


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: UUID
    user_id: UUID
    name: str
    prefix: str
    key_hash: str
    scopes: frozenset[Permission]
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_usable(self, now: datetime) -> bool:
        return not self.is_revoked and not self.is_expired(now)

    def matches(self, key: str) -> bool:
        """Constant-time comparison of the presented key with the stored hash."""
        return hmac.compare_digest(self.key_hash, hash_api_key(key))


def is_api_key(credential: str) -> bool:
    """Whether ``credential`` is meant as an API key (JWTs never start with the marker)."""
    return credential.startswith(API_KEY_MARKER)


def api_key_prefix(credential: str) -> str | None:
    """The lookup prefix of a well-formed key; None for anything malformed."""
    if len(credential) != _API_KEY_LENGTH or not is_api_key(credential):
        return None
    start = len(API_KEY_MARKER)
    prefix = credential[start : start + API_KEY_PREFIX_LENGTH]
    separator = credential[start + API_KEY_PREFIX_LENGTH]
    secret = credential[start + API_KEY_PREFIX_LENGTH + 1 :]
    if (
        separator != "_"
        or any(c not in _PREFIX_ALPHABET for c in prefix)
        or any(c not in _SECRET_ALPHABET for c in secret)
    ):
        return None
    return prefix


def new_api_key() -> tuple[str, str, str]:
    """A fresh key, its public prefix and the hash under which it is stored."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(API_KEY_PREFIX_LENGTH))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(API_KEY_SECRET_LENGTH))
    key = f"{API_KEY_MARKER}{prefix}_{secret}"
    return key, prefix, hash_api_key(key)


def hash_api_key(key: str) -> str:
    # Like refresh tokens: 256 random bits leave nothing to brute-force, so a fast hash
    # is enough and keeps verification cheap on every request.
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
