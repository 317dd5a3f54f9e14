"""The password policy: length, a blocklist of common passwords, nothing personal."""

from __future__ import annotations

import pytest

from agora.identity.accounts.adapters.common_passwords import common_passwords
from agora.identity.accounts.password_policy import PasswordPolicy, WeakPasswordError
from agora.platform.errors import ValidationError

policy = PasswordPolicy(common_passwords())


@pytest.mark.parametrize(
    "password",
    [
        "violet anchor museum tide",
        "correct-horse-battery-staple",
        "aaaaaaaaaaab",  # no composition rules: length and rarity are what count
        "Ünïcödé pässwörd ✓✓",
        "violet anchor " * 8 + "museum tide rain",  # exactly 128
    ],
)
def test_accepts_long_uncommon_passwords(password: str) -> None:
    policy.check(password, email="ada@example.com", name="Ada Lovelace")


@pytest.mark.parametrize("password", ["", "short", "elevenchars"])
def test_rejects_passwords_under_twelve_characters(password: str) -> None:
    with pytest.raises(WeakPasswordError, match="at least 12 characters") as caught:
        policy.check(password)
    assert caught.value.details == {"field": "password"}
    assert caught.value.code == "VALIDATION_ERROR"
    assert isinstance(caught.value, ValidationError)


def test_rejects_passwords_over_128_characters() -> None:
    with pytest.raises(WeakPasswordError, match="at most 128"):
        policy.check("y" * 129)


@pytest.mark.parametrize(
    "password",
    [
        "qwerty123456",
        "QWERTY123456",  # case does not help
        "1qaz2wsx3edc",
        "password1234",  # a common password padded with digits
        "!!!dragon2024!!!",
        "monkey1234567",
        "zzzzzzzzzzzzzzzz",
    ],
)
def test_rejects_common_passwords_even_when_padded(password: str) -> None:
    with pytest.raises(WeakPasswordError, match="too common"):
        policy.check(password)


@pytest.mark.parametrize(
    ("password", "email", "name"),
    [
        ("margarethe-likes-tea", "margarethe@example.com", "M"),
        ("tea-with-Margarethe!", "m.weber@example.com", "Margarethe Weber"),
        ("jo.hansen.2026.spring", "jo.hansen@example.com", "J"),
    ],
)
def test_rejects_passwords_containing_the_users_name_or_email_name(
    password: str, email: str, name: str
) -> None:
    with pytest.raises(WeakPasswordError, match="name"):
        policy.check(password, email=email, name=name)


def test_short_names_do_not_block_unrelated_passwords() -> None:
    policy.check("aloha-from-the-alps", email="al@example.com", name="Al")


def test_blocklist_is_the_bundled_frequency_list() -> None:
    assert len(common_passwords()) > 20_000
    assert "password" in common_passwords()
