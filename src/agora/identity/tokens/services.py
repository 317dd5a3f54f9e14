"""Operating the access-token signing keys: rotate, list, publish (JWKS)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from agora.identity.tokens.ports import KeyRotation, SigningKeyInfo, SigningKeys
from agora.platform.audit import AuditTrail, NullAuditTrail


@dataclass
class SigningKeyService:
    keys: SigningKeys
    audit: AuditTrail = field(default_factory=NullAuditTrail)
    # How long clients may cache the JWKS: as long as a process may take to see a rotation.
    jwks_max_age: int = 60

    async def rotate(
        self, *, drop_previous: bool = False, actor_id: UUID | None = None, via: str = "cli"
    ) -> KeyRotation:
        """A new active key. The previous one keeps verifying the tokens it signed until
        they expire, unless ``drop_previous`` (after a leak) makes them invalid at once."""

        async def record(rotation: KeyRotation) -> None:  # in the rotation's transaction
            await self.audit.record(
                "keys.rotated",
                actor_id=actor_id,
                target_type="signing_key",
                target_id=rotation.new.kid,
                details={
                    "via": via,
                    "retired": list(rotation.retired),
                    "dropped": list(rotation.dropped),
                    "drop_previous": drop_previous,
                },
            )

        return await self.keys.rotate(drop_previous=drop_previous, before_commit=record)

    async def list_keys(self) -> Sequence[SigningKeyInfo]:
        return await self.keys.list_keys()

    async def jwks(self) -> dict[str, Any]:
        return await self.keys.public_jwks()
