"""OpenID Connect settings: all or nothing, and nothing unsafe in production."""

from __future__ import annotations

from typing import Any

import pytest

from agora.platform.settings import SettingsError, load_settings

PRODUCTION_SECRET = "a-production-secret-that-is-long-enough-0123456789"
COMPLETE = {
    "oidc_issuer": "https://id.example.com",
    "oidc_client_id": "shop",
    "oidc_client_secret": "secret",
}


def test_login_with_a_provider_is_off_by_default() -> None:
    assert load_settings().oidc_enabled is False


def test_issuer_client_id_and_secret_switch_it_on() -> None:
    settings = load_settings(
        **COMPLETE, oidc_allowed_redirect_uris="https://shop.example/a, https://shop.example/b"
    )

    assert settings.oidc_enabled is True
    assert settings.oidc_allowed_redirect_uris == [
        "https://shop.example/a",
        "https://shop.example/b",
    ]


@pytest.mark.parametrize("left_out", sorted(COMPLETE))
def test_a_partial_configuration_names_what_is_missing(left_out: str) -> None:
    values = {k: v for k, v in COMPLETE.items() if k != left_out}

    with pytest.raises(SettingsError, match=f"AGORA_{left_out.upper()}"):
        load_settings(**values)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"oidc_scopes": "email profile"}, "must include 'openid'"),
        ({"oidc_issuer": "id.example.com"}, "AGORA_OIDC_ISSUER"),
        ({"oidc_issuer": "https://id.example.com/?tenant=1"}, "AGORA_OIDC_ISSUER"),
        ({"oidc_allowed_redirect_uris": "https://shop.example/#done"}, "without a fragment"),
        ({"oidc_allowed_redirect_uris": "/relative"}, "ALLOWED_REDIRECT_URIS"),
    ],
)
def test_unsafe_or_malformed_values_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(**{**COMPLETE, **overrides})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"oidc_issuer": "http://id.example.com"}, "https://"),
        ({"oidc_allowed_redirect_uris": "http://shop.example/in"}, "https URLs"),
        ({"public_url": None}, "AGORA_PUBLIC_URL"),
    ],
)
def test_production_insists_on_https_and_a_public_url(
    overrides: dict[str, Any], message: str
) -> None:
    values = {
        **COMPLETE,
        "environment": "production",
        "secret_key": PRODUCTION_SECRET,
        "public_url": "https://shop.example",
        **overrides,
    }

    with pytest.raises(SettingsError, match=message):
        load_settings(**values)
