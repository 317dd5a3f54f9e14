"""Identity's wiring: accounts, tokens and signing keys, sessions, MFA, access, OIDC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from agora.bootstrap.container import Container
from agora.platform.access import Role
from agora.platform.settings import Settings

if TYPE_CHECKING:
    from agora.identity.access.current_access import CurrentAccess
    from agora.identity.sessions.ports import LoginThrottle
    from agora.identity.sessions.revocation import RevokedSessions
    from agora.identity.sessions.sign_in import SignInService
    from agora.identity.tokens.adapters.jwt_tokens import JwtAccessTokens


def wire_identity(c: Container) -> None:
    """Identity: users, passwords, tokens; provides the ``Authenticator``."""
    from functools import partial

    from agora.identity.access.current_access import CurrentAccess
    from agora.identity.accounts.adapters.common_passwords import common_passwords
    from agora.identity.accounts.adapters.password_hashing import Argon2PasswordHasher
    from agora.identity.accounts.adapters.password_strength import ZxcvbnStrengthEstimator
    from agora.identity.accounts.password_policy import PasswordPolicy
    from agora.identity.accounts.registration import RegistrationService
    from agora.identity.adapters.sql import SqlIdentityUnitOfWork
    from agora.identity.sessions.sign_in import SignInService
    from agora.identity.tokens.authenticator import TokenAuthenticator
    from agora.platform.access import Authenticator
    from agora.platform.audit import AuditTrail

    s = c.settings
    uow = partial(SqlIdentityUnitOfWork, c.engine)
    tokens, revocations = _wire_signing_keys_and_revocations(c)
    throttle, fingerprint_key = _login_throttle(c)
    service = SignInService(
        uow=uow,
        hasher=Argon2PasswordHasher(
            memory_kib=s.password_hash_memory_kib,
            time_cost=s.password_hash_time_cost,
            parallelism=s.password_hash_parallelism,
        ),
        tokens=tokens,
        refresh_ttl=timedelta(hours=s.session_idle_ttl_hours),
        audit=c.registry.get(AuditTrail),  # type: ignore[type-abstract]
        throttle=throttle,
        fingerprint_key=fingerprint_key,
        session_max_age=timedelta(days=s.session_absolute_ttl_days),
        revocations=revocations,
    )
    c.registry.provide(SignInService, service)
    registration = RegistrationService(
        uow=uow,
        hasher=service.hasher,
        policy=PasswordPolicy(
            common_passwords(),
            strength=ZxcvbnStrengthEstimator(),
            min_strength=s.password_min_strength,
        ),
    )
    c.registry.provide(RegistrationService, registration)
    access = _current_access(c)
    c.registry.provide(CurrentAccess, access)
    authenticator = TokenAuthenticator(
        tokens,
        revocations,
        mfa_required_roles=_roles_requiring_mfa(c.settings),
    )
    c.registry.provide(Authenticator, authenticator)  # type: ignore[type-abstract]
    _wire_sessions(c, service, access)

    # -- account self-service by email: verification, password reset and change
    from agora.identity.accounts.services import AccountService
    from agora.notifications.services import MailService

    c.registry.provide(
        AccountService,
        AccountService(
            uow=uow,
            hasher=service.hasher,
            policy=registration.policy,
            mail=c.registry.get(MailService),
            public_url=_public_url(s),
            verification_ttl=timedelta(hours=s.email_verification_ttl_hours),
            reset_ttl=timedelta(minutes=s.password_reset_ttl_minutes),
            audit=service.audit,
            revocations=service.revocations,
        ),
    )


def _roles_requiring_mfa(s: Settings) -> frozenset[Role]:
    """Roles whose sessions hold no permission until opened with a second factor."""
    return frozenset({Role.STAFF, Role.ADMIN}) if s.staff_and_admins_need_mfa else frozenset()


def wire_mfa(c: Container) -> None:
    """Multi-factor authentication (TOTP), hooked into identity's login."""
    from functools import partial

    from agora.identity.adapters.secret_box import SecretBox
    from agora.identity.mfa.adapters.qr_code import SegnoQrCodes
    from agora.identity.mfa.adapters.sql import SqlMfaUnitOfWork
    from agora.identity.mfa.services import MfaService
    from agora.identity.sessions.sign_in import SignInService
    from agora.platform.audit import AuditTrail

    s = c.settings
    sign_in = c.registry.get(SignInService)
    box = SecretBox(s.secret_key.get_secret_value(), purpose="agora/totp-secret/v1")
    mfa = MfaService(
        uow=partial(SqlMfaUnitOfWork, c.engine, box),
        sign_in=sign_in,
        qr_codes=SegnoQrCodes(),
        issuer=s.mfa_issuer,
        challenge_ttl=timedelta(seconds=s.mfa_challenge_ttl_seconds),
        audit=c.registry.get(AuditTrail),  # type: ignore[type-abstract]
    )
    # The two services need each other: the password step hands over to the second
    # factor, which opens the session through the sign-in.
    sign_in.second_factor = mfa
    c.registry.provide(MfaService, mfa)


