"""The password policy (pure domain), after NIST SP 800-63B: length and a blocklist.

No composition rules ("one digit, one symbol"): they push people to predictable
patterns. Instead a password must be 12 to 128 characters, must not be a commonly used
password (also when padded with digits or symbols, like ``dragon123456!``) and must not
contain the user's own email name or name.
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection
from dataclasses import dataclass

from agora.platform.errors import ValidationError

MIN_LENGTH = 12
MAX_LENGTH = 128
# Personal words shorter than this ("Al", "jo") would reject too many good passwords.
MIN_PERSONAL_WORD = 4
_PADDING = string.digits + string.punctuation + " "
_WORDS = re.compile(r"[^\W_]+")


class WeakPasswordError(ValidationError):
    """The password breaks the policy; ``details.field`` is always ``"password"``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="password")


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Checks candidate passwords; ``common`` holds lower-cased common passwords."""

    common: Collection[str]
    min_length: int = MIN_LENGTH
    max_length: int = MAX_LENGTH

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
        for word in _personal_words(email, name):
            if word in lowered:
                raise WeakPasswordError(
                    "The password must not contain your name or the name part of your "
                    "email address."
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
