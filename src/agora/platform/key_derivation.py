"""Keys derived from the instance's secret key, one per purpose.

Each is HMAC-SHA256 of a purpose label under ``AGORA_SECRET_KEY``, so the secret itself
never keys anything and a key for one purpose tells nothing about another. The labels
are listed here so that no two uses share one by accident; changing a label changes its
key (every CSRF token or email fingerprint made with the old one stops matching).
"""

from __future__ import annotations

import hashlib
import hmac

# The CSRF tokens of cookie sessions (``SessionService``).
CSRF_TOKENS = b"agora csrf-token key v1"
# The keyed hashes of email addresses the login throttle counts and the audit trail shows.
EMAIL_FINGERPRINTS = b"agora:email-fingerprint"


def derive_key(secret_key: str, purpose: bytes) -> bytes:
    """The 32-byte key for ``purpose`` (one of the labels above)."""
    return hmac.new(secret_key.encode(), purpose, hashlib.sha256).digest()
