"""The platform ``Authenticator`` for bearer credentials: access tokens, and the switch
that sends API keys to their own authenticator."""

from __future__ import annotations

from agora.identity.domain import is_api_key
from agora.identity.ports import AccessTokens, UnknownSigningKeyError
from agora.identity.revocation import RevokedSessions
from agora.platform.access import Authenticator, Principal, Role
from agora.platform.errors import AuthenticationError
from agora.platform.logging import get_logger

log = get_logger("agora.identity")


class TokenAuthenticator:
    """The platform ``Authenticator``: a bearer access token -> a principal.

    No database read per request: the signature is checked against keys held in
    memory, and the session against the in-memory set of revoked sessions. Both are
    refreshed from the database every few seconds (by the request that finds it due),
    so a logout, a revoked session or a key rotation elsewhere takes effect here
    within ``session_revocation_poll_seconds`` / at once for an unknown key.

    Roles in ``mfa_required_roles`` act with no permissions at all unless the session
    was opened with a second factor; they can still reach their profile and enroll.
    """

    def __init__(
        self,
        tokens: AccessTokens,
        revocations: RevokedSessions | None = None,
        *,
        mfa_required_roles: frozenset[Role] = frozenset(),
    ) -> None:
        self._tokens = tokens
        self._revocations = revocations
        self._mfa_required_roles = mfa_required_roles

    async def authenticate(self, credential: str) -> Principal:
        await self._tokens.sync_keys()
        try:
            claims = self._tokens.verify(credential)
        except UnknownSigningKeyError:
            await self._tokens.sync_keys(unknown_kid=True)
            claims = self._tokens.verify(credential)
        if self._revocations is not None:
            await self._revocations.poll_if_due()
            if claims.session_id in self._revocations:
                raise AuthenticationError("The session has ended; log in again.")
        return Principal.for_user(
            claims.user_id,
            claims.role,
            claims.session_id,
            mfa=claims.mfa,
            mfa_required_roles=self._mfa_required_roles,
        )


class CredentialAuthenticator:
    """The platform ``Authenticator``: API keys to the key store, anything else to tokens."""

    def __init__(self, api_keys: Authenticator, tokens: Authenticator) -> None:
        self._api_keys = api_keys
        self._tokens = tokens

    async def authenticate(self, credential: str) -> Principal:
        if is_api_key(credential):
            return await self._api_keys.authenticate(credential)
        return await self._tokens.authenticate(credential)
