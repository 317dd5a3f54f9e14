"""Password strength estimates by zxcvbn (pattern matching against dictionaries,
keyboard walks, dates, repeats and sequences), behind the ``StrengthEstimator`` port.

zxcvbn's cost grows steeply with length (tens of milliseconds at 40 characters, a
quarter of a second at 72, and it refuses longer input), and it runs on the event loop.
Only the first ``SAMPLE_LENGTH`` characters are estimated: a password whose first 40
characters are hard to guess is hard to guess, and no request can buy seconds of CPU.
"""

from __future__ import annotations

from collections.abc import Sequence

from zxcvbn import zxcvbn  # type: ignore[import-untyped]

from agora.identity.accounts.ports import Strength

SAMPLE_LENGTH = 40


class ZxcvbnStrengthEstimator:
    def estimate(self, password: str, personal: Sequence[str]) -> Strength:
        result = zxcvbn(password[:SAMPLE_LENGTH], user_inputs=list(personal))
        feedback = result.get("feedback") or {}
        return Strength(
            score=int(result["score"]),
            warning=str(feedback.get("warning") or ""),
            suggestions=tuple(str(s) for s in feedback.get("suggestions") or ()),
        )
