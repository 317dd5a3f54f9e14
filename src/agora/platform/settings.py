"""Settings from ``AGORA_*`` environment variables and an optional ``.env`` file.

Every setting has an embedded default, so a fresh clone runs with nothing configured;
production refuses the development secret. Settings are built once, in the composition
root or the CLI, never at import time.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from agora.platform.money import ISO_4217_CURRENCIES
from agora.platform.production_guard import (
    DEFAULT_DEMO_PASSWORD,
    DEFAULT_MAIL_FROM,
    DEFAULT_SECRET,
    TEST_WEBHOOK_SECRET,
    ProductionSettingsError,
    refuse_development_defaults,
)

__all__ = ["DEFAULT_SECRET", "Environment", "Settings", "SettingsError", "load_settings"]


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class SettingsError(Exception):
    """A setting is malformed; the message names each offending variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AGORA_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    environment: Environment = Environment.DEVELOPMENT
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    public_url: str | None = None

    database_url: str = "sqlite+aiosqlite:///var/agora.db"
    # Sized for the requests one worker keeps in flight: overflow connections are opened
    # and closed per burst, which under sustained load costs more than the query itself.
    database_pool_size: int = Field(20, ge=1, le=200)
    database_max_overflow: int = Field(5, ge=0, le=200)
    database_pool_timeout: float = Field(10.0, gt=0)
    database_echo: bool = False
    sqlite_busy_timeout_ms: int = Field(30_000, ge=0)
    redis_url: str | None = None
    broker_url: str | None = None
    # The events backbone. The web process runs the relay, the consumers and the
    # scheduled jobs itself unless told not to; by default it does so when no broker is
    # configured (embedded mode), and leaves them to ``agora worker`` otherwise.
    events_in_web: bool | None = None
    events_max_attempts: int = Field(8, ge=1, le=100)
    events_retry_base_seconds: float = Field(2.0, gt=0, le=3600)
    events_retry_max_seconds: float = Field(900.0, gt=0, le=86_400)
    events_poll_seconds: float = Field(2.0, gt=0, le=60)
    events_relay_batch: int = Field(500, ge=1, le=10_000)
    broker_exchange: str = Field("agora.events", min_length=1, max_length=200)
    # Consumer queues are ``<prefix>.<consumer name>``; malformed messages go to
    # ``<prefix>.dead``. How many unacknowledged deliveries one consumer holds at most.
    broker_queue_prefix: str = Field("agora", min_length=1, max_length=100)
    broker_prefetch: int = Field(200, ge=1, le=10_000)

    # -- scheduled jobs (run where the backbone runs, one instance at a time per job) --
    # Off: this process never runs scheduled jobs (``agora jobs run`` still works).
    jobs_enabled: bool = True
    # How often the scheduler looks for due jobs at most (it also wakes when one is due).
    jobs_poll_seconds: float = Field(15.0, gt=0, le=3600)
    # Interval overrides by job name, as JSON: {"ordering.expire-pending-payments": 30}.
    jobs_interval_seconds: dict[str, float] = Field(default_factory=dict)
    # An order still pending_payment after this is settled: completed if the provider
    # was paid after all, otherwise cancelled and its stock released.
    pending_payment_timeout_minutes: int = Field(30, ge=5, le=7 * 24 * 60)
    # A payment left pending or authorized this long is settled by asking the provider.
    payments_reconcile_after_minutes: int = Field(10, ge=1, le=7 * 24 * 60)
    # Carts nobody changed for this many days are deleted.
    cart_retention_days: int = Field(30, ge=1, le=3650)
    # Published outbox rows and handled inbox rows are kept this many days: also how long
    # a consumer recognises a redelivered copy of an event.
    events_retention_days: int = Field(7, ge=1, le=3650)

    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    jwt_issuer: str = "agora"
    jwt_audience: str = "agora-api"
    access_token_ttl_seconds: int = Field(900, ge=30, le=86_400)
    # argon2id, OWASP password storage cheat sheet minimum: m=19 MiB, t=2, p=1.
    password_hash_memory_kib: int = Field(19_456, ge=8)
    password_hash_time_cost: int = Field(2, ge=1)
    password_hash_parallelism: int = Field(1, ge=1)

    max_body_bytes: int = Field(1_048_576, ge=1024)
    # Sliding windows of one minute. Auth endpoints are limited per client IP (they are
    # what credential stuffing hits); everything else under /api per credential, or per
    # IP for anonymous clients. Unset, they take the environment's default: strict in
    # production, roomy in development and tests, where one machine plays every client.
    rate_limit_enabled: bool = True
    rate_limit_auth_per_minute: int | None = Field(None, ge=1)
    rate_limit_api_per_minute: int | None = Field(None, ge=1)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"
    log_format: str = Field("json", pattern="^(json|console)$")
    access_log: bool = True

    seed_products: int = Field(200, ge=0, le=1_000_000)
    demo_customer_email: str = "demo@agora.example"
    demo_customer_password: SecretStr = SecretStr(DEFAULT_DEMO_PASSWORD)
    currency: str = "EUR"  # an active ISO 4217 code: see _iso_4217_currency
    # The provider that takes payments. Only the built-in test provider exists so far;
    # production makes the choice explicit (a test provider there is a demo shop).
    payments_provider: Literal["test"] | None = None
    payment_webhook_secret: SecretStr = SecretStr(TEST_WEBHOOK_SECRET)
    idempotency_ttl_hours: int = Field(24, ge=1)

    # -- accounts: email verification, password reset, mail --
    # Mail goes to an in-process mailbox (readable at /dev/mailbox) outside production and
    # through SMTP in production; production refuses the mailbox, whose mail no one reads.
    mail_backend: Literal["mailbox", "smtp"] | None = None
    mail_from: str = Field(DEFAULT_MAIL_FROM, min_length=3, max_length=254)
    mailbox_size: int = Field(100, ge=1, le=10_000)
    smtp_host: str = "localhost"
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # starttls: upgrade a plain connection (port 587); tls: TLS from the first byte (465);
    # none: only for a relay on localhost or a development mail catcher.
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_timeout_seconds: float = Field(10.0, gt=0, le=120)
    email_verification_ttl_hours: int = Field(24, ge=1, le=720)
    password_reset_ttl_minutes: int = Field(30, ge=5, le=1440)
    # Unset: required in production, not elsewhere (development shops with seeded users).
    require_verified_email_for_checkout: bool | None = None
    # zxcvbn score (0-4) a new password must reach; 0 turns the estimate into advice only.
    password_min_strength: int = Field(3, ge=0, le=4)

    @property
    def effective_payments_provider(self) -> Literal["test"]:
        return self.payments_provider or "test"

    @property
    def checkout_requires_verified_email(self) -> bool:
        if self.require_verified_email_for_checkout is not None:
            return self.require_verified_email_for_checkout
        return self.is_production

    @property
    def effective_events_in_web(self) -> bool:
        return self.events_in_web if self.events_in_web is not None else not self.broker_url

    @property
    def effective_mail_backend(self) -> Literal["mailbox", "smtp"]:
        if self.mail_backend is not None:
            return self.mail_backend
        return "smtp" if self.is_production else "mailbox"

    @property
    def effective_public_url(self) -> str:
        """Where links in emails point: ``AGORA_PUBLIC_URL``, else the address served on."""
        if self.public_url:  # always set in production (the production guard refuses it unset)
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in {"0.0.0.0", "::", ""} else self.host  # noqa: S104
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    # -- access tokens, signing keys and sessions --
    # A session (a refresh-token family or a cookie session) ends when unused for the
    # idle lifetime, and in any case at the absolute one; rotation never extends it.
    session_idle_ttl_hours: int = Field(168, ge=1, le=8_760)
    session_absolute_ttl_days: int = Field(30, ge=1, le=365)
    # How often every process re-reads the signing keys (a rotation by another process
    # shows up within this; a token naming an unknown key triggers a re-read at once).
    signing_key_refresh_seconds: int = Field(60, ge=5, le=3_600)
    # How often every process reads recently revoked sessions, whose access tokens it
    # then refuses: the longest a logout elsewhere takes to reach this process.
    session_revocation_poll_seconds: float = Field(5.0, gt=0, le=300)

    # -- multi-factor authentication --
    # When on, staff and admin sessions opened without a second factor keep only what a
    # customer may do (their profile, enrolling MFA) until they log in again with one.
    # Unset: on in production, off elsewhere.
    mfa_required_for_staff_and_admins: bool | None = None
    mfa_issuer: str = Field("Agora", min_length=1, max_length=64)
    # How long the challenge between the password step and the code step stays valid.
    mfa_challenge_ttl_seconds: int = Field(300, ge=30, le=900)

    # -- admin users and API keys --
    # How long a process trusts an API key it verified before reading it again. Revoking
    # takes effect at once in the process that revoked; others notice within this window.
    api_key_cache_seconds: int = Field(30, ge=0, le=300)
    api_keys_per_user: int = Field(25, ge=1, le=1000)

    # -- OpenID Connect login --
    # Off unless issuer, client id and secret are all set; then "Sign in with <name>" works
    # with any provider that publishes {issuer}/.well-known/openid-configuration.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_provider_name: str = Field("OpenID Connect", min_length=1, max_length=60)
    oidc_scopes: str = "openid email profile"
    # Front-end addresses the callback may send the browser back to, compared exactly:
    # anything else would make the callback an open redirect carrying tokens.
    oidc_allowed_redirect_uris: Annotated[list[str], NoDecode] = Field(default_factory=list)
    oidc_timeout_seconds: float = Field(10.0, gt=0, le=60)

    @field_validator("oidc_allowed_redirect_uris", mode="before")
    @classmethod
    def _split_oidc_redirect_uris(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _oidc_complete_and_safe(self) -> Settings:
        given = {
            "AGORA_OIDC_ISSUER": self.oidc_issuer,
            "AGORA_OIDC_CLIENT_ID": self.oidc_client_id,
            "AGORA_OIDC_CLIENT_SECRET": self.oidc_client_secret,
        }
        missing = [name for name, value in given.items() if not value]
        if len(missing) == len(given):
            return self
        if missing:
            raise ValueError(f"OpenID Connect login also needs {', '.join(missing)}")
        schemes = ("https://",) if self.is_production else ("https://", "http://")
        issuer = self.oidc_issuer or ""
        if not issuer.startswith(schemes) or "?" in issuer or "#" in issuer:
            raise ValueError(
                "AGORA_OIDC_ISSUER must be the provider's https:// issuer URL "
                "(no query or fragment)"
            )
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("AGORA_OIDC_SCOPES must include 'openid'")
        for uri in self.oidc_allowed_redirect_uris:
            if not uri.startswith(schemes) or "#" in uri:
                raise ValueError(
                    "AGORA_OIDC_ALLOWED_REDIRECT_URIS must be absolute "
                    f"{' or '.join(s.rstrip(':/') for s in schemes)} URLs without a fragment"
                )
        return self

    @property
    def staff_and_admins_need_mfa(self) -> bool:
        if self.mfa_required_for_staff_and_admins is not None:
            return self.mfa_required_for_staff_and_admins
        return self.is_production

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)

    # -- audit trail and login throttling --
    # Failed logins tolerated per account (keyed on a hash of the email, whether or not
    # it has an account) and per client IP; each further failure locks the key out for
    # 1 s, 2 s, 4 s, ... up to the cap. A key's failures are forgotten after a quiet spell.
    login_throttle_account_threshold: int = Field(5, ge=1)
    login_throttle_ip_threshold: int = Field(20, ge=1)
    login_throttle_max_delay_seconds: int = Field(900, ge=1, le=86_400)
    login_throttle_memory_seconds: int = Field(3600, ge=60, le=30 * 86_400)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+asyncpg://" + value[len(prefix) :]
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value[len("sqlite:///") :]
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("must be a postgresql:// or sqlite:/// URL")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    # -- the shop's currency (AGORA_CURRENCY) --
    # Every price, cart and order is in this one currency until several are modelled;
    # the catalog refuses prices in any other, so it must be a real ISO 4217 currency.
    @field_validator("currency")
    @classmethod
    def _iso_4217_currency(cls, value: str) -> str:
        if value not in ISO_4217_CURRENCIES:
            raise ValueError("must be an active ISO 4217 currency code such as EUR or USD")
        return value

    @model_validator(mode="after")
    def _production_refuses_development_defaults(self) -> Settings:
        refuse_development_defaults(self)
        return self

    @property
    def auth_rate_limit(self) -> int:
        if self.rate_limit_auth_per_minute is not None:
            return self.rate_limit_auth_per_minute
        return 30 if self.is_production else 600

    @property
    def api_rate_limit(self) -> int:
        if self.rate_limit_api_per_minute is not None:
            return self.rate_limit_api_per_minute
        return 1200 if self.is_production else 120_000

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[1]
        return None if path in ("", ":memory:") else Path(path)


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning pydantic's report into one readable ``SettingsError``."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines: list[str] = []
        for error in exc.errors():
            refused = error.get("ctx", {}).get("error")
            if isinstance(refused, ProductionSettingsError):
                lines.extend(f"  {name}: {why}" for name, why in refused.refusals)
                continue
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            name = f"AGORA_{field.upper()}" if error["loc"] else "settings"
            lines.append(f"  {name}: {error['msg']}")
        raise SettingsError("Invalid configuration:\n" + "\n".join(lines)) from None