def wire_access(c: Container) -> None:
    """Admin user management and API keys.

    Wraps the ``Authenticator`` that ``wire_identity`` provided: credentials shaped like
    API keys go to the key store, everything else still goes to the token authenticator.
    """
    from functools import partial

    from agora.identity.access.api_keys import (
        ApiKeyAuthenticator,
        ApiKeyService,
        CredentialAuthenticator,
        VerifiedKeyCache,
    )
    from agora.identity.access.current_access import CurrentAccess, CurrentRoleAuthenticator
    from agora.identity.access.users import UserAdministration
    from agora.identity.adapters.sql import SqlIdentityUnitOfWork
    from agora.identity.sessions.sign_in import SignInService
    from agora.platform.access import Authenticator
    from agora.platform.audit import AuditTrail

    uow = partial(SqlIdentityUnitOfWork, c.engine)
    audit = c.registry.get(AuditTrail)  # type: ignore[type-abstract]
    verified = VerifiedKeyCache(c.settings.api_key_cache_seconds)
    identity = c.registry.get(SignInService)
    access = c.registry.get(CurrentAccess)
    c.registry.provide(
        UserAdministration,
        UserAdministration(uow, verified, audit, revocations=identity.revocations, access=access),
    )
    c.registry.provide(
        ApiKeyService, ApiKeyService(uow, verified, c.settings.api_keys_per_user, audit)
    )
    tokens = c.registry.get(Authenticator)  # type: ignore[type-abstract]
    credentials = CredentialAuthenticator(ApiKeyAuthenticator(uow, verified), tokens)
    c.registry.provide(
        Authenticator,  # type: ignore[type-abstract]
        CurrentRoleAuthenticator(credentials, access),
    )


def _current_access(c: Container) -> CurrentAccess:
    """Privileged credentials checked against the account's current role and activation,
    which every process re-reads at the revocation poll interval (ADR 0025)."""
    from agora.identity.access.adapters.account_access import SqlAccountAccess
    from agora.identity.access.current_access import CurrentAccess

    s = c.settings
    return CurrentAccess(
        SqlAccountAccess(c.engine),
        poll_interval=s.session_revocation_poll_seconds,
        forget_after=float(s.access_token_ttl_seconds),
    )


def _login_throttle(c: Container) -> tuple[LoginThrottle, bytes]:
    """Failed-login counters (Redis when configured) and the key that hashes emails for them."""
    import hashlib
    import hmac

    from agora.identity.sessions.adapters.throttle_counters import (
        MemoryLoginThrottle,
        RedisLoginThrottle,
    )
    from agora.identity.sessions.throttle import ThrottlePolicy

    s = c.settings
    policy = ThrottlePolicy(
        account_threshold=s.login_throttle_account_threshold,
        ip_threshold=s.login_throttle_ip_threshold,
        max_delay=float(s.login_throttle_max_delay_seconds),
        memory=float(s.login_throttle_memory_seconds),
    )
    local = MemoryLoginThrottle(policy)
    throttle: LoginThrottle = local
    if s.redis_url:
        shared = RedisLoginThrottle(s.redis_url, policy, fallback=local)
        c.on_close.append(shared.close)
        throttle = shared
    # Derived, so the signing secret itself never keys anything else.
    key = hmac.new(
        s.secret_key.get_secret_value().encode(), b"agora:email-fingerprint", hashlib.sha256
    ).digest()
    return throttle, key


