"""The strength estimate in the password policy: advice a person can act on, bounded cost."""

from __future__ import annotations

import time

import pytest

from agora.identity.accounts.adapters.common_passwords import common_passwords
from agora.identity.accounts.adapters.password_strength import ZxcvbnStrengthEstimator
from agora.identity.accounts.password_policy import PasswordPolicy, WeakPasswordError
from tests.support.accounts import PASSWORD

policy = PasswordPolicy(common_passwords(), strength=ZxcvbnStrengthEstimator(), min_strength=3)


@pytest.mark.parametrize(
    "password",
    [
        PASSWORD,
        "correct horse battery staple",
        "lantern-orchard-harbour-2026",
        "Ünïcödé pässwörd ✓✓",
        "violet anchor " * 8 + "museum tide rain",  # 128 characters
    ],
)
def test_passphrases_pass(password: str) -> None:
    policy.check(password, email="ada@example.com", name="Ada Lovelace")


@pytest.mark.parametrize(
    ("password", "advice"),
    [
        ("aaaaaaaaaaab", 'Repeats like "aaa" are easy to guess.'),
        ("abcdefghijklmn", 'Sequences like "abc" or "6543" are easy to guess.'),
        ("asdfghjkl;lkjh", "Short keyboard patterns are easy to guess."),
        ("zxcvbnmasdfgh", "This is similar to a commonly used password."),
    ],
)
def test_guessable_passwords_are_refused_with_the_estimators_advice(
    password: str, advice: str
) -> None:
    with pytest.raises(WeakPasswordError) as caught:
        policy.check(password, email="ada@example.com", name="Ada Lovelace")

    error = caught.value
    assert error.code == "VALIDATION_ERROR"
    assert error.details["field"] == "password"
    assert error.details["score"] < 3
    assert error.details["min_score"] == 3
    assert advice in error.message
    assert error.details["suggestions"], "at least one suggestion to act on"
    assert error.message.startswith("This password would be easy to guess.")


def test_a_minimum_of_zero_makes_the_estimate_advisory() -> None:
    lenient = PasswordPolicy(common_passwords(), strength=ZxcvbnStrengthEstimator(), min_strength=0)
    lenient.check("aaaaaaaaaaab")


@pytest.mark.parametrize("password", ["ab" * 64, "a1" * 64, "qwertyuiop" * 12 + "zxcvbnm!"])
def test_the_longest_passwords_are_estimated_in_bounded_time(password: str) -> None:
    started = time.perf_counter()
    with pytest.raises(WeakPasswordError):
        policy.check(password)
    assert time.perf_counter() - started < 0.5


def test_the_estimate_sees_only_the_first_40_characters() -> None:
    estimator = ZxcvbnStrengthEstimator()
    weak_prefix = "ab" * 20
    assert estimator.estimate(weak_prefix + "quartz meadow lantern ferry", ()).score < 3
