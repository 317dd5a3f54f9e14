"""Who is acting, and what their role lets them do.

The permission matrix lives here so that every service checks the same rules; routes
only pass the principal along. ``docs/security.md`` documents the same table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from agora.platform.errors import (
    AuthenticationError,
    MfaRequiredError,
    PermissionDeniedError,
    SessionRequiredError,
)


class Role(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"


class Permission(StrEnum):
    CATALOG_WRITE = "catalog:write"
    CATALOG_READ_UNPUBLISHED = "catalog:read_unpublished"
    ORDERS_MANAGE = "orders:manage"
    USERS_MANAGE = "users:manage"
    AUDIT_READ = "audit:read"
    EVENTS_READ = "events:read"
    EVENTS_MANAGE = "events:manage"
    MAIL_MANAGE = "mail:manage"


_STAFF = frozenset(
    {
        Permission.CATALOG_WRITE,
        Permission.CATALOG_READ_UNPUBLISHED,
        Permission.ORDERS_MANAGE,
        Permission.EVENTS_READ,
        Permission.MAIL_MANAGE,
    }
)
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CUSTOMER: frozenset(),
    Role.STAFF: _STAFF,
    Role.ADMIN: _STAFF | {Permission.USERS_MANAGE, Permission.AUDIT_READ, Permission.EVENTS_MANAGE},
}


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated actor: a user acting with a role."""

    user_id: UUID
    role: Role
    session_id: UUID | None = None
    permissions: frozenset[Permission] = field(default=frozenset())
    mfa: bool = False  # the session was opened with a second factor
    api_key_id: UUID | None = None  # set when the actor authenticated with an API key
    # The role's permissions are withheld because it requires a second factor this
    # session lacks; refusals then say so instead of a bare FORBIDDEN.
    mfa_required: bool = False

    @classmethod
    def for_user(
        cls,
        user_id: UUID,
        role: Role,
        session_id: UUID | None = None,
        *,
        mfa: bool = False,
        mfa_required_roles: frozenset[Role] = frozenset(),
    ) -> Principal:
        """``mfa_required_roles``: roles that hold no permission until the session has a
        second factor (they can still reach their profile and enroll)."""
        if role in mfa_required_roles and not mfa:
            return cls(user_id, role, session_id, frozenset(), mfa, mfa_required=True)
        return cls(user_id, role, session_id, PERMISSIONS[role], mfa)

    @classmethod
    def for_api_key(
        cls, user_id: UUID, role: Role, api_key_id: UUID, scopes: Iterable[Permission]
    ) -> Principal:
        """The owner acting through a key: never more than both the key and the role allow.

        Intersecting at every authentication means a demoted owner's keys lose the
        permissions the new role lacks without being reissued.
        """
        return cls(
            user_id, role, None, frozenset(scopes) & PERMISSIONS[role], api_key_id=api_key_id
        )

    def limited_to(self, role: Role) -> Principal:
        """This principal when the account's role is now ``role``: never more than either.

        A demoted account's credentials lose what the new role lacks; a promotion adds
        nothing to a credential issued before it (it shows at the next sign-in or refresh).
        """
        if PERMISSIONS[self.role] <= PERMISSIONS[role]:
            return self
        return replace(self, role=role, permissions=self.permissions & PERMISSIONS[role])

    def require_session(self) -> None:
        """Refuse unless the actor signed in (a bearer token or a cookie session): account
        security is never in reach of an API key."""
        if self.api_key_id is not None or self.session_id is None:
            raise SessionRequiredError()

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        if permission not in self.permissions:
            if self.mfa_required and permission in PERMISSIONS[self.role]:
                raise MfaRequiredError(required=permission.value)
            raise PermissionDeniedError(required=permission.value)


def require_principal(principal: Principal | None) -> Principal:
    if principal is None:
        raise AuthenticationError()
    return principal


def can(principal: Principal | None, permission: Permission) -> bool:
    return principal is not None and principal.can(permission)


class Authenticator(Protocol):
    """Turns a bearer credential into a principal; implemented by the identity context."""

    async def authenticate(self, credential: str) -> Principal:
        """Return the principal, or raise ``AuthenticationError``."""
        ...
