"""Login throttling policy (pure): growing lockouts per account and per client IP.

After ``threshold`` failed logins for a key, every further failure locks the key out
for 1 s, then 2 s, 4 s, ... up to ``max_delay``; while locked, a login for it is refused
with 429 before any password is checked. Accounts are keyed on a keyed hash of the
normalised email whether or not an account has that email, so a locked-out unknown
address answers exactly like a locked-out real one. A successful login forgets the
account's failures (not the IP's, or one good password would launder many bad ones).
A key's failures are forgotten ``memory`` seconds after its last failure.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from dataclasses import dataclass

from agora.platform.errors import RateLimitedError

# A client usually holds a whole IPv6 /64 and can hop between its addresses at will.
IPV6_PREFIX = 64


class LoginThrottledError(RateLimitedError):
    """Too many failed logins for this email or from this address; the same for every email."""

    code = "TOO_MANY_LOGIN_ATTEMPTS"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            retry_after,
            f"Too many failed login attempts; try again in {retry_after} seconds.",
        )


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    account_threshold: int = 5
    ip_threshold: int = 20
    max_delay: float = 900.0
    memory: float = 3600.0

    def lockout(self, failures: int, threshold: int) -> float:
        """Seconds a key is locked after its ``failures``-th failure (0 below ``threshold``)."""
        if failures < threshold:
            return 0.0
        exponent = failures - threshold
        if exponent >= 32:  # far past any sane cap; avoids huge powers
            return self.max_delay
        return float(min(2**exponent, self.max_delay))


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """The throttle keys of one login: the email's fingerprint and the client address."""

    account: str | None
    ip: str | None


def email_fingerprint(email: str, key: bytes) -> str:
    """A keyed hash of a normalised email: it correlates attempts without storing the address.

    Keyed so that a leaked table of fingerprints cannot be reversed with a list of
    likely addresses.
    """
    return hmac.new(key, email.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def ip_key(ip: str | None) -> str | None:
    """The address a throttle counts: IPv4 as is, IPv6 by its /64 network."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def retry_after_seconds(wait: float) -> int:
    """Whole seconds for ``Retry-After``: never 0 while still locked."""
    return max(1, math.ceil(wait))


class NoLoginThrottle:
    """Never throttles: for service tests that do not exercise throttling."""

    async def retry_after(self, account: str | None, ip: str | None) -> float:
        return 0.0

    async def failed(self, account: str | None, ip: str | None) -> float:
        return 0.0

    async def succeeded(self, account: str | None, ip: str | None) -> None:
        return None
