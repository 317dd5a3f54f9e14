"""Secrets at rest: AES-GCM with HKDF-derived keys, bound to their owner."""

from __future__ import annotations

import base64

import pytest

from agora.identity.adapters.secret_box import SecretBox, SecretBoxError

MASTER = "m" * 48
OWNER = b"\x01" * 16


def test_a_sealed_secret_opens_again_and_does_not_show_the_plaintext() -> None:
    box = SecretBox(MASTER, purpose="totp")
    sealed = box.seal("JBSWY3DPEHPK3PXP", OWNER)
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert box.open(sealed, OWNER) == "JBSWY3DPEHPK3PXP"


def test_each_seal_uses_a_fresh_nonce() -> None:
    box = SecretBox(MASTER, purpose="totp")
    assert box.seal("same", OWNER) != box.seal("same", OWNER)


def test_another_owner_cannot_open_it() -> None:
    box = SecretBox(MASTER, purpose="totp")
    sealed = box.seal("secret", OWNER)
    with pytest.raises(SecretBoxError):
        box.open(sealed, b"\x02" * 16)


@pytest.mark.parametrize(
    "other",
    [SecretBox("n" * 48, purpose="totp"), SecretBox(MASTER, purpose="signing-keys")],
    ids=["another secret key", "another purpose"],
)
def test_another_key_cannot_open_it(other: SecretBox) -> None:
    sealed = SecretBox(MASTER, purpose="totp").seal("secret", OWNER)
    with pytest.raises(SecretBoxError):
        other.open(sealed, OWNER)


def test_a_tampered_value_is_refused() -> None:
    box = SecretBox(MASTER, purpose="totp")
    version, payload = box.seal("secret", OWNER).split(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(payload))
    raw[-1] ^= 1
    tampered = f"{version}.{base64.urlsafe_b64encode(bytes(raw)).decode()}"
    for bad in (tampered, "v2." + payload, "v1.!!!", "garbage"):
        with pytest.raises(SecretBoxError):
            box.open(bad, OWNER)
