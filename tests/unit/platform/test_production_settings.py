"""Production refuses every development default that is unsafe with real customers.

Each case starts from a production configuration that passes, changes one value back to
its development default (or to something as weak), and expects exactly that variable to
be named in the refusal; outside production the same value is accepted.
"""

from __future__ import annotations

from typing import Any

import pytest

from agora.platform.production_guard import (
    DEFAULT_MAIL_FROM,
    DEFAULT_SECRET,
    TEST_WEBHOOK_SECRET,
    production_notices,
)
from agora.platform.settings import SettingsError, load_settings
from tests.support.production import PRODUCTION

DEVELOPMENT_DEFAULTS = [
    pytest.param({"payments_provider": None}, "AGORA_PAYMENTS_PROVIDER", id="provider-unset"),
    pytest.param(
        {"payment_webhook_secret": TEST_WEBHOOK_SECRET},
        "AGORA_PAYMENT_WEBHOOK_SECRET",
        id="webhook-secret-default",
    ),
    pytest.param(
        {"payment_webhook_secret": "whsec_" + "x" * 25},
        "AGORA_PAYMENT_WEBHOOK_SECRET",
        id="webhook-secret-short",
    ),
    pytest.param(
        {"payment_webhook_secret": ""}, "AGORA_PAYMENT_WEBHOOK_SECRET", id="webhook-secret-empty"
    ),
    pytest.param({"secret_key": DEFAULT_SECRET}, "AGORA_SECRET_KEY", id="secret-key-default"),
    pytest.param({"secret_key": "s" * 31}, "AGORA_SECRET_KEY", id="secret-key-short"),
    pytest.param({"public_url": None}, "AGORA_PUBLIC_URL", id="public-url-unset"),
    pytest.param(
        {"public_url": "http://shop.example.com"}, "AGORA_PUBLIC_URL", id="public-url-http"
    ),
    pytest.param({"cors_origins": "*"}, "AGORA_CORS_ORIGINS", id="cors-wildcard"),
    pytest.param({"cors_origins": "null"}, "AGORA_CORS_ORIGINS", id="cors-null"),
    pytest.param({"cors_origins": "http://shop.example.com"}, "AGORA_CORS_ORIGINS", id="cors-http"),
    pytest.param(
        {"cors_origins": "https://*.example.com"}, "AGORA_CORS_ORIGINS", id="cors-host-wildcard"
    ),
    pytest.param(
        {"cors_origins": "https://shop.example.com/app"}, "AGORA_CORS_ORIGINS", id="cors-path"
    ),
    pytest.param({"mail_from": DEFAULT_MAIL_FROM}, "AGORA_MAIL_FROM", id="mail-from-default"),
    pytest.param(
        {"password_hash_memory_kib": 19_455}, "AGORA_PASSWORD_HASH_MEMORY_KIB", id="hash-memory"
    ),
    pytest.param(
        {"password_hash_time_cost": 1}, "AGORA_PASSWORD_HASH_TIME_COST", id="hash-time-cost"
    ),
    pytest.param({"password_min_strength": 0}, "AGORA_PASSWORD_MIN_STRENGTH", id="strength-off"),
    pytest.param(
        {"login_throttle_account_threshold": 101},
        "AGORA_LOGIN_THROTTLE_ACCOUNT_THRESHOLD",
        id="throttle-account",
    ),
    pytest.param(
        {"login_throttle_ip_threshold": 1_001},
        "AGORA_LOGIN_THROTTLE_IP_THRESHOLD",
        id="throttle-address",
    ),
    pytest.param({"database_echo": True}, "AGORA_DATABASE_ECHO", id="sql-echo"),
    pytest.param({"log_level": "debug"}, "AGORA_LOG_LEVEL", id="debug-log"),
]


def refused_variables(caught: pytest.ExceptionInfo[SettingsError]) -> list[str]:
    lines = str(caught.value).splitlines()
    assert lines[0] == "Invalid configuration:"
    return [line.strip().split(":", 1)[0] for line in lines[1:]]


def test_the_production_baseline_of_these_tests_starts() -> None:
    assert load_settings(**PRODUCTION).is_production


@pytest.mark.parametrize(("overrides", "variable"), DEVELOPMENT_DEFAULTS)
def test_production_refuses_the_development_default(
    overrides: dict[str, Any], variable: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(**{**PRODUCTION, **overrides})
    assert refused_variables(caught) == [variable]


@pytest.mark.parametrize(("overrides", "variable"), DEVELOPMENT_DEFAULTS)
def test_outside_production_the_development_default_is_accepted(
    overrides: dict[str, Any], variable: str
) -> None:
    for environment in ("development", "test"):
        load_settings(**{**PRODUCTION, **overrides, "environment": environment})


def test_production_with_nothing_configured_names_every_variable_to_set() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environment="production", _env_file=None)
    assert refused_variables(caught) == [
        "AGORA_SECRET_KEY",
        "AGORA_PAYMENTS_PROVIDER",
        "AGORA_PAYMENT_WEBHOOK_SECRET",
        "AGORA_PUBLIC_URL",
        "AGORA_MAIL_FROM",
    ]


def test_the_test_provider_is_the_default_outside_production_without_a_warning() -> None:
    development = load_settings(environment="development", _env_file=None)
    assert development.payments_provider is None
    assert development.effective_payments_provider == "test"
    assert production_notices(development) == {}


def test_production_runs_the_test_provider_only_by_choice_and_says_so() -> None:
    production = load_settings(**PRODUCTION)
    assert production.effective_payments_provider == "test"
    assert list(production_notices(production)) == ["TEST_PAYMENTS_PROVIDER"]


def test_production_without_rate_limits_says_so() -> None:
    production = load_settings(**{**PRODUCTION, "rate_limit_enabled": False})
    assert list(production_notices(production)) == ["TEST_PAYMENTS_PROVIDER", "RATE_LIMITS_OFF"]
    development = load_settings(environment="development", rate_limit_enabled=False)
    assert production_notices(development) == {}


def test_an_unknown_payments_provider_is_refused_everywhere() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(payments_provider="stripe")
    assert refused_variables(caught) == ["AGORA_PAYMENTS_PROVIDER"]


def test_production_requires_verified_email_and_staff_mfa_unless_turned_off() -> None:
    production = load_settings(**PRODUCTION)
    assert production.checkout_requires_verified_email is True
    assert production.staff_and_admins_need_mfa is True
    development = load_settings(environment="development")
    assert development.checkout_requires_verified_email is False
    assert development.staff_and_admins_need_mfa is False
    chosen = load_settings(
        **PRODUCTION,
        require_verified_email_for_checkout=False,
        mfa_required_for_staff_and_admins=False,
    )
    assert chosen.checkout_requires_verified_email is False
    assert chosen.staff_and_admins_need_mfa is False
