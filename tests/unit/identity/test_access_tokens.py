"""Access tokens: what they claim, and every way a forged or stale one is refused."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest

from agora.identity.adapters.jwt_tokens import JwtAccessTokens, key_id
from agora.platform.access import Role
from agora.platform.errors import AuthenticationError

SECRET = "unit-test-secret-" + "0123456789abcdef" * 4  # long enough for HS512 too
tokens = JwtAccessTokens(secret=SECRET, issuer="agora", audience="agora-api", ttl_seconds=900)
USER = uuid.uuid4()
SESSION = uuid.uuid4()


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


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


def _sign(claims: dict[str, object], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": key_id(secret)})


def test_issued_token_round_trips_to_the_same_claims() -> None:
    token = tokens.issue(USER, Role.STAFF, SESSION)
    claims = tokens.verify(token)
    assert (claims.user_id, claims.role, claims.session_id) == (USER, Role.STAFF, SESSION)
    assert claims.mfa is False
    assert tokens.verify(tokens.issue(USER, Role.STAFF, SESSION, mfa=True)).mfa is True


def test_issued_token_carries_the_documented_claims_and_header() -> None:
    token = tokens.issue(USER, Role.ADMIN, SESSION)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    assert header["kid"] == key_id(SECRET)
    payload = jwt.decode(token, options={"verify_signature": False})
    assert set(payload) == {"iss", "aud", "sub", "role", "sid", "iat", "exp", "jti", "amr"}
    assert payload["amr"] == ["pwd"]
    assert payload["exp"] - payload["iat"] == 900
    assert payload["role"] == "admin"
    other = jwt.decode(tokens.issue(USER, Role.ADMIN, SESSION), options={"verify_signature": False})
    assert other["jti"] != payload["jti"]


def test_a_hand_signed_valid_token_is_accepted() -> None:
    assert tokens.verify(_sign(_claims())).user_id == USER


def test_expired_token_is_refused() -> None:
    expired = _sign(_claims(iat=int(time.time()) - 1000, exp=int(time.time()) - 10))
    with pytest.raises(AuthenticationError, match="expired"):
        tokens.verify(expired)


def test_token_signed_with_another_key_is_refused() -> None:
    other = "another-secret-" + "0123456789abcdef" * 4
    forged = jwt.encode(_claims(), other, algorithm="HS256", headers={"kid": key_id(SECRET)})
    with pytest.raises(AuthenticationError):
        tokens.verify(forged)


def test_alg_none_is_refused() -> None:
    unsigned = (
        _b64({"alg": "none", "typ": "JWT", "kid": key_id(SECRET)}) + "." + _b64(_claims()) + "."
    )
    with pytest.raises(AuthenticationError):
        tokens.verify(unsigned)


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
        {"sub": "not-a-uuid"},
        {"role": "superuser"},
        {"sid": None},
    ],
)
def test_wrong_or_missing_claims_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(AuthenticationError):
        tokens.verify(_sign(_claims(**overrides)))


def test_unknown_key_id_is_refused() -> None:
    token = jwt.encode(_claims(), SECRET, algorithm="HS256", headers={"kid": "old-key"})
    with pytest.raises(AuthenticationError):
        tokens.verify(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "a.b", "....", "Bearer x"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(AuthenticationError):
        tokens.verify(garbage)


def test_other_algorithms_are_refused_even_with_the_right_key() -> None:
    token = jwt.encode(_claims(), SECRET, algorithm="HS512", headers={"kid": key_id(SECRET)})
    with pytest.raises(AuthenticationError):
        tokens.verify(token)
