"""Account self-service by email: verify an address, reset a forgotten password, change it.

Every link carries a one-time token: 256 random bits, stored only as its SHA-256, tied
to one purpose, one user and the address it was mailed to, expiring, and used up by a
conditional update (of two concurrent uses exactly one wins). Issuing a new token
deletes the user's older ones of the same purpose.

Mail is queued in the unit of work that issues the link or changes the password
(``AccountMail.queue``), so it goes out once that commits, retried while the mail server
is down, and never for a change that rolled back; no request waits for the mail server.
A reset request only keeps an ``identity.PasswordResetRequested`` event
(``ask_password_reset``), the same work for any address, so neither the answer nor its
duration tells whether the account exists; the backbone's ``identity.password-reset``
consumer then runs ``request_password_reset``. The audit record of a successful change
is written in its unit of work, before the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from agora.identity.accounts.domain import (
    EmailAlreadyVerifiedError,
    EmailToken,
    EmailTokenPurpose,
    InvalidCurrentPasswordError,
    InvalidEmailTokenError,
    hash_email_token,
    new_email_token,
)
from agora.identity.accounts.password_policy import PasswordPolicy
from agora.identity.accounts.ports import AccountsUnitOfWork, AccountsUnitOfWorkFactory
from agora.identity.audit import record_own_action
from agora.identity.domain import User, password_reset_requested
from agora.identity.ports import AccountMail, PasswordHasher
from agora.identity.sessions.revocation import RevokedSessions
from agora.platform.access import Principal
from agora.platform.audit import AuditTrail, NullAuditTrail
from agora.platform.clock import utcnow
from agora.platform.errors import AuthenticationError
from agora.platform.ids import new_id
from agora.platform.logging import get_logger

log = get_logger("agora.identity.accounts")

# Spent links are kept a day, so a late click hears "expired" or "used", not "unknown".
SPENT_TOKEN_RETENTION = timedelta(days=1)


@dataclass
class AccountService:
    uow: AccountsUnitOfWorkFactory
    hasher: PasswordHasher
    policy: PasswordPolicy
    mail: AccountMail
    public_url: str
    verification_ttl: timedelta = timedelta(hours=24)
    reset_ttl: timedelta = timedelta(minutes=30)
    audit: AuditTrail = field(default_factory=NullAuditTrail)
    # Re-read after sessions are revoked, so their access tokens stop here at once.
    revocations: RevokedSessions | None = None
    clock: Callable[[], datetime] = utcnow

    async def purge_spent_tokens(self) -> int:
        """Delete verification and reset tokens a day after they expired or were used
        (a scheduled job; idempotent). Returns how many went."""
        async with self.uow() as uow:
            removed = await uow.email_tokens.delete_spent(self.clock() - SPENT_TOKEN_RETENTION)
            await uow.commit()
        return removed

    # -- email verification ----------------------------------------------------------

    async def start_verification(self, user_id: UUID) -> None:
        """After sign-up: queue a verification link.

        The account works without it, and the user can ask for another link.
        """
        user = await self._user(user_id)
        if user is not None and user.is_active and not user.email_verified:
            await self._mail_verification(user)

    async def resend_verification(self, principal: Principal) -> None:
        """Queue a fresh verification link; earlier unused links stop working."""
        user = await self._user(principal.user_id)
        if user is None or not user.is_active:
            raise AuthenticationError()
        if user.email_verified:
            raise EmailAlreadyVerifiedError()
        await self._mail_verification(user)

    async def verify_email(self, token: str) -> User:
        """Use a verification token up and mark the address it was sent to verified."""
        now = self.clock()
        async with self.uow() as uow:
            stored = await uow.email_tokens.get_by_hash(hash_email_token(token))
            if (
                stored is None
                or stored.purpose is not EmailTokenPurpose.VERIFY_EMAIL
                or not stored.is_usable(now)
                or not await uow.email_tokens.mark_used(stored.id, now)
                # The address must still be the user's: the link proves only that one.
                or not await uow.users.mark_email_verified(stored.user_id, stored.email, now)
            ):
                raise InvalidEmailTokenError()
            user = await uow.users.get(stored.user_id)
            if user is None or not user.is_active:
                raise InvalidEmailTokenError()
            await record_own_action(self.audit, "auth.email_verified", user)
            await uow.commit()
        return user

    async def email_verified(self, customer_id: UUID) -> bool:
        """Whether the customer's current address is verified (for checkout's rule)."""
        user = await self._user(customer_id)
        return user is not None and user.email_verified

    async def mail_contact(self, user_id: UUID) -> tuple[str, str] | None:
        """The user's current address and name, for mail other contexts send them."""
        user = await self._user(user_id)
        return None if user is None else (user.email, user.name)

    # -- password reset --------------------------------------------------------------

    async def ask_password_reset(self, email: str) -> None:
        """Take a reset request for ``email`` (already normalised): one outbox event,
        the same work whether or not an account uses the address, so neither the answer
        nor its timing tells the caller. The ``identity.password-reset`` consumer runs
        ``request_password_reset`` for it, retried until it goes through."""
        async with self.uow() as uow:
            uow.record(password_reset_requested(email))
            await uow.commit()

    async def request_password_reset(self, email: str) -> None:
        """Mail a reset link if ``email`` (already normalised) belongs to an active account.

        Run by the backbone for each request ``ask_password_reset`` took, never on the
        request's path.
        """
        async with self.uow(read_only=True) as uow:
            user = await uow.users.get_by_email(email)
        if user is None or not user.is_active:
            await self.audit.record(
                "auth.password_reset_requested",
                outcome="failure",
                details={"email": email, "reason": "no active account"},
            )
            return
        async with self.uow() as uow:
            link = await self._issue(uow, user, EmailTokenPurpose.RESET_PASSWORD, self.reset_ttl)
            await self.mail.queue(
                uow,
                to=user.email,
                subject="Reset your Agora password",
                text=f"Hello {user.name},\n\n"
                "someone, hopefully you, asked to reset the password of your Agora "
                "account. To choose a new password, open this link:\n\n"
                f"{self._link('reset-password', link)}\n\n"
                f"The link works once and expires in {_duration(self.reset_ttl)}. "
                "Resetting the password signs you out on every device.\n\n"
                "If you did not ask for this, ignore this email: your password stays "
                "as it is.\n",
                kind="identity.password-reset",
                user_id=user.id,
            )
            await self.audit.record(
                "auth.password_reset_requested", target_type="user", target_id=str(user.id)
            )
            await uow.commit()

    async def reset_password(self, token: str, new_password: str) -> User:
        """Set a new password with a reset token; every session of the user ends.

        A password the policy refuses is a 422 and leaves the token usable.
        """
        now = self.clock()
        token_hash = hash_email_token(token)
        async with self.uow(read_only=True) as uow:
            stored = await uow.email_tokens.get_by_hash(token_hash)
            user = None if stored is None else await uow.users.get(stored.user_id)
        if (
            stored is None
            or user is None
            or stored.purpose is not EmailTokenPurpose.RESET_PASSWORD
            or not stored.is_usable(now)
            or not user.is_active
            or user.email != stored.email
        ):
            raise InvalidEmailTokenError()
        self.policy.check(new_password, email=user.email, name=user.name)
        password_hash = await self.hasher.hash(new_password)  # slow: outside the transaction
        async with self.uow() as uow:
            if not await uow.email_tokens.mark_used(stored.id, now):
                raise InvalidEmailTokenError()  # used (or expired) meanwhile
            await uow.users.set_password_hash(user.id, password_hash)
            await uow.refresh_tokens.revoke_all_for_user(user.id, now)
            # Following the link proved control of the mailbox, which is what verifying is.
            await uow.users.mark_email_verified(user.id, stored.email, now)
            await self._queue_password_changed(uow, user)
            await record_own_action(self.audit, "auth.password_reset", user)
            await uow.commit()
        await self._sessions_revoked()
        return user

    # -- password change -------------------------------------------------------------

    async def change_password(
        self, principal: Principal, current_password: str, new_password: str
    ) -> User:
        """Change the caller's password; every other session of theirs ends.

        The caller's own session (the access token's ``sid``) stays signed in.
        """
        user = await self._user(principal.user_id)
        if user is None or not user.is_active:
            raise AuthenticationError()
        if not await self.hasher.verify(user.password_hash, current_password):
            await record_own_action(
                self.audit,
                "auth.password_changed",
                user,
                outcome="failure",
                details={"reason": "wrong current password"},
            )
            raise InvalidCurrentPasswordError()
        self.policy.check(new_password, email=user.email, name=user.name)
        password_hash = await self.hasher.hash(new_password)
        now = self.clock()
        async with self.uow() as uow:
            await uow.users.set_password_hash(user.id, password_hash)
            if principal.session_id is None:
                await uow.refresh_tokens.revoke_all_for_user(user.id, now)
            else:
                await uow.refresh_tokens.revoke_other_families(user.id, principal.session_id, now)
            # A reset link mailed before the change must not undo it.
            await uow.email_tokens.delete_for_user(user.id, EmailTokenPurpose.RESET_PASSWORD)
            await self._queue_password_changed(uow, user)
            await record_own_action(self.audit, "auth.password_changed", user)
            await uow.commit()
        await self._sessions_revoked()
        return user

    async def _queue_password_changed(self, uow: AccountsUnitOfWork, user: User) -> None:
        """Tell the owner their password changed (after a change or a reset)."""
        await self.mail.queue(
            uow,
            to=user.email,
            subject="Your Agora password was changed",
            text=f"Hello {user.name},\n\n"
            "the password of your Agora account was just changed, and every other "
            "device was signed out.\n\n"
            "If this was you, there is nothing to do. If it was not, reset your "
            "password right away and contact us.\n",
            kind="identity.password-changed",
            user_id=user.id,
        )

    # -- internals -------------------------------------------------------------------

    async def _user(self, user_id: UUID) -> User | None:
        async with self.uow(read_only=True) as uow:
            return await uow.users.get(user_id)

    async def _mail_verification(self, user: User) -> None:
        async with self.uow() as uow:
            token = await self._issue(
                uow, user, EmailTokenPurpose.VERIFY_EMAIL, self.verification_ttl
            )
            await self.mail.queue(
                uow,
                to=user.email,
                subject="Confirm your email address",
                text=f"Hello {user.name},\n\n"
                "please confirm that this is your email address by opening this link:\n\n"
                f"{self._link('verify-email', token)}\n\n"
                f"The link works once and expires in {_duration(self.verification_ttl)}.\n\n"
                "If you did not create an Agora account, ignore this email.\n",
                kind="identity.verify-email",
                user_id=user.id,
            )
            await uow.commit()

    async def _issue(
        self, uow: AccountsUnitOfWork, user: User, purpose: EmailTokenPurpose, ttl: timedelta
    ) -> str:
        """Store a new token for ``user`` in ``uow`` (dropping their older ones); return it."""
        token, token_hash = new_email_token()
        now = self.clock()
        await uow.email_tokens.delete_for_user(user.id, purpose)
        await uow.email_tokens.add(
            EmailToken(
                id=new_id(),
                user_id=user.id,
                purpose=purpose,
                email=user.email,
                token_hash=token_hash,
                created_at=now,
                expires_at=now + ttl,
            )
        )
        return token

    def _link(self, page: str, token: str) -> str:
        # The token is URL-safe base64: it needs no escaping in a query string.
        return f"{self.public_url.rstrip('/')}/{page}?token={token}"

    async def _sessions_revoked(self) -> None:
        if self.revocations is not None:
            await self.revocations.poll()


def _duration(ttl: timedelta) -> str:
    minutes = int(ttl.total_seconds()) // 60
    if minutes % 60:
        return f"{minutes} minutes"
    hours = minutes // 60
    return "1 hour" if hours == 1 else f"{hours} hours"