def wire_oidc(c: Container) -> None:
    """Signing in with an OpenID Connect provider; routes answer 404 when it is not set up."""
    from functools import partial

    from agora.identity.oidc.adapters.client import HttpOidcProvider
    from agora.identity.oidc.adapters.sql import SqlOidcUnitOfWork
    from agora.identity.oidc.services import OidcLoginService
    from agora.identity.sessions.sign_in import SignInService
    from agora.platform.audit import AuditTrail

    s = c.settings
    provider = None
    if s.oidc_enabled and s.oidc_issuer and s.oidc_client_id and s.oidc_client_secret:
        provider = HttpOidcProvider(
            issuer=s.oidc_issuer,
            client_id=s.oidc_client_id,
            client_secret=s.oidc_client_secret.get_secret_value(),
            scopes=s.oidc_scopes,
            timeout_seconds=s.oidc_timeout_seconds,
            allow_http=not s.is_production,
        )
    sign_in = c.registry.get(SignInService)
    c.registry.provide(
        OidcLoginService,
        OidcLoginService(
            uow=partial(SqlOidcUnitOfWork, c.engine),
            sign_in=sign_in,
            hasher=sign_in.hasher,
            provider=provider,
            provider_name=s.oidc_provider_name,
            allowed_redirect_uris=frozenset(s.oidc_allowed_redirect_uris),
            audit=c.registry.get(AuditTrail),  # type: ignore[type-abstract]
        ),
    )


def _public_url(s: Settings) -> str:
    """Where links in emails point: ``AGORA_PUBLIC_URL``, else the address served on."""
    if s.public_url:  # always set in production (settings refuse it unset)
        return s.public_url.rstrip("/")
    host = "localhost" if s.host in {"0.0.0.0", "::", ""} else s.host  # noqa: S104
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{s.port}"


# -- access tokens, signing keys and sessions --


def _wire_signing_keys_and_revocations(
    c: Container,
) -> tuple[JwtAccessTokens, RevokedSessions]:
    """ES256 keys shared through the database, and the revoked sessions every process
    polls for, so that neither needs a database read per request."""
    from functools import partial

    from agora.identity.adapters.sql import SqlIdentityUnitOfWork
    from agora.identity.sessions.revocation import RevokedSessions
    from agora.identity.tokens.adapters.jwt_tokens import JwtAccessTokens
    from agora.identity.tokens.adapters.key_material import KeyCipher
    from agora.identity.tokens.adapters.key_ring import KeyRing, retention_for
    from agora.identity.tokens.services import SigningKeyService
    from agora.platform.audit import AuditTrail

    s = c.settings
    token_ttl = timedelta(seconds=s.access_token_ttl_seconds)
    ring = KeyRing(
        partial(SqlIdentityUnitOfWork, c.engine),
        KeyCipher(s.secret_key.get_secret_value()),
        retention=retention_for(token_ttl, s.signing_key_refresh_seconds),
        refresh_interval=s.signing_key_refresh_seconds,
    )
    tokens = JwtAccessTokens(
        ring, issuer=s.jwt_issuer, audience=s.jwt_audience, ttl_seconds=s.access_token_ttl_seconds
    )
    engine = c.engine

    async def revoked_since(since: datetime) -> Sequence[tuple[UUID, datetime]]:
        async with SqlIdentityUnitOfWork(engine, read_only=True) as uow:
            return await uow.refresh_tokens.revoked_since(since)

    revocations = RevokedSessions(
        token_ttl=token_ttl, poll_interval=s.session_revocation_poll_seconds, feed=revoked_since
    )
    audit = c.registry.get(AuditTrail)  # type: ignore[type-abstract]
    keys = SigningKeyService(ring, audit, jwks_max_age=s.signing_key_refresh_seconds)
    c.registry.provide(SigningKeyService, keys)
    return tokens, revocations


def _wire_sessions(c: Container, identity: SignInService, access: CurrentAccess) -> None:
    """The sessions API and the browser cookie session (with its CSRF tokens)."""
    import hashlib
    import hmac

    from agora.identity.sessions.services import SessionService
    from agora.platform.cookie_sessions import CookieAuthenticator

    secret = c.settings.secret_key.get_secret_value().encode()
    csrf_key = hmac.new(secret, b"agora csrf-token key v1", hashlib.sha256).digest()
    sessions = SessionService(
        uow=identity.uow,
        lifetime=identity.lifetime,
        revocations=identity.revocations,
        csrf_key=csrf_key,
        audit=identity.audit,
        mfa_required_roles=_roles_requiring_mfa(c.settings),
        access=access,
    )
    c.registry.provide(SessionService, sessions)
    c.registry.provide(CookieAuthenticator, sessions)  # type: ignore[type-abstract]
