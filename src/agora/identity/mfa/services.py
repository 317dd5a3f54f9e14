"""Multi-factor authentication use cases: enroll a TOTP app, confirm, disable, log in with it.

Login is two steps when MFA is on: ``SignInService.login`` checks the password and
hands over to ``MfaChallenges.challenge``, which answers with a short-lived single-use
MFA token instead of tokens; ``SignInService.complete_second_factor`` has
``MfaChallenges.verify`` check that token with a TOTP or recovery code, then opens the
session with ``mfa=True``. So the challenges (the sign-in's ``SecondFactor`` port) need
only MFA's storage, and ``MfaService`` (enrolment, status, disabling, the operators'
reset) needs no sign-in at all: nothing depends on anything built after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from agora.identity.audit import record_own_action
from agora.identity.domain import User, normalise_email
from agora.identity.mfa.domain import (
    MAX_CHALLENGE_ATTEMPTS,
    InvalidMfaCodeError,
    InvalidMfaTokenError,
    InvalidSecondFactorError,
    MfaAlreadyEnabledError,
    MfaChallenge,
    MfaEnrollmentNotStartedError,
    MfaLockedError,
    MfaNotEnabledError,
    MfaStatus,
    RecoveryCode,
    TotpCredential,
    TotpEnrollment,
    hash_challenge_token,
    matching_step,
    new_challenge_token,
    new_recovery_codes,
    new_totp_secret,
    normalise_recovery_code,
    normalise_totp,
    otpauth_uri,
)
from agora.identity.mfa.ports import MfaUnitOfWork, MfaUnitOfWorkFactory, QrCodes
from agora.identity.sessions.domain import SecondFactorRequired
from agora.platform.access import Principal
from agora.platform.audit import AuditTrail, NullAuditTrail
from agora.platform.clock import utcnow
from agora.platform.errors import AuthenticationError, NotFoundError
from agora.platform.ids import new_id

CodeKind = Literal["totp", "recovery_code"]


@dataclass
class MfaChallenges:
    """The second factor's part of a password (or OIDC) login: ``SignInService``'s
    ``SecondFactor``."""

    uow: MfaUnitOfWorkFactory
    ttl: timedelta = timedelta(minutes=5)
    audit: AuditTrail = field(default_factory=NullAuditTrail)
    # Injected so that time steps and expiry can be tested without waiting.
    clock: Callable[[], datetime] = utcnow

    async def purge_expired(self) -> int:
        """Delete expired login challenges of every user (a scheduled job; a user's own
        are also dropped at their next login). Returns how many went."""
        async with self.uow() as uow:
            removed = await uow.mfa_challenges.delete_all_expired(self.clock())
            await uow.commit()
        return removed

    async def challenge(self, user: User) -> SecondFactorRequired | None:
        """A challenge when ``user`` has MFA on; None when the password alone suffices."""
        async with self.uow(read_only=True) as uow:
            credential = await uow.totp.get(user.id)
        if credential is None or not credential.enabled:
            return None
        now = self.clock()
        token, token_hash = new_challenge_token()
        async with self.uow() as uow:
            await uow.mfa_challenges.delete_expired(user.id, now)
            await uow.mfa_challenges.add(
                MfaChallenge(
                    id=new_id(),
                    user_id=user.id,
                    token_hash=token_hash,
                    created_at=now,
                    expires_at=now + self.ttl,
                )
            )
            await uow.commit()
        return SecondFactorRequired(token, int(self.ttl.total_seconds()))

    async def verify(self, mfa_token: str, code: str) -> tuple[User, CodeKind]:
        """The second step: a TOTP or recovery code for the challenge; the user and the
        kind of code that passed. ``SignInService.complete_second_factor`` then opens the
        session.

        The token is bound to the user it was issued to, expires, works once and allows
        ``MAX_CHALLENGE_ATTEMPTS`` codes in all.
        """
        now = self.clock()
        async with self.uow() as uow:
            challenge = await uow.mfa_challenges.get_by_hash(hash_challenge_token(mfa_token))
            if challenge is None or not challenge.is_open(now):
                raise InvalidMfaTokenError()
            user = await uow.users.get(challenge.user_id)
            credential = await uow.totp.get(challenge.user_id)
            if user is None or not user.is_active or credential is None or not credential.enabled:
                raise InvalidMfaTokenError()
            _refuse_while_locked(credential, now)
            if not await uow.mfa_challenges.claim_attempt(challenge.id, now):
                raise InvalidMfaTokenError()
            kind = await _use_code(uow, credential, code, now)
            if kind is None:
                await _code_refused(
                    uow, self.audit, user, now, action="auth.login", reason="invalid_second_factor"
                )
                raise InvalidSecondFactorError(
                    attempts_left=max(0, MAX_CHALLENGE_ATTEMPTS - challenge.attempts - 1)
                )
            if not await uow.mfa_challenges.consume(challenge.id, now):
                raise InvalidMfaTokenError()  # completed by a concurrent request; undo ours
            if kind == "recovery_code":
                await _recovery_code_used(uow, self.audit, user)
            await uow.commit()
        return user, kind


@dataclass
class MfaService:
    uow: MfaUnitOfWorkFactory
    qr_codes: QrCodes
    issuer: str = "Agora"
    audit: AuditTrail = field(default_factory=NullAuditTrail)
    # Injected so that time steps and expiry can be tested without waiting.
    clock: Callable[[], datetime] = utcnow

    # -- the signed-in user's authenticator ---------------------------------------------

    async def status(self, principal: Principal) -> MfaStatus:
        async with self.uow(read_only=True) as uow:
            user = await self._active_user(uow, principal)
            credential = await uow.totp.get(user.id)
            left = await uow.recovery_codes.count_unused(user.id)
        enabled = credential is not None and credential.enabled
        return MfaStatus(
            enabled=enabled,
            pending=credential is not None and not credential.enabled,
            recovery_codes_left=left if enabled else 0,
        )

    async def enroll(self, principal: Principal) -> TotpEnrollment:
        """A new secret to scan; it replaces an unconfirmed one, never an enabled one."""
        now = self.clock()
        secret = new_totp_secret()
        async with self.uow() as uow:
            user = await self._active_user(uow, principal)
            existing = await uow.totp.get(user.id)
            if existing is not None and existing.enabled:
                raise MfaAlreadyEnabledError()
            credential = TotpCredential(
                user_id=user.id, secret=secret, created_at=now, updated_at=now
            )
            if existing is None:
                await uow.totp.add(credential)
            elif not await uow.totp.replace_pending(credential):
                raise MfaAlreadyEnabledError()  # confirmed by a concurrent request
            await uow.commit()
        uri = otpauth_uri(secret, user.email, self.issuer)
        return TotpEnrollment(secret=secret, otpauth_uri=uri, qr_svg=self.qr_codes.svg(uri))

    async def confirm(self, principal: Principal, code: str) -> list[str]:
        """Enable the pending authenticator with a first code; returns the recovery codes.

        The codes are shown this once: only their hashes are stored.
        """
        now = self.clock()
        codes = new_recovery_codes()
        async with self.uow() as uow:
            user = await self._active_user(uow, principal)
            credential = await uow.totp.get(user.id)
            if credential is None:
                raise MfaEnrollmentNotStartedError()
            if credential.enabled:
                raise MfaAlreadyEnabledError()
            step = (
                None if credential.secret is None else matching_step(credential.secret, code, now)
            )
            if step is None:
                raise InvalidMfaCodeError()
            if not await uow.totp.confirm(user.id, step, now):
                raise MfaAlreadyEnabledError()
            await uow.recovery_codes.replace_all(
                user.id, [RecoveryCode.of(new_id(), user.id, c, now) for c in codes]
            )
            await record_own_action(self.audit, "mfa.enrolled", user, details={"method": "totp"})
            await uow.commit()
        return codes

    async def disable(self, principal: Principal, code: str) -> None:
        """Turn MFA off with a current TOTP or an unused recovery code; the codes go too."""
        now = self.clock()
        async with self.uow() as uow:
            user = await self._active_user(uow, principal)
            credential = await uow.totp.get(user.id)
            if credential is None or not credential.enabled:
                raise MfaNotEnabledError()
            _refuse_while_locked(credential, now)
            kind = await _use_code(uow, credential, code, now)
            if kind is None:
                await _code_refused(
                    uow, self.audit, user, now, action="mfa.disabled", reason="invalid_code"
                )
                raise InvalidMfaCodeError()
            await uow.totp.delete(user.id)
            await uow.recovery_codes.delete_all(user.id)
            if kind == "recovery_code":
                await _recovery_code_used(uow, self.audit, user)
            await record_own_action(
                self.audit, "mfa.disabled", user, details={"method": "totp", "with": kind}
            )
            await uow.commit()

    # -- operators --------------------------------------------------------------------------

    async def reset(self, email: str) -> tuple[User, bool]:
        """Remove a user's authenticator and recovery codes and end every session.

        For a lost device, after the operator has verified the person by other means.
        Returns the user and whether they had MFA (enabled or pending) at all.
        """
        email = normalise_email(email)
        now = self.clock()
        async with self.uow() as uow:
            user = await uow.users.get_by_email(email)
            if user is None:
                raise NotFoundError("No user has this email address.", field="email")
            had = await uow.totp.delete(user.id)
            await uow.recovery_codes.delete_all(user.id)
            await uow.refresh_tokens.revoke_all_for_user(user.id, now)
            await self.audit.record(
                "mfa.disabled",
                target_type="user",
                target_id=str(user.id),
                details={"method": "totp", "with": "operator_reset"},
            )
            await uow.commit()
        return user, had

    # -- internals --------------------------------------------------------------------------

    async def _active_user(self, uow: MfaUnitOfWork, principal: Principal) -> User:
        user = await uow.users.get(principal.user_id)
        if user is None or not user.is_active:
            raise AuthenticationError()
        return user


async def _use_code(
    uow: MfaUnitOfWork, credential: TotpCredential, code: str, now: datetime
) -> CodeKind | None:
    """Spend ``code`` as a TOTP or a recovery code; None when it is neither (or spent)."""
    user_id = credential.user_id
    if normalise_totp(code) is not None:
        if credential.secret is None:
            return None
        step = matching_step(credential.secret, code, now, after=credential.last_used_step)
        if step is None or not await uow.totp.use_step(user_id, step, now):
            return None
        return "totp"
    recovery = normalise_recovery_code(code)
    if recovery is None:
        return None
    unused = await uow.recovery_codes.unused(user_id)
    match = next((stored for stored in unused if stored.matches(recovery)), None)
    if match is None or not await uow.recovery_codes.use(match.id, now):
        return None
    if credential.failed_attempts:
        await uow.totp.clear_failures(user_id)
    return "recovery_code"


async def _code_refused(
    uow: MfaUnitOfWork, audit: AuditTrail, user: User, now: datetime, *, action: str, reason: str
) -> None:
    """Count the wrong code towards the lockout, keep that count, and audit the refusal
    (after the commit, in a transaction of its own: the caller raises next)."""
    await uow.totp.record_failure(user.id, now)
    await uow.commit()
    await record_own_action(audit, action, user, outcome="failure", details={"reason": reason})


async def _recovery_code_used(uow: MfaUnitOfWork, audit: AuditTrail, user: User) -> None:
    """Audit the spent recovery code in ``uow``, with the codes it leaves."""
    left = await uow.recovery_codes.count_unused(user.id)
    await record_own_action(
        audit, "mfa.recovery_code_used", user, details={"recovery_codes_left": left}
    )


def _refuse_while_locked(credential: TotpCredential, now: datetime) -> None:
    wait = credential.locked_for(now)
    if wait:
        raise MfaLockedError(wait)
