"""Identity's wiring: accounts, tokens and signing keys, sessions, MFA, API keys, user
administration, OIDC, and the one ``Authenticator`` of bearer credentials.

``build_identity`` takes the adapters that have alternatives or test doubles as
``IdentityAdapters`` (``bootstrap.production`` picks them from the settings) and builds
the rest itself: the key ring and access tokens on the given key store, the revoked
sessions and current-access caches, the password policy on the common-password list.

Every service is complete when constructed; nothing is set on one afterwards. Sign-in
and MFA depend on each other (the password step hands over to the second factor, which
opens the session through the sign-in), so MFA comes in two parts: ``MfaChallenges``,
which needs only MFA's storage, is built first and given to ``SignInService``;
``MfaService`` is built after it, on it. The authenticator is built once, in its final
shape: API keys or tokens, then the account's current role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from agora.identity.access.api_keys import (
    ApiKeyAuthenticator,
    ApiKeyService,
    CredentialAuthenticator,
    VerifiedKeyCache,
)
from agora.identity.access.current_access import CurrentAccess, CurrentRoleAuthenticator
from agora.identity.access.ports import AccessFeed, AccessUnitOfWork
from agora.identity.access.users import UserAdministration
from agora.identity.accounts.adapters.common_passwords import common_passwords
from agora.identity.accounts.password_policy import PasswordPolicy
from agora.identity.accounts.ports import AccountsUnitOfWork, StrengthEstimator
from agora.identity.accounts.registration import RegistrationService
from agora.identity.accounts.services import AccountService
from agora.identity.mfa.ports import MfaUnitOfWorkFactory, QrCodes
from agora.identity.mfa.services import MfaChallenges, MfaService
from agora.identity.oidc.ports import OidcProvider, OidcUnitOfWorkFactory
from agora.identity.oidc.services import OidcLoginService
from agora.identity.ports import AccountMail, PasswordHasher
from agora.identity.sessions.ports import LoginThrottle
from agora.identity.sessions.revocation import RevokedSessions, stored_revocations
from agora.identity.sessions.services import SessionService
from agora.identity.sessions.sign_in import SignInService
from agora.identity.tokens.adapters.jwt_tokens import JwtAccessTokens
from agora.identity.tokens.adapters.key_material import KeyCipher
from agora.identity.tokens.adapters.key_ring import KeyRing, retention_for
from agora.identity.tokens.authenticator import TokenAuthenticator
from agora.identity.tokens.ports import SigningKeysUnitOfWorkFactory
from agora.identity.tokens.services import SigningKeyService
from agora.platform.access import Authenticator, Role
from agora.platform.audit import AuditTrail
from agora.platform.key_derivation import CSRF_TOKENS, EMAIL_FINGERPRINTS, derive_key
from agora.platform.settings import Settings


class IdentityStorage(AccountsUnitOfWork, AccessUnitOfWork, Protocol):
    """One unit of work over every capability's repositories (``SqlIdentityUnitOfWork``)."""


@dataclass(frozen=True)
class IdentityAdapters:
    uow: Callable[..., IdentityStorage]
    mfa_uow: MfaUnitOfWorkFactory
    oidc_uow: OidcUnitOfWorkFactory
    # Where the ES256 signing keys are kept, shared by every process.
    signing_keys: SigningKeysUnitOfWorkFactory
    # Reads the current role and activation of accounts (ADR 0025).
    account_access: AccessFeed
    hasher: PasswordHasher
    strength: StrengthEstimator
    throttle: LoginThrottle
    qr_codes: QrCodes
    oidc_provider: OidcProvider | None  # None: signing in with OIDC is switched off
    # The time email links and MFA challenges are dated and checked by.
    clock: Callable[[], datetime]


@dataclass(frozen=True)
class Identity:
    sign_in: SignInService
    registration: RegistrationService
    accounts: AccountService
    sessions: SessionService
    keys: SigningKeyService
    challenges: MfaChallenges
    mfa: MfaService
    users: UserAdministration
    api_keys: ApiKeyService
    oidc: OidcLoginService
    # Bearer tokens and API keys, checked against the account's current role.
    authenticator: Authenticator


