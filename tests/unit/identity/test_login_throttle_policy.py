"""The throttle policy and the per-process counters, on a clock the test moves."""

from __future__ import annotations

from agora.identity.sessions.adapters.throttle_counters import MemoryLoginThrottle
from agora.identity.sessions.throttle import ThrottlePolicy, email_fingerprint, ip_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lockouts_double_from_one_second_up_to_the_cap() -> None:
    policy = ThrottlePolicy(account_threshold=5, max_delay=900)
    delays = [policy.lockout(n, 5) for n in range(1, 20)]
    assert delays[:4] == [0, 0, 0, 0]
    assert delays[4:15] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900]
    assert set(delays[15:]) == {900}
    assert policy.lockout(10_000, 5) == 900


async def test_failures_lock_an_account_for_growing_delays_and_success_resets() -> None:
    clock = Clock()
    throttle = MemoryLoginThrottle(ThrottlePolicy(account_threshold=3, ip_threshold=100), clock)
    assert [await throttle.failed("acct", None) for _ in range(3)] == [0, 0, 1]
    assert await throttle.retry_after("acct", None) == 1
    assert await throttle.retry_after("other", None) == 0
    clock.now += 1
    assert await throttle.retry_after("acct", None) == 0
    assert await throttle.failed("acct", None) == 2
    clock.now += 0.5
    assert await throttle.retry_after("acct", None) == 1.5

    await throttle.succeeded("acct", None)
    assert await throttle.retry_after("acct", None) == 0
    assert [await throttle.failed("acct", None) for _ in range(3)] == [0, 0, 1]


async def test_the_address_keeps_its_failures_when_an_account_succeeds() -> None:
    clock = Clock()
    throttle = MemoryLoginThrottle(ThrottlePolicy(account_threshold=100, ip_threshold=3), clock)
    for n in range(2):
        await throttle.failed(f"guess-{n}", "203.0.113.9")
    await throttle.succeeded("mine", "203.0.113.9")
    assert await throttle.failed("guess-3", "203.0.113.9") == 1
    assert await throttle.retry_after("anyone", "203.0.113.9") == 1
    assert await throttle.retry_after("anyone", "203.0.113.10") == 0


async def test_failures_are_forgotten_after_a_quiet_spell() -> None:
    clock = Clock()
    throttle = MemoryLoginThrottle(ThrottlePolicy(account_threshold=3, memory=600), clock)
    await throttle.failed("acct", None)
    await throttle.failed("acct", None)
    clock.now += 601
    assert await throttle.failed("acct", None) == 0  # counting starts again


async def test_the_memory_is_bounded() -> None:
    throttle = MemoryLoginThrottle(ThrottlePolicy(account_threshold=1), Clock(), max_keys=10)
    for n in range(50):
        await throttle.failed(f"acct-{n}", None)
    assert await throttle.retry_after("acct-49", None) == 1
    assert await throttle.retry_after("acct-0", None) == 0


def test_fingerprints_are_keyed_and_addresses_grouped_by_network() -> None:
    email = "ada@example.com"
    assert email_fingerprint(email, b"k1") != email_fingerprint(email, b"k2")
    assert email_fingerprint(email, b"k1") == email_fingerprint(email, b"k1")
    assert email not in email_fingerprint(email, b"k1")
    assert ip_key("2001:db8:1:2:aaaa::1") == ip_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert ip_key("::ffff:203.0.113.5") == "203.0.113.5"
    assert ip_key("203.0.113.5") == "203.0.113.5"
    assert ip_key("testclient") == "testclient"
    assert ip_key(None) is None
