"""The platform ``Authenticator`` for access tokens: a bearer token -> a principal."""

from __future__ import annotations

from agora.identity.tokens.ports import AccessTokens, RevokedSessionIds, UnknownSigningKeyError
from agora.platform.access import Principal, Role
from agora.platform.errors import AuthenticationError


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
        revocations: RevokedSessionIds | None = None,
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