def build_identity(
    settings: Settings, adapters: IdentityAdapters, *, audit: AuditTrail, mail: AccountMail
) -> Identity:
    s = settings
    secret = s.secret_key.get_secret_value()
    uow = adapters.uow
    token_ttl = timedelta(seconds=s.access_token_ttl_seconds)
    # Keys shared through the database, and the revoked sessions and current access of
    # privileged accounts every process polls for: no database read per request.
    ring = KeyRing(
        adapters.signing_keys,
        KeyCipher(secret),
        retention=retention_for(token_ttl, s.signing_key_refresh_seconds),
        refresh_interval=s.signing_key_refresh_seconds,
    )
    tokens = JwtAccessTokens(
        ring, issuer=s.jwt_issuer, audience=s.jwt_audience, ttl_seconds=s.access_token_ttl_seconds
    )
    revocations = RevokedSessions(
        token_ttl=token_ttl,
        poll_interval=s.session_revocation_poll_seconds,
        feed=stored_revocations(uow),
    )
    access = CurrentAccess(
        adapters.account_access,
        poll_interval=s.session_revocation_poll_seconds,
        forget_after=float(s.access_token_ttl_seconds),
    )
    # Roles whose sessions hold no permission until opened with a second factor.
    mfa_required_roles = (
        frozenset({Role.STAFF, Role.ADMIN}) if s.staff_and_admins_need_mfa else frozenset()
    )
    policy = PasswordPolicy(
        common_passwords(), strength=adapters.strength, min_strength=s.password_min_strength
    )
    challenges = MfaChallenges(
        adapters.mfa_uow,
        ttl=timedelta(seconds=s.mfa_challenge_ttl_seconds),
        audit=audit,
        clock=adapters.clock,
    )
    sign_in = SignInService(
        uow=uow,
        hasher=adapters.hasher,
        tokens=tokens,
        refresh_ttl=timedelta(hours=s.session_idle_ttl_hours),
        audit=audit,
        throttle=adapters.throttle,
        fingerprint_key=derive_key(secret, EMAIL_FINGERPRINTS),
        second_factor=challenges,
        session_max_age=timedelta(days=s.session_absolute_ttl_days),
        revocations=revocations,
    )
    verified_keys = VerifiedKeyCache(s.api_key_cache_seconds)
    credentials = CredentialAuthenticator(
        ApiKeyAuthenticator(uow, verified_keys),
        TokenAuthenticator(tokens, revocations, mfa_required_roles=mfa_required_roles),
    )
    return Identity(
        sign_in=sign_in,
        registration=RegistrationService(uow=uow, hasher=adapters.hasher, policy=policy),
        accounts=AccountService(
            uow=uow,
            hasher=adapters.hasher,
            policy=policy,
            mail=mail,
            public_url=s.effective_public_url,
            verification_ttl=timedelta(hours=s.email_verification_ttl_hours),
            reset_ttl=timedelta(minutes=s.password_reset_ttl_minutes),
            audit=audit,
            revocations=revocations,
            clock=adapters.clock,
        ),
        sessions=SessionService(
            uow=uow,
            lifetime=sign_in.lifetime,
            revocations=revocations,
            csrf_key=derive_key(secret, CSRF_TOKENS),
            audit=audit,
            mfa_required_roles=mfa_required_roles,
            access=access,
        ),
        keys=SigningKeyService(ring, audit, jwks_max_age=s.signing_key_refresh_seconds),
        challenges=challenges,
        mfa=MfaService(
            uow=adapters.mfa_uow,
            qr_codes=adapters.qr_codes,
            issuer=s.mfa_issuer,
            audit=audit,
            clock=adapters.clock,
        ),
        users=UserAdministration(uow, verified_keys, audit, revocations=revocations, access=access),
        api_keys=ApiKeyService(uow, verified_keys, s.api_keys_per_user, audit),
        oidc=OidcLoginService(
            uow=adapters.oidc_uow,
            sign_in=sign_in,
            hasher=adapters.hasher,
            provider=adapters.oidc_provider,
            provider_name=s.oidc_provider_name,
            allowed_redirect_uris=frozenset(s.oidc_allowed_redirect_uris),
            audit=audit,
        ),
        authenticator=CurrentRoleAuthenticator(credentials, access),
    )
