"""The identity bounded context: accounts, passwords, sessions and access tokens.

Choices worth knowing:

- Access tokens are HS256 JWTs (15 minutes by default) verified without a database
  read, so every authenticated request stays cheap. Logout, reuse detection and
  deactivation revoke refresh tokens; an access token already issued keeps working
  until it expires (at most ``access_token_ttl_seconds``). A role change shows up at
  the next refresh.
- Refresh tokens are opaque, stored as SHA-256, single use and rotated on every
  refresh; each rotation extends the session by ``refresh_token_ttl_days`` (sliding).
  A token presented twice (also by two concurrent refreshes) revokes its whole session.
- ``POST /auth/logout`` answers 204 and is idempotent: an unknown token is not an error.
- Login answers the same 401 ``INVALID_CREDENTIALS`` body for an unknown email, a wrong
  password and a deactivated account, and verifies a dummy hash for unknown emails so
  the timing matches too.
"""
