"""Ports of OpenID Connect login: linked identities, pending sign-ins, and the provider."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from agora.identity.oidc.domain import LoginState, OidcIdentity, OidcLink
from agora.identity.sessions.ports import SessionsUnitOfWork


class OidcLinkRepository(Protocol):
    async def add(self, link: OidcLink) -> None:
        """Insert; raises ``AlreadyExistsError`` when ``(issuer, subject)`` is already linked."""
        ...

    async def get(self, issuer: str, subject: str) -> OidcLink | None: ...


class OidcLoginStateRepository(Protocol):
    async def add(self, state: LoginState) -> None: ...

    async def get_by_hash(self, state_hash: str) -> LoginState | None: ...

    async def mark_used(self, state_id: UUID, now: datetime) -> bool:
        """Use the state up; False when another callback got there first."""
        ...

    async def delete_expired(self, now: datetime) -> int: ...


class OidcUnitOfWork(SessionsUnitOfWork, Protocol):
    """Linking an account ends its sessions when its password is cleared."""

    @property
    def oidc_links(self) -> OidcLinkRepository: ...

    @property
    def oidc_states(self) -> OidcLoginStateRepository: ...


OidcUnitOfWorkFactory = Callable[..., OidcUnitOfWork]
"""Called as ``factory()`` for a writing unit or ``factory(read_only=True)`` for a query."""


class OidcProvider(Protocol):
    """One OpenID Connect provider, found through its discovery document."""

    @property
    def issuer(self) -> str: ...

    async def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_challenge: str
    ) -> str:
        """The provider's authorization endpoint with the request in its query.

        Raises ``OidcProviderUnavailableError`` when the provider cannot be reached.
        """
        ...

    async def requires_issuer_in_response(self) -> bool:
        """True when the provider promises the RFC 9207 ``iss`` callback parameter."""
        ...

    async def redeem(self, *, code: str, code_verifier: str, redirect_uri: str) -> OidcIdentity:
        """Exchange the code and return the claims of the verified ID token.

        The signature, ``iss``, ``aud``, ``azp``, ``exp`` and ``iat`` are checked here; the
        caller compares the nonce. Raises ``OidcCodeRejectedError``,
        ``OidcIdTokenInvalidError`` or ``OidcProviderUnavailableError``.
        """
