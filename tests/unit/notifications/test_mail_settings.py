"""Mail settings: the mailbox outside production, SMTP in production, no clear text there."""

from __future__ import annotations

import pytest

from agora.platform.settings import SettingsError, load_settings
from tests.support.production import PRODUCTION


def test_outside_production_mail_goes_to_the_mailbox() -> None:
    assert load_settings(environment="development").effective_mail_backend == "mailbox"
    assert load_settings(environment="test").effective_mail_backend == "mailbox"


def test_production_sends_through_smtp_by_default() -> None:
    assert load_settings(**PRODUCTION).effective_mail_backend == "smtp"


def test_production_refuses_the_mailbox() -> None:
    with pytest.raises(SettingsError, match="AGORA_MAIL_BACKEND: mailbox keeps mail"):
        load_settings(**PRODUCTION, mail_backend="mailbox")


def test_the_mail_refusal_is_named_together_with_the_others() -> None:
    """One message lists every variable to change, mail included, not one at a time."""
    unsafe = {**PRODUCTION, "mail_backend": "mailbox", "secret_key": "short"}
    with pytest.raises(SettingsError) as refused:
        load_settings(**unsafe)
    assert "AGORA_MAIL_BACKEND" in str(refused.value)
    assert "AGORA_SECRET_KEY" in str(refused.value)


def test_production_refuses_clear_text_smtp_except_to_a_local_relay() -> None:
    with pytest.raises(SettingsError, match="AGORA_SMTP_SECURITY: none sends"):
        load_settings(**PRODUCTION, smtp_host="smtp.example.com", smtp_security="none")
    local = load_settings(**PRODUCTION, smtp_host="localhost", smtp_security="none")
    assert local.smtp_security == "none"


@pytest.mark.parametrize("value", ["postfix", "SMTP "])
def test_an_unknown_backend_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="AGORA_MAIL_BACKEND"):
        load_settings(mail_backend=value)
