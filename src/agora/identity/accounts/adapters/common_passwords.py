"""The blocklist of common passwords, taken from the frequency lists bundled with zxcvbn.

zxcvbn ships the 30,000 most common passwords from real breaches (a declared
dependency, so the list travels with the package); they are loaded once, lower-cased.
"""

from __future__ import annotations

from functools import cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])
