"""Registration and profile: accounts come into being (sign-up, or an operator's), and
their owners read and rename them.

Password hashing is slow by design, so it always runs *outside* a writing transaction
(on SQLite a writing unit holds the database write lock).
"""

from __future__ import annotations

from dataclasses import dataclass

from agora.identity.accounts.password_policy import PasswordPolicy
from agora.identity.domain import User, clean_name, normalise_email, user_registered
from agora.identity.ports import IdentityUnitOfWorkFactory, PasswordHasher
from agora.platform.access import Principal, Role
from agora.platform.clock import utcnow
from agora.platform.errors import AlreadyExistsError, AuthenticationError
from agora.platform.ids import new_id


@dataclass
class RegistrationService:
    uow: IdentityUnitOfWorkFactory
    hasher: PasswordHasher
    policy: PasswordPolicy

    # -- accounts -------------------------------------------------------------------

    async def register(self, email: str, password: str, name: str) -> User:
        """Self-service sign-up: always a customer."""
        return await self.create_user(email=email, password=password, name=name, role=Role.CUSTOMER)

    async def create_user(self, *, email: str, password: str, name: str, role: Role) -> User:
        email = normalise_email(email)
        name = clean_name(name)
        self.policy.check(password, email=email, name=name)
        async with self.uow(read_only=True) as uow:
            if await uow.users.get_by_email(email) is not None:
                raise _email_taken()
        password_hash = await self.hasher.hash(password)
        now = utcnow()
        user = User(
            id=new_id(),
            email=email,
            name=name,
            password_hash=password_hash,
            role=role,
            is_active=True,
            email_verified_at=None,
            created_at=now,
            updated_at=now,
        )
        async with self.uow() as uow:
            await uow.users.add(user)  # raises AlreadyExistsError if a concurrent sign-up won
            uow.record(user_registered(user))
            await uow.commit()
        return user

    async def find_by_email(self, email: str) -> User | None:
        """For operators (CLI, seed): look an account up by its email in any spelling."""
        async with self.uow(read_only=True) as uow:
            return await uow.users.get_by_email(normalise_email(email))

    # -- profile ------------------------------------------------------------------------

    async def get_profile(self, principal: Principal) -> User:
        async with self.uow(read_only=True) as uow:
            user = await uow.users.get(principal.user_id)
        if user is None or not user.is_active:
            raise AuthenticationError()
        return user

    async def update_profile(
        self, principal: Principal, *, name: str | None = None, expected_version: int | None = None
    ) -> User:
        """Change the caller's own profile; only the name is theirs to change."""
        async with self.uow() as uow:
            user = await uow.users.get(principal.user_id)
            if user is None or not user.is_active:
                raise AuthenticationError()
            base_version = user.version if expected_version is None else expected_version
            if name is not None:
                changed = user.renamed(clean_name(name), utcnow())
                # Bump from the version the client saw, so a stale write is refused.
                await uow.users.update(changed, expected_version=base_version)
                user = changed
            await uow.commit()
        return user


def _email_taken() -> AlreadyExistsError:
    return AlreadyExistsError("An account with this email address already exists.", field="email")
