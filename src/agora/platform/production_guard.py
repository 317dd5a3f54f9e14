"""What production refuses: the development defaults that are unsafe with real customers.

Every setting has a default, so a fresh clone runs with nothing configured. Some of those
defaults are public (the signing secret, the test provider's webhook secret, the sender
address) or made for one developer's machine (cheap password hashing, plain-HTTP
addresses, SQL echo). With ``AGORA_ENVIRONMENT=production`` settings validation refuses
each of them at start, all in one message that names every variable to change;
``docs/runbooks/configuration.md`` has the table of defaults and what production does
with each. Two development parts stay available in production only by explicit choice,
and are then announced at start and in readiness (see ``production_notices``): the test
payment provider and switched-off rate limits.
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from agora.platform.settings import Settings

# Deliberately public: they only serve development; production refuses to start with them.
DEFAULT_SECRET = "agora-development-secret-change-me-0000000000000000"  # noqa: S105
TEST_WEBHOOK_SECRET = "whsec_agora_test_provider"  # noqa: S105
DEFAULT_MAIL_FROM = "Agora <no-reply@agora.example>"
# ``agora seed`` creates no demo customer with it in production.
DEFAULT_DEMO_PASSWORD = "market-basket-2026"  # noqa: S105
MIN_SECRET_LENGTH = 32
# argon2id, OWASP password storage cheat sheet minimum: m=19 MiB, t=2, p=1.
OWASP_MEMORY_KIB = 19_456
OWASP_TIME_COST = 2
# NIST SP 800-63B 5.2.2: at most 100 consecutive failed attempts on one account. One
# address may be a shop's office behind NAT, hence the wider ceiling.
MAX_ACCOUNT_FAILURES = 100
MAX_ADDRESS_FAILURES = 1_000


class ProductionSettingsError(ValueError):
    """Production was asked to run on development settings; one line per variable."""

    def __init__(self, refusals: list[tuple[str, str]]) -> None:
        self.refusals = refusals
        super().__init__("; ".join(f"{name}: {why}" for name, why in refusals))


def refuse_development_defaults(s: Settings) -> None:
    """Raise ``ProductionSettingsError`` naming every unsafe setting (production only)."""
    if s.is_production and (found := production_refusals(s)):
        raise ProductionSettingsError(found)


def production_refusals(s: Settings) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def refuse(name: str, why: str) -> None:
        found.append((f"AGORA_{name}", why))

    secret = s.secret_key.get_secret_value()
    if secret == DEFAULT_SECRET or len(secret) < MIN_SECRET_LENGTH:
        refuse(
            "SECRET_KEY",
            f"must be set to a random value of at least {MIN_SECRET_LENGTH} characters "
            "in production",
        )
    if s.payments_provider is None:
        refuse(
            "PAYMENTS_PROVIDER",
            "must be chosen explicitly in production; the only provider is 'test', whose "
            "card tokens (tok_success) pay orders without moving money: set "
            "AGORA_PAYMENTS_PROVIDER=test only for a demo or staging shop",
        )
    webhook = s.payment_webhook_secret.get_secret_value()
    if webhook == TEST_WEBHOOK_SECRET or len(webhook) < MIN_SECRET_LENGTH:
        refuse(
            "PAYMENT_WEBHOOK_SECRET",
            "the default is public, so anyone could sign a payment webhook; set the "
            f"provider's secret (at least {MIN_SECRET_LENGTH} characters) in production",
        )
    if not _is_https_url(s.public_url, allow_path=True):
        refuse(
            "PUBLIC_URL",
            "must be the https:// address customers reach in production: emailed "
            "verification and reset links point there",
        )
    for origin in s.cors_origins:
        if not _is_https_url(origin, allow_path=False):
            refuse(
                "CORS_ORIGINS",
                f"{origin!r} is not an https:// origin (scheme and host only); production "
                "allows neither '*', 'null' nor plain-HTTP origins",
            )
    if _domain(s.mail_from) == _domain(DEFAULT_MAIL_FROM):
        refuse(
            "MAIL_FROM",
            "the default sender's domain does not exist, so receiving servers reject the "
            "mail; set an address of your shop's domain in production",
        )
    if s.mail_backend == "mailbox":
        refuse(
            "MAIL_BACKEND",
            "mailbox keeps mail in memory where no user can read it; production needs smtp",
        )
    if (
        s.effective_mail_backend == "smtp"
        and s.smtp_security == "none"
        and not _loopback(s.smtp_host)
    ):
        refuse(
            "SMTP_SECURITY",
            "none sends passwords and reset links in clear text; in production use "
            "starttls or tls (none only for a relay on localhost)",
        )
    owasp = f"the OWASP minimum for argon2id is m={OWASP_MEMORY_KIB} KiB, t={OWASP_TIME_COST}, p=1"
    if s.password_hash_memory_kib < OWASP_MEMORY_KIB:
        refuse("PASSWORD_HASH_MEMORY_KIB", f"{owasp}; production refuses weaker hashing")
    if s.password_hash_time_cost < OWASP_TIME_COST:
        refuse("PASSWORD_HASH_TIME_COST", f"{owasp}; production refuses weaker hashing")
    if s.password_min_strength == 0:
        refuse(
            "PASSWORD_MIN_STRENGTH",
            "0 turns the password strength check into advice only; production needs 1 to 4",
        )
    if s.login_throttle_account_threshold > MAX_ACCOUNT_FAILURES:
        refuse(
            "LOGIN_THROTTLE_ACCOUNT_THRESHOLD",
            f"at most {MAX_ACCOUNT_FAILURES} failed logins per account before throttling "
            "in production (NIST SP 800-63B)",
        )
    if s.login_throttle_ip_threshold > MAX_ADDRESS_FAILURES:
        refuse(
            "LOGIN_THROTTLE_IP_THRESHOLD",
            f"at most {MAX_ADDRESS_FAILURES} failed logins per client address before "
            "throttling in production",
        )
    if s.database_echo:
        refuse(
            "DATABASE_ECHO",
            "logs every SQL statement with its parameters (password hashes, tokens, "
            "personal data); not in production",
        )
    if s.log_level == "DEBUG":
        refuse(
            "LOG_LEVEL",
            "DEBUG writes library internals (connection details, request contents) to the "
            "log; use INFO or above in production",
        )
    return found


def production_notices(s: Settings) -> dict[str, str]:
    """Development parts production runs by explicit choice: code -> what it means."""
    if not s.is_production:
        return {}
    notices: dict[str, str] = {}
    if s.payments_provider == "test":
        notices["TEST_PAYMENTS_PROVIDER"] = (
            "AGORA_PAYMENTS_PROVIDER=test: payments use the built-in test provider; card "
            "tokens such as tok_success pay orders and no money moves."
        )
    if not s.rate_limit_enabled:
        notices["RATE_LIMITS_OFF"] = (
            "AGORA_RATE_LIMIT_ENABLED=false: no request is rate limited; only for load tests."
        )
    return notices


def _is_https_url(value: str | None, *, allow_path: bool) -> bool:
    if not value:
        return False
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and "*" not in parts.netloc
        and port_ok
        and not parts.query
        and not parts.fragment
        and (allow_path or parts.path == "")
    )


def _loopback(host: str) -> bool:
    return host in {"localhost", "127.0.0.1", "::1"}


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2].lower()
