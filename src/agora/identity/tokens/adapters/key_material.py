"""Signing-key material: ES256 key pairs, their JWK form and thumbprint, and the cipher
that keeps private keys encrypted at rest (AES-256-GCM under a key derived from
``AGORA_SECRET_KEY``)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from agora.identity.adapters.secret_box import SecretBox, SecretBoxError
from agora.identity.tokens.ports import StoredKey

ALGORITHM = "ES256"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
    }


def thumbprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256): a kid anyone can recompute from the JWKS."""
    members = public_jwk(public_key)
    canonical = json.dumps({k: members[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode()).digest())


class KeyCipher:
    """Seals private keys with the application's ``SecretBox`` (AES-256-GCM, HKDF key);
    the kid is bound in as associated data, so a ciphertext copied onto another row does
    not decrypt."""

    def __init__(self, secret: str) -> None:
        self._box = SecretBox(secret, purpose="agora/signing-key/v1")

    def encrypt(self, kid: str, plaintext: bytes) -> str:
        return self._box.seal_bytes(plaintext, kid.encode())

    def decrypt(self, kid: str, stored: str) -> bytes:
        """Raises ``ValueError`` when the text was not sealed by this secret for this kid."""
        try:
            return self._box.open_bytes(stored, kid.encode())
        except SecretBoxError:
            raise ValueError("the private key does not decrypt with AGORA_SECRET_KEY") from None


def new_stored_key(cipher: KeyCipher, now: datetime) -> StoredKey:
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key()
    kid = thumbprint(public)
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    return StoredKey(kid, ALGORITHM, pem, cipher.encrypt(kid, der), True, now, None)
