"""TOTP step matching, replay and drift rules, recovery codes and challenges (pure functions)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from agora.identity.mfa.domain import (
    LOCKOUT,
    LOCKOUT_AFTER_FAILURES,
    MAX_CHALLENGE_ATTEMPTS,
    MfaChallenge,
    RecoveryCode,
    TotpCredential,
    hash_challenge_token,
    hash_recovery_code,
    matching_step,
    new_challenge_token,
    new_recovery_codes,
    new_totp_secret,
    normalise_recovery_code,
    normalise_totp,
    otpauth_uri,
    time_step,
)
from agora.platform.ids import new_id

NOW = datetime(2026, 11, 22, 12, 0, 10, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _code(at: datetime) -> str:
    return pyotp.TOTP(SECRET).at(at)


def test_a_secret_has_160_bits() -> None:
    secret = new_totp_secret()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert secret != new_totp_secret()


def test_the_otpauth_uri_names_issuer_and_account() -> None:
    uri = otpauth_uri(SECRET, "ada@example.com", "Agora Shop")
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert (parsed.secret, parsed.name, parsed.issuer) == (SECRET, "ada@example.com", "Agora Shop")
    assert (parsed.digits, parsed.interval) == (6, 30)


def test_the_current_code_matches_the_current_step() -> None:
    assert matching_step(SECRET, _code(NOW), NOW) == time_step(NOW)


@pytest.mark.parametrize("offset", [-1, 1])
def test_one_step_of_drift_either_way_is_accepted(offset: int) -> None:
    code = _code(NOW + timedelta(seconds=30 * offset))
    assert matching_step(SECRET, code, NOW) == time_step(NOW) + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_codes_further_away_are_refused(offset: int) -> None:
    assert matching_step(SECRET, _code(NOW + timedelta(seconds=30 * offset)), NOW) is None


def test_a_step_at_or_before_the_last_used_one_is_a_replay() -> None:
    step = time_step(NOW)
    assert matching_step(SECRET, _code(NOW), NOW, after=step) is None
    assert matching_step(SECRET, _code(NOW - timedelta(seconds=30)), NOW, after=step) is None
    assert matching_step(SECRET, _code(NOW + timedelta(seconds=30)), NOW, after=step) == step + 1


def test_codes_may_be_typed_with_spaces() -> None:
    code = _code(NOW)
    assert matching_step(SECRET, f" {code[:3]} {code[3:]} ", NOW) == time_step(NOW)


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦", "ABCD-EFGH"])
def test_anything_but_six_ascii_digits_is_not_a_totp(code: str) -> None:
    assert normalise_totp(code) is None
    assert matching_step(SECRET, code, NOW) is None


def test_recovery_codes_are_ten_distinct_80_bit_codes_in_readable_groups() -> None:
    codes = new_recovery_codes()
    assert len(codes) == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}", code)


def test_a_recovery_code_is_recognised_however_it_is_typed() -> None:
    code = new_recovery_codes(1)[0]
    stored = normalise_recovery_code(code)
    assert stored is not None
    for typed in (code.lower(), code.replace("-", ""), code.replace("-", " "), f" {code} "):
        assert normalise_recovery_code(typed) == stored


def test_recovery_codes_are_stored_salted_and_hashed() -> None:
    code = new_recovery_codes(1)[0]
    user_id = new_id()
    first = RecoveryCode.of(new_id(), user_id, code, NOW)
    second = RecoveryCode.of(new_id(), user_id, code, NOW)
    normalised = normalise_recovery_code(code)
    assert normalised is not None
    assert normalised not in first.code_hash
    assert len(first.code_hash) == 64
    assert len(first.salt) == 32
    # The same code under two salts: two unrelated hashes, both matching it.
    assert first.code_hash != second.code_hash
    assert first.matches(normalised)
    assert second.matches(normalised)
    assert not first.matches(normalise_recovery_code(new_recovery_codes(1)[0]) or "")
    assert first.code_hash == hash_recovery_code(normalised, first.salt)


@pytest.mark.parametrize("code", ["ABCD-EFGH-JKLM", "ABCD-EFGH-JKLM-NPQ0", "ABCD-EFGH-JKLM-NPQRS"])
def test_malformed_recovery_codes_are_not_recognised(code: str) -> None:
    assert normalise_recovery_code(code) is None


def test_challenge_tokens_are_random_and_stored_hashed() -> None:
    token, token_hash = new_challenge_token()
    assert len(token) >= 43
    assert token_hash == hash_challenge_token(token) != token
    assert new_challenge_token()[0] != token


def _challenge(**changes: object) -> MfaChallenge:
    values: dict[str, object] = {
        "id": new_id(),
        "user_id": new_id(),
        "token_hash": "h",
        "created_at": NOW,
        "expires_at": NOW + timedelta(minutes=5),
    }
    values.update(changes)
    return MfaChallenge(**values)  # type: ignore[arg-type]


def test_a_challenge_is_open_until_used_expired_or_out_of_attempts() -> None:
    assert _challenge().is_open(NOW)
    assert not _challenge().is_open(NOW + timedelta(minutes=5))
    assert not _challenge(used_at=NOW).is_open(NOW)
    assert _challenge(attempts=MAX_CHALLENGE_ATTEMPTS - 1).is_open(NOW)
    assert not _challenge(attempts=MAX_CHALLENGE_ATTEMPTS).is_open(NOW)


def test_the_second_factor_locks_after_repeated_failures_for_a_while() -> None:
    base = TotpCredential(user_id=new_id(), secret=SECRET, created_at=NOW, updated_at=NOW)
    assert base.locked_for(NOW) == 0
    almost = TotpCredential(
        user_id=base.user_id,
        secret=SECRET,
        created_at=NOW,
        updated_at=NOW,
        failed_attempts=LOCKOUT_AFTER_FAILURES - 1,
        last_failed_at=NOW,
    )
    assert almost.locked_for(NOW) == 0
    locked = TotpCredential(
        user_id=base.user_id,
        secret=SECRET,
        created_at=NOW,
        updated_at=NOW,
        failed_attempts=LOCKOUT_AFTER_FAILURES,
        last_failed_at=NOW,
    )
    assert locked.locked_for(NOW) == int(LOCKOUT.total_seconds())
    assert locked.locked_for(NOW + LOCKOUT - timedelta(seconds=0.5)) == 1
    assert locked.locked_for(NOW + LOCKOUT) == 0
