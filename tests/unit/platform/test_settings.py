"""Settings: embedded defaults, readable errors, production refuses unsafe values."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from agora.platform.settings import DEFAULT_SECRET, SettingsError, load_settings
from tests.support.production import PRODUCTION


def test_defaults_need_no_configuration() -> None:
    settings = load_settings(_env_file=None)
    assert settings.port == 8000
    assert settings.host == "127.0.0.1"
    assert settings.is_sqlite


def test_postgres_urls_are_normalised_to_asyncpg() -> None:
    settings = load_settings(database_url="postgresql://u@localhost/shop")
    assert settings.database_url == "postgresql+asyncpg://u@localhost/shop"


def test_malformed_setting_names_the_variable() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(port="eighty")
    assert "AGORA_PORT" in str(caught.value)


def test_unknown_database_scheme_is_refused() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(database_url="mysql://localhost/shop")
    assert "AGORA_DATABASE_URL" in str(caught.value)


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(**{**PRODUCTION, "secret_key": DEFAULT_SECRET})
    assert "AGORA_SECRET_KEY" in str(caught.value)
    ok = load_settings(**{**PRODUCTION, "secret_key": "x" * 40})
    assert ok.is_production


def test_cors_origins_are_read_as_a_comma_separated_list() -> None:
    settings = load_settings(cors_origins="https://a.example, https://b.example")
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


def test_cli_reports_a_bad_setting_without_a_traceback() -> None:
    env = {**os.environ, "AGORA_PORT": "not-a-port"}
    result = subprocess.run(
        [sys.executable, "-m", "agora.cli.main", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "AGORA_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_rate_limits_are_strict_in_production_and_roomy_elsewhere() -> None:
    production = load_settings(**PRODUCTION)
    assert (production.auth_rate_limit, production.api_rate_limit) == (30, 1200)
    development = load_settings(environment="development")
    assert (development.auth_rate_limit, development.api_rate_limit) == (600, 120_000)
    tuned = load_settings(**{**PRODUCTION, "rate_limit_auth_per_minute": 5})
    assert tuned.auth_rate_limit == 5


@pytest.mark.parametrize("code", ["XYZ", "XTS", "HRK"])
def test_the_shop_currency_must_be_an_active_iso_4217_code(code: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(currency=code)
    assert "AGORA_CURRENCY" in str(caught.value)
    assert load_settings(currency="USD").currency == "USD"
