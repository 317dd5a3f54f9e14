"""The browser cookie session, as the HTTP edge sees it: names and the authenticator port.

A browser holds its session in an HttpOnly ``__Host-`` cookie, which the browser also
attaches to requests that another site makes it send; so a cookie-authenticated request
that changes something must also carry the session's CSRF token in a header, which
another site cannot read. Bearer credentials are never attached by a browser on its own
and need no CSRF token.
"""

from __future__ import annotations

from typing import Protocol

from agora.platform.access import Principal

# ``__Host-``: the browser accepts it only with Secure, Path=/ and no Domain, so neither
# a sibling subdomain nor a plain-HTTP page can set or overwrite it.
SESSION_COOKIE = "__Host-agora_session"
# Readable by the page's own scripts (not HttpOnly), so they can echo it in the header.
CSRF_COOKIE = "__Host-agora_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CookieAuthenticator(Protocol):
    async def authenticate_cookie(
        self, cookie: str, *, csrf_token: str | None, unsafe: bool
    ) -> Principal | None:
        """The session's principal; None when the cookie names no live session.

        Raises ``PermissionDeniedError`` (code ``CSRF_FAILED``) for an ``unsafe`` request
        whose ``csrf_token`` does not belong to the session.
        """
        ...
