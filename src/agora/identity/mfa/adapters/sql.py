"""SQL repositories of multi-factor authentication, and the unit of work that carries them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from agora.identity.adapters.secret_box import SecretBox, SecretBoxError
from agora.identity.adapters.sql import SqlIdentityUnitOfWork
from agora.identity.mfa.adapters.tables import mfa_challenges, mfa_recovery_codes, totp_credentials
from agora.identity.mfa.domain import (
    MAX_CHALLENGE_ATTEMPTS,
    MfaChallenge,
    RecoveryCode,
    TotpCredential,
)
from agora.platform.db.rows import record_of, values_of
from agora.platform.db.schema import plain_uuid
from agora.platform.errors import ConflictError
from agora.platform.logging import get_logger

log = get_logger("agora.identity.mfa")


class SqlTotpCredentialRepository:
    """Seals the secret on the way in and opens it on the way out, bound to the user id."""

    def __init__(self, connection: AsyncConnection, box: SecretBox) -> None:
        self._conn = connection
        self._box = box

    async def get(self, user_id: UUID) -> TotpCredential | None:
        row = (
            await self._conn.execute(
                select(totp_credentials).where(totp_credentials.c.user_id == user_id)
            )
        ).first()
        return None if row is None else self._credential(row)

    async def add(self, credential: TotpCredential) -> None:
        try:
            await self._conn.execute(insert(totp_credentials).values(self._values(credential)))
        except IntegrityError:
            raise ConflictError(
                "The authenticator was changed by a concurrent request; try again."
            ) from None

    async def replace_pending(self, credential: TotpCredential) -> bool:
        values = self._values(credential)
        del values["user_id"]
        result = await self._conn.execute(
            update(totp_credentials)
            .where(
                totp_credentials.c.user_id == credential.user_id,
                totp_credentials.c.confirmed_at.is_(None),
            )
            .values(values)
        )
        return result.rowcount == 1

    async def confirm(self, user_id: UUID, step: int, now: datetime) -> bool:
        result = await self._conn.execute(
            update(totp_credentials)
            .where(totp_credentials.c.user_id == user_id, totp_credentials.c.confirmed_at.is_(None))
            .values(confirmed_at=now, last_used_step=step, updated_at=now)
        )
        return result.rowcount == 1

    async def use_step(self, user_id: UUID, step: int, now: datetime) -> bool:
        # Conditional update: of two requests with the same code, only one moves the step.
        result = await self._conn.execute(
            update(totp_credentials)
            .where(
                totp_credentials.c.user_id == user_id,
                or_(
                    totp_credentials.c.last_used_step.is_(None),
                    totp_credentials.c.last_used_step < step,
                ),
            )
            .values(last_used_step=step, failed_attempts=0, updated_at=now)
        )
        return result.rowcount == 1

    async def record_failure(self, user_id: UUID, now: datetime) -> None:
        await self._conn.execute(
            update(totp_credentials)
            .where(totp_credentials.c.user_id == user_id)
            .values(failed_attempts=totp_credentials.c.failed_attempts + 1, last_failed_at=now)
        )

    async def clear_failures(self, user_id: UUID) -> None:
        await self._conn.execute(
            update(totp_credentials)
            .where(totp_credentials.c.user_id == user_id)
            .values(failed_attempts=0)
        )

    async def delete(self, user_id: UUID) -> bool:
        result = await self._conn.execute(
            delete(totp_credentials).where(totp_credentials.c.user_id == user_id)
        )
        return result.rowcount == 1

    def _values(self, credential: TotpCredential) -> dict[str, Any]:
        if credential.secret is None:
            raise ValueError("a credential is stored with its secret")
        sealed = self._box.seal(credential.secret, credential.user_id.bytes)
        values = values_of(credential, secret_ciphertext=sealed)
        del values["secret"]  # only ever stored sealed
        return values

    def _credential(self, row: Any) -> TotpCredential:
        user_id = plain_uuid(row.user_id)
        try:
            secret: str | None = self._box.open(row.secret_ciphertext, user_id.bytes)
        except SecretBoxError:
            # Most likely AGORA_SECRET_KEY changed: TOTP cannot work for this user any
            # more, recovery codes still do (see docs/runbooks/mfa.md).
            log.warning("totp_secret_unreadable", user_id=str(user_id))
            secret = None
        return record_of(TotpCredential, row, user_id=user_id, secret=secret)


class SqlRecoveryCodeRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def replace_all(self, user_id: UUID, codes: Sequence[RecoveryCode]) -> None:
        await self.delete_all(user_id)
        await self._conn.execute(
            insert(mfa_recovery_codes),
            [values_of(code, user_id=user_id) for code in codes],
        )

    async def unused(self, user_id: UUID) -> list[RecoveryCode]:
        rows = await self._conn.execute(
            select(mfa_recovery_codes).where(
                mfa_recovery_codes.c.user_id == user_id, mfa_recovery_codes.c.used_at.is_(None)
            )
        )
        return [record_of(RecoveryCode, row) for row in rows]

    async def use(self, code_id: UUID, now: datetime) -> bool:
        # Conditional update: of two concurrent uses of one code, exactly one succeeds.
        result = await self._conn.execute(
            update(mfa_recovery_codes)
            .where(mfa_recovery_codes.c.id == code_id, mfa_recovery_codes.c.used_at.is_(None))
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def count_unused(self, user_id: UUID) -> int:
        count: int = (
            await self._conn.scalar(
                select(func.count())
                .select_from(mfa_recovery_codes)
                .where(
                    mfa_recovery_codes.c.user_id == user_id, mfa_recovery_codes.c.used_at.is_(None)
                )
            )
            or 0
        )
        return count

    async def delete_all(self, user_id: UUID) -> None:
        await self._conn.execute(
            delete(mfa_recovery_codes).where(mfa_recovery_codes.c.user_id == user_id)
        )


class SqlMfaChallengeRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, challenge: MfaChallenge) -> None:
        await self._conn.execute(insert(mfa_challenges).values(values_of(challenge)))

    async def get_by_hash(self, token_hash: str) -> MfaChallenge | None:
        row = (
            await self._conn.execute(
                select(mfa_challenges).where(mfa_challenges.c.token_hash == token_hash)
            )
        ).first()
        return None if row is None else record_of(MfaChallenge, row)

    async def claim_attempt(self, challenge_id: UUID, now: datetime) -> bool:
        result = await self._conn.execute(
            update(mfa_challenges)
            .where(*self._open(challenge_id, now))
            .values(attempts=mfa_challenges.c.attempts + 1)
        )
        return result.rowcount == 1

    async def consume(self, challenge_id: UUID, now: datetime) -> bool:
        result = await self._conn.execute(
            update(mfa_challenges)
            .where(
                mfa_challenges.c.id == challenge_id,
                mfa_challenges.c.used_at.is_(None),
                mfa_challenges.c.expires_at > now,
            )
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def delete_expired(self, user_id: UUID, now: datetime) -> None:
        await self._conn.execute(
            delete(mfa_challenges).where(
                mfa_challenges.c.user_id == user_id, mfa_challenges.c.expires_at <= now
            )
        )

    async def delete_all_expired(self, now: datetime) -> int:
        result = await self._conn.execute(
            delete(mfa_challenges).where(mfa_challenges.c.expires_at <= now)
        )
        return int(result.rowcount)

    @staticmethod
    def _open(challenge_id: UUID, now: datetime) -> tuple[Any, ...]:
        return (
            mfa_challenges.c.id == challenge_id,
            mfa_challenges.c.used_at.is_(None),
            mfa_challenges.c.expires_at > now,
            mfa_challenges.c.attempts < MAX_CHALLENGE_ATTEMPTS,
        )


class SqlMfaUnitOfWork(SqlIdentityUnitOfWork):
    """The identity unit of work plus the MFA repositories, on the same connection."""

    totp: SqlTotpCredentialRepository
    recovery_codes: SqlRecoveryCodeRepository
    mfa_challenges: SqlMfaChallengeRepository

    def __init__(self, engine: AsyncEngine, box: SecretBox, *, read_only: bool = False) -> None:
        super().__init__(engine, read_only=read_only)
        self._box = box

    def _bind(self, connection: AsyncConnection) -> None:
        super()._bind(connection)
        self.totp = SqlTotpCredentialRepository(connection, self._box)
        self.recovery_codes = SqlRecoveryCodeRepository(connection)
        self.mfa_challenges = SqlMfaChallengeRepository(connection)
