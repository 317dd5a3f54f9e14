"""Access tokens: what they claim, and every way a forged or stale one is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from agora.identity.tokens.adapters import jwt_tokens
from agora.identity.tokens.adapters.jwt_tokens import JwtAccessTokens
from agora.identity.tokens.adapters.key_material import public_jwk, thumbprint
from agora.identity.tokens.adapters.key_ring import KeyRing
from agora.identity.tokens.ports import UnknownSigningKeyError
from agora.platform.access import Role
from agora.platform.errors import AuthenticationError

RING = KeyRing.ephemeral()
KID, PRIVATE_KEY = RING.signer()
tokens = JwtAccessTokens(RING, issuer="agora", audience="agora-api", ttl_seconds=900)
USER = uuid.uuid4()
SESSION = uuid.uuid4()
HEADER = {"kid": KID, "typ": "at+jwt"}


def _b64(data: dict[str, object] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": "agora",
        "aud": "agora-api",
        "sub": str(USER),
        "role": "customer",
        "sid": str(SESSION),
        "iat": now,
        "exp": now + 900,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(
    claims: dict[str, object],
    key: ec.EllipticCurvePrivateKey = PRIVATE_KEY,
    headers: dict[str, object] | None = None,
) -> str:
    return jwt.encode(claims, key, algorithm="ES256", headers=headers or HEADER)


def _sign_raw(header: dict[str, object], claims: dict[str, object]) -> str:
    """ES256 by hand, for headers PyJWT itself would refuse to write."""
    signing_input = f"{_b64(header)}.{_b64(claims)}"
    r, s = decode_dss_signature(PRIVATE_KEY.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _public_pem() -> bytes:
    return PRIVATE_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_issued_token_round_trips_to_the_same_claims() -> None:
    token = tokens.issue(USER, Role.STAFF, SESSION)
    claims = tokens.verify(token)
    assert (claims.user_id, claims.role, claims.session_id) == (USER, Role.STAFF, SESSION)
    assert claims.mfa is False
    assert tokens.verify(tokens.issue(USER, Role.STAFF, SESSION, mfa=True)).mfa is True


def test_issued_token_carries_the_documented_claims_and_header() -> None:
    token = tokens.issue(USER, Role.ADMIN, SESSION)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "kid": KID, "typ": "at+jwt"}
    # The kid is the RFC 7638 thumbprint, which anyone can recompute from the JWKS.
    assert thumbprint(PRIVATE_KEY.public_key()) == KID
    payload = jwt.decode(token, options={"verify_signature": False})
    assert set(payload) == {"iss", "aud", "sub", "role", "sid", "iat", "exp", "jti", "amr"}
    assert payload["amr"] == ["pwd"]
    assert payload["exp"] - payload["iat"] == 900
    assert payload["role"] == "admin"
    other = jwt.decode(tokens.issue(USER, Role.ADMIN, SESSION), options={"verify_signature": False})
    assert other["jti"] != payload["jti"]
    mfa = jwt.decode(
        tokens.issue(USER, Role.ADMIN, SESSION, mfa=True), options={"verify_signature": False}
    )
    assert mfa["amr"] == ["pwd", "otp"]


def test_an_outside_verifier_with_only_the_public_key_accepts_the_token() -> None:
    token = tokens.issue(USER, Role.CUSTOMER, SESSION)
    claims = jwt.decode(
        token, PRIVATE_KEY.public_key(), algorithms=["ES256"], audience="agora-api", issuer="agora"
    )
    assert claims["sub"] == str(USER)


def test_a_hand_signed_valid_token_is_accepted() -> None:
    assert tokens.verify(_sign(_claims())).user_id == USER


def test_expired_token_is_refused() -> None:
    expired = _sign(_claims(iat=int(time.time()) - 1000, exp=int(time.time()) - 10))
    with pytest.raises(AuthenticationError, match="expired"):
        tokens.verify(expired)


def test_token_signed_with_another_key_under_our_kid_is_refused() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(AuthenticationError):
        tokens.verify(_sign(_claims(), other))


def test_token_from_another_key_ring_is_refused() -> None:
    foreign = JwtAccessTokens(
        KeyRing.ephemeral(), issuer="agora", audience="agora-api", ttl_seconds=900
    )
    with pytest.raises(UnknownSigningKeyError):
        tokens.verify(foreign.issue(USER, Role.ADMIN, SESSION))


def test_alg_none_is_refused() -> None:
    unsigned = _b64({"alg": "none", "typ": "at+jwt", "kid": KID}) + "." + _b64(_claims()) + "."
    with pytest.raises(AuthenticationError):
        tokens.verify(unsigned)


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(_public_pem(), id="public-key-pem"),
        pytest.param(json.dumps(public_jwk(PRIVATE_KEY.public_key())).encode(), id="public-jwk"),
    ],
)
@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_token_keyed_with_public_material_is_refused(secret: bytes, alg: str) -> None:
    """Algorithm confusion: the public key, known to all, used as an HMAC secret."""
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    signing_input = f"{_b64({'alg': alg, 'typ': 'at+jwt', 'kid': KID})}.{_b64(_claims())}"
    signature = hmac.new(secret, signing_input.encode(), digest).digest()
    with pytest.raises(AuthenticationError):
        tokens.verify(f"{signing_input}.{_b64(signature)}")


def test_a_relabelled_algorithm_is_refused() -> None:
    _header, payload, signature = tokens.issue(USER, Role.CUSTOMER, SESSION).split(".")
    relabelled = _b64({"alg": "ES384", "typ": "at+jwt", "kid": KID})
    with pytest.raises(AuthenticationError):
        tokens.verify(f"{relabelled}.{payload}.{signature}")


def test_tampered_payload_is_refused() -> None:
    header, _payload, signature = tokens.issue(USER, Role.CUSTOMER, SESSION).split(".")
    promoted = _b64(_claims(role="admin"))
    with pytest.raises(AuthenticationError):
        tokens.verify(f"{header}.{promoted}.{signature}")


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "someone-else"},
        {"iss": "evil"},
        {"aud": None},
        {"iss": None},
        {"sub": None},
        {"exp": None},
        {"iat": None},
        {"sub": "not-a-uuid"},
        {"role": "superuser"},
        {"sid": None},
    ],
)
def test_wrong_or_missing_claims_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(AuthenticationError):
        tokens.verify(_sign(_claims(**overrides)))


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "ES256", "kid": KID},  # no typ: perhaps a JWT minted for another purpose
        {"alg": "ES256", "kid": KID, "typ": "JWT"},
        {"alg": "ES256", "typ": "at+jwt"},  # no kid
        {"alg": "ES256", "kid": 42, "typ": "at+jwt"},
    ],
)
def test_tokens_of_another_type_or_without_a_kid_are_refused(header: dict[str, object]) -> None:
    assert tokens.verify(_sign_raw({**header, "kid": KID, "typ": "at+jwt"}, _claims()))
    with pytest.raises(AuthenticationError):
        tokens.verify(_sign_raw(header, _claims()))


def test_unknown_key_id_is_its_own_kind_of_refusal() -> None:
    token = _sign(_claims(), headers={"kid": "old-key", "typ": "at+jwt"})
    with pytest.raises(UnknownSigningKeyError):
        tokens.verify(token)
    assert issubclass(UnknownSigningKeyError, AuthenticationError)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "a.b", "....", "Bearer x"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(AuthenticationError):
        tokens.verify(garbage)


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = tokens.issue(USER, Role.CUSTOMER, SESSION)
    assert tokens.verify(token).user_id == USER
    later = time.time() + 901
    monkeypatch.setattr(jwt_tokens.time, "time", lambda: later)
    with pytest.raises(AuthenticationError, match="expired"):
        tokens.verify(token)


def test_the_cache_of_verified_tokens_is_bounded() -> None:
    small = JwtAccessTokens(
        RING, issuer="agora", audience="agora-api", ttl_seconds=900, cache_size=3
    )
    issued = [small.issue(USER, Role.CUSTOMER, SESSION) for _ in range(5)]
    for token in issued:
        small.verify(token)
    assert len(small._verified) == 3
    assert all(small.verify(token).user_id == USER for token in issued)


def test_a_header_only_lenient_parsers_would_read_is_refused() -> None:
    """The kid is picked with a quick look; PyJWT's strict parse must agree, or 401."""
    header, payload, signature = tokens.issue(USER, Role.CUSTOMER, SESSION).split(".")
    for mangled in (f"{header}!", f"!{header}", f"{header[:5]}\n{header[5:]}", header + "=" * 3):
        with pytest.raises(AuthenticationError):
            tokens.verify(f"{mangled}.{payload}.{signature}")
    with pytest.raises(AuthenticationError):
        tokens.verify(f"{'A' * 600}.{payload}.{signature}")
