"""The identity unit of work: the repositories of every capability on one connection.

One class serves every capability's unit-of-work port (each names the repositories it
uses); MFA and OpenID Connect add theirs in subclasses of their own.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from agora.identity.access.adapters.sql import SqlApiKeyRepository
from agora.identity.accounts.adapters.sql import SqlEmailTokenRepository
from agora.identity.adapters.users import SqlUserRepository
from agora.identity.sessions.adapters.sql import SqlRefreshTokenRepository
from agora.identity.tokens.adapters.key_store import SqlSigningKeyStore
from agora.platform.db.transaction import SqlUnitOfWork


class SqlIdentityUnitOfWork(SqlUnitOfWork):
    users: SqlUserRepository
    refresh_tokens: SqlRefreshTokenRepository
    api_keys: SqlApiKeyRepository
    email_tokens: SqlEmailTokenRepository
    signing_keys: SqlSigningKeyStore

    def _bind(self, connection: AsyncConnection) -> None:
        self.users = SqlUserRepository(connection)
        self.refresh_tokens = SqlRefreshTokenRepository(connection)
        self.api_keys = SqlApiKeyRepository(connection)
        self.email_tokens = SqlEmailTokenRepository(connection)
        self.signing_keys = SqlSigningKeyStore(connection)
