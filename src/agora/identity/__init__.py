"""The identity bounded context: accounts, passwords, sessions and access tokens.

One subpackage per capability, each shaped like a context (domain, ports, services,
api, schemas, adapters), above what they all share here (``domain``: the user;
``ports``: the users and their unit of work, password hashing, account mail;
``adapters``: the users table, the one SQL unit of work, sealed secrets):

- ``accounts``: sign-up, profile, email verification, password reset and change, the
  password policy and the pages the emailed links open;
- ``sessions``: signing in, refresh tokens, cookie sessions, the user's sessions,
  revocation, login throttling;
- ``tokens``: access tokens (JWT), the signing key ring, the JWKS;
- ``access``: user administration, API keys, the current-role check;
- ``mfa``: the second factor (TOTP, recovery codes); ``oidc``: OpenID Connect login.

Choices worth knowing:

- Access tokens are ES256 JWTs (15 minutes by default) verified without a database
  read: signing keys (``signing_keys``, private halves encrypted) and revoked sessions
  are held in memory by every process and re-read every few seconds. Logout, session
  revocation, reuse detection and deactivation stop a session's access tokens within
  ``session_revocation_poll_seconds``. Credentials of staff and admins are also
  checked against the account's current role and activation (``current_access``): a
  demotion or deactivation reaches them within the same interval (at once in the
  process that made it); a promotion shows up at the next refresh.
- Account security (password, MFA, sessions, API keys) needs a signed-in session: an
  API key gets ``403 SESSION_REQUIRED`` there.
  Keys rotate with ``agora keys rotate``; ``/.well-known/jwks.json`` publishes them.
- Refresh tokens are opaque, stored as SHA-256, single use and rotated on every
  refresh; a session ends after ``session_idle_ttl_hours`` unused and at the latest
  ``session_absolute_ttl_days`` after sign-in. A token presented twice (also by two
  concurrent refreshes) revokes its whole session.
- Browsers get a cookie session instead (``/auth/cookie-login``): an HttpOnly
  ``__Host-`` cookie that never rotates, and a CSRF token required on changes.
- ``POST /auth/logout`` answers 204 and is idempotent: an unknown token is not an error.
- Login answers the same 401 ``INVALID_CREDENTIALS`` body for an unknown email, a wrong
  password and a deactivated account, and verifies a dummy hash for unknown emails so
  the timing matches too.
"""
