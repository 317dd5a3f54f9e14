"""Authenticated encryption of small secrets at rest (AES-256-GCM, key from AGORA_SECRET_KEY).

Each purpose gets its own key, derived from the application secret with HKDF-SHA256,
so a ciphertext made for one purpose never opens under another. The caller's context
(for instance the owning user's id) is bound in as associated data: a sealed value
copied to another row does not open there.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"
_NONCE_BYTES = 12
_SALT = b"agora-secret-box"


class SecretBoxError(Exception):
    """A sealed value that cannot be opened: tampered, for another context, or another key."""


class SecretBox:
    def __init__(self, master_secret: str, purpose: str) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=_SALT, info=purpose.encode("utf-8")
        ).derive(master_secret.encode("utf-8"))
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, context: bytes = b"") -> str:
        return self.seal_bytes(plaintext.encode("utf-8"), context)

    def open(self, sealed: str, context: bytes = b"") -> str:
        return self.open_bytes(sealed, context).decode("utf-8")

    def seal_bytes(self, plaintext: bytes, context: bytes = b"") -> str:
        # A random 96-bit nonce per value: far below the ~2^32 encryptions per key where
        # random nonces start to risk a collision.
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, context)
        return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def open_bytes(self, sealed: str, context: bytes = b"") -> bytes:
        version, _, payload = sealed.partition(".")
        if version != _VERSION:
            raise SecretBoxError("unknown sealed-value format")
        try:
            raw = base64.urlsafe_b64decode(payload.encode("ascii"))
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context)
        except (InvalidTag, ValueError) as exc:
            raise SecretBoxError("the sealed value does not open with this key") from exc
