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
    with pytest.raises(SettingsError, match="AGORA_MAIL_BACKEND=mailbox"):
        load_settings(**PRODUCTION, mail_backend="mailbox")


def test_production_refuses_clear_text_smtp_except_to_a_local_relay() -> None:
    with pytest.raises(SettingsError, match="AGORA_SMTP_SECURITY=none"):
        load_settings(**PRODUCTION, smtp_host="smtp.example.com", smtp_security="none")
    local = load_settings(**PRODUCTION, smtp_host="localhost", smtp_security="none")
    assert local.smtp_security == "none"


@pytest.mark.parametrize("value", ["postfix", "SMTP "])
def test_an_unknown_backend_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="AGORA_MAIL_BACKEND"):
        load_settings(mail_backend=value)
