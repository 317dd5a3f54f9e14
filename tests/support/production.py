"""A production configuration that passes every production check, for tests to start from.

Each test of a refusal changes one value of it; tests of production behaviour build the
app or run the CLI with it. Values are what an operator would set, not what the suite's
fast test settings use (cheap hashing, no throttling), which production refuses.
"""

from __future__ import annotations

PRODUCTION: dict[str, object] = {
    "environment": "production",
    "secret_key": "production-secret-0123456789abcdef-0123456789abcdef",
    "payments_provider": "test",
    "payment_webhook_secret": "whsec_production_0123456789abcdef0123456789",
    "public_url": "https://shop.example.com",
    "mail_from": "Shop <no-reply@shop.example.com>",
    "password_hash_memory_kib": 19_456,
    "password_hash_time_cost": 2,
    "rate_limit_auth_per_minute": None,
    "rate_limit_api_per_minute": None,
    "login_throttle_account_threshold": 5,
    "login_throttle_ip_threshold": 20,
    "log_level": "WARNING",
}


def production_env(**extra: str) -> dict[str, str]:
    """The same configuration as ``AGORA_*`` environment variables (for the CLI)."""
    env = {f"AGORA_{name.upper()}": str(value) for name, value in PRODUCTION.items() if value}
    env.update(extra)
    return env
