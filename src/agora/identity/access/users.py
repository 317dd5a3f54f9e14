"""User administration: admins list, read, promote, demote, deactivate and reactivate
accounts, with the last active administrator always kept; operators do the same from
the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from agora.identity.access.api_keys import VerifiedKeyCache
from agora.identity.access.current_access import CurrentAccess
from agora.identity.access.domain import AccountAccess, LastAdminError, OwnAccessError
from agora.identity.access.ports import AccessUnitOfWork, AccessUnitOfWorkFactory
from agora.identity.domain import User, normalise_email
from agora.identity.ports import UserFilter
from agora.identity.sessions.revocation import RevokedSessions
from agora.platform.access import Permission, Principal, Role
from agora.platform.audit import AuditTrail, NullAuditTrail
from agora.platform.clock import utcnow
from agora.platform.errors import NotFoundError, PermissionDeniedError, StaleVersionError


@dataclass
class UserAdministration:
    """Admins list, read, promote, demote, deactivate and reactivate accounts.

    Every method that takes a principal checks ``users:manage`` itself, whatever the
    route did. Changes that could remove an administrator lock the active admins' rows
    first, so concurrent demotions queue and the last active admin always survives.
    ``set_role`` and ``deactivate`` are the operators' (the CLI): they take no principal,
    and no route calls them.
    """

    uow: AccessUnitOfWorkFactory
    keys: VerifiedKeyCache
    audit: AuditTrail = field(default_factory=NullAuditTrail)
    # Re-read after a deactivation, so the user's access tokens stop here at once.
    revocations: RevokedSessions | None = None
    # Told of every change, so the user's credentials carry the new access here at once.
    access: CurrentAccess | None = None

    async def list_users(
        self, principal: Principal, where: UserFilter, *, offset: int, limit: int
    ) -> tuple[list[User], int]:
        principal.require(Permission.USERS_MANAGE)
        async with self.uow(read_only=True) as uow:
            return await uow.users.search(where, offset, limit)

    async def get_user(self, principal: Principal, user_id: UUID) -> User:
        principal.require(Permission.USERS_MANAGE)
        async with self.uow(read_only=True) as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise _no_such_user(user_id)
        return user

    async def update_user(
        self,
        principal: Principal,
        user_id: UUID,
        *,
        role: Role | None = None,
        is_active: bool | None = None,
        expected_version: int | None = None,
    ) -> User:
        """Change a user's role and/or activation; deactivation ends every session and key.

        A demotion or deactivation reaches the user's privileged credentials at once in
        this process and within the access poll interval elsewhere (``CurrentAccess``);
        a promotion shows at the next refresh (access tokens carry the role).
        """
        principal.require(Permission.USERS_MANAGE)
        removes_an_admin = (role is not None and role is not Role.ADMIN) or is_active is False
        if user_id == principal.user_id and removes_an_admin:
            await self._refused(principal, user_id, role, is_active, "own_access")
            raise OwnAccessError()
        now = utcnow()
        async with self.uow() as uow:
            admins = await uow.users.lock_active_admins() if removes_an_admin else []
            user = await uow.users.lock(user_id)
            if user is None:
                raise _no_such_user(user_id)
            if expected_version is not None and expected_version != user.version:
                raise StaleVersionError(current_version=user.version)
            changed = user.with_access(
                user.role if role is None else role,
                user.is_active if is_active is None else is_active,
                now,
            )
            if changed is user:
                return user
            last_admin = (
                user.is_active_admin and not changed.is_active_admin and admins == [user.id]
            )
            if not last_admin:
                await self._check_actor(uow, principal)
                await uow.users.update(changed, expected_version=user.version)
                keys_revoked = 0
                if user.is_active and not changed.is_active:
                    await uow.refresh_tokens.revoke_all_for_user(user.id, now)
                    keys_revoked = await uow.api_keys.revoke_all_for_user(user.id, now)
                await self._record_changes(principal, user, changed, keys_revoked)
                await uow.commit()
        if last_admin:
            # A refusal is recorded after the unit, in a transaction of its own: the
            # unit rolled back, and on SQLite it held the write lock.
            await self._refused(principal, user_id, role, is_active, "last_admin")
            raise LastAdminError()
        self.keys.forget_owner(user.id)
        self._changed_access(changed)
        if self.revocations is not None and user.is_active and not changed.is_active:
            await self.revocations.poll()
        return changed

    # -- operators (the CLI) ----------------------------------------------------------

    async def set_role(self, email: str, role: Role) -> User:
        """Change a user's role: a demotion reaches running processes within their access
        poll interval, a promotion shows at the next refresh."""
        email = normalise_email(email)
        async with self.uow() as uow:
            user = await uow.users.get_by_email(email)
            if user is None:
                raise _no_such_email()
            previous = user.role
            if user.role is not role:
                changed = user.with_role(role, utcnow())
                await uow.users.update(changed, expected_version=user.version)
                user = changed
                await self.audit.record(
                    "users.role_changed",
                    target_type="user",
                    target_id=str(user.id),
                    details={"from": previous.value, "to": role.value},
                )
            await uow.commit()
        if previous is not role:
            self._changed_access(user)
        return user

    async def deactivate(self, email: str) -> User:
        """Block the account: no login, every session and API key revoked."""
        email = normalise_email(email)
        now = utcnow()
        async with self.uow() as uow:
            user = await uow.users.get_by_email(email)
            if user is None:
                raise _no_such_email()
            changed = user.deactivated(now)
            await uow.users.update(changed, expected_version=user.version)
            await uow.refresh_tokens.revoke_all_for_user(user.id, now)
            await uow.api_keys.revoke_all_for_user(user.id, now)
            await self.audit.record("users.deactivated", target_type="user", target_id=str(user.id))
            await uow.commit()
        self._changed_access(changed)
        if self.revocations is not None:
            await self.revocations.poll()
        return changed

    # -- internals --------------------------------------------------------------------

    def _changed_access(self, user: User) -> None:
        if self.access is not None:
            self.access.record(AccountAccess.of(user))

    @staticmethod
    async def _check_actor(uow: AccessUnitOfWork, principal: Principal) -> None:
        # The role in an access token may be minutes old: an admin demoted meanwhile must
        # not keep changing other people's access until the token expires.
        actor = await uow.users.get(principal.user_id)
        if (
            actor is None
            or not Principal.for_user(actor.id, actor.role).can(Permission.USERS_MANAGE)
            or not actor.is_active
        ):
            raise PermissionDeniedError(required=Permission.USERS_MANAGE.value)

    async def _record_changes(
        self, principal: Principal, before: User, after: User, keys_revoked: int
    ) -> None:
        changes: list[tuple[str, dict[str, object]]] = []
        if before.role is not after.role:
            changes.append(
                ("users.role_changed", {"from": before.role.value, "to": after.role.value})
            )
        if before.is_active and not after.is_active:
            changes.append(("users.deactivated", {"api_keys_revoked": keys_revoked}))
        elif after.is_active and not before.is_active:
            changes.append(("users.reactivated", {}))
        for action, details in changes:
            await self.audit.record(
                action,
                actor_id=principal.user_id,
                target_type="user",
                target_id=str(after.id),
                details=details,
            )

    async def _refused(
        self,
        principal: Principal,
        user_id: UUID,
        role: Role | None,
        is_active: bool | None,
        reason: str,
    ) -> None:
        action = "users.role_changed" if is_active is not False else "users.deactivated"
        await self.audit.record(
            action,
            actor_id=principal.user_id,
            target_type="user",
            target_id=str(user_id),
            outcome="failure",
            details={
                "reason": reason,
                "role": None if role is None else role.value,
                "is_active": is_active,
            },
        )


def _no_such_user(user_id: UUID) -> NotFoundError:
    return NotFoundError("No user has this id.", user_id=str(user_id))


def _no_such_email() -> NotFoundError:
    return NotFoundError("No user has this email address.", field="email")
