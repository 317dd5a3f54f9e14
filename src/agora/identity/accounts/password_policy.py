"""The password policy (pure domain), after NIST SP 800-63B: length, a blocklist, strength.

No composition rules ("one digit, one symbol"): they push people to predictable
patterns. Instead a password must be 12 to 128 characters, must not be a commonly used
password (also when padded with digits or symbols, like ``dragon123456!``), must not
contain the user's own email name or name, and must reach a minimum strength estimate
(zxcvbn's score, through the ``StrengthEstimator`` port) - with the estimator's advice
in the error, so the person knows what to change.
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from agora.identity.accounts.ports import Strength, StrengthEstimator
from agora.identity.domain import MAX_PASSWORD_LENGTH
from agora.platform.errors import ValidationError

MIN_LENGTH = 12
# Personal words shorter than this ("Al", "jo") would reject too many good passwords.
MIN_PERSONAL_WORD = 4
_PADDING = string.digits + string.punctuation + " "
_WORDS = re.compile(r"[^\W_]+")


class WeakPasswordError(ValidationError):
    """The password breaks the policy; ``details.field`` is always ``"password"``."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, field="password", **details)


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Checks candidate passwords; ``common`` holds lower-cased common passwords.

    With a ``strength`` estimator, a password must also score at least ``min_strength``.
    """

    common: Collection[str]
    min_length: int = MIN_LENGTH
    max_length: int = MAX_PASSWORD_LENGTH
    strength: StrengthEstimator | None = None
    min_strength: int = 3

    def check(self, password: str, *, email: str = "", name: str = "") -> None:
        """Raise ``WeakPasswordError`` with an actionable message, or return."""
        length = len(password)
        if length < self.min_length:
            raise WeakPasswordError(
                f"The password must be at least {self.min_length} characters long "
                f"(it has {length}); a few unrelated words make a strong one."
            )
        if length > self.max_length:
            raise WeakPasswordError(
                f"The password must be at most {self.max_length} characters long."
            )
        if len(set(password)) == 1 or self._is_common(password):
            raise WeakPasswordError(
                "This password is too common and easy to guess; choose something "
                "less predictable, such as a few unrelated words."
            )
        lowered = password.casefold()
        personal = _personal_words(email, name)
        for word in personal:
            if word in lowered:
                raise WeakPasswordError(
                    "The password must not contain your name or the name part of your "
                    "email address."
                )
        if self.strength is not None and self.min_strength > 0:
            self._check_strength(self.strength.estimate(password, sorted(personal)))

    def _check_strength(self, estimate: Strength) -> None:
        if estimate.score >= self.min_strength:
            return
        advice = " ".join(part for part in (estimate.warning, *estimate.suggestions) if part)
        raise WeakPasswordError(
            "This password would be easy to guess. "
            + (advice or "Add another word or two; uncommon words are better."),
            score=estimate.score,
            min_score=self.min_strength,
            warning=estimate.warning,
            suggestions=list(estimate.suggestions),
        )

    def _is_common(self, password: str) -> bool:
        lowered = password.casefold()
        candidates = {
            lowered,
            lowered.strip(),
            lowered.rstrip(_PADDING),
            lowered.lstrip(_PADDING),
            lowered.strip(_PADDING),
        }
        return any(candidate and candidate in self.common for candidate in candidates)


def _personal_words(email: str, name: str) -> set[str]:
    local = email.rpartition("@")[0] if "@" in email else email
    parts = {local.casefold(), name.casefold().strip()}
    parts |= {word.casefold() for word in _WORDS.findall(local)}
    parts |= {word.casefold() for word in _WORDS.findall(name)}
    return {part for part in parts if len(part) >= MIN_PERSONAL_WORD}
