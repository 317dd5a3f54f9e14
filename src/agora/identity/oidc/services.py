"""Use cases of signing in with an OpenID Connect provider (authorization code + PKCE).

``start`` remembers a fresh ``state``, ``nonce`` and PKCE verifier server-side, bound to
the browser by a random cookie, and sends the browser to the provider. ``claim`` uses the
state up when the browser comes back, and ``finish`` redeems the code, checks the nonce,
finds or creates the account and opens a session.

Accounts are matched by the provider's subject first. An email address is only trusted
to link a provider identity to an existing account when the provider says it verified
it; an account whose own address was never verified loses its password and sessions
when it is linked, so whoever registered it before the address's owner cannot keep
access to it (a "pre-hijacked" account).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Literal
from uuid import UUID

from agora.identity.audit import record_own_action
from agora.identity.domain import (
    MAX_NAME_LENGTH,
    User,
    clean_name,
    normalise_email,
    user_registered,
)
from agora.identity.oidc.domain import (
    BROWSER_BINDING_BYTES,
    CODE_VERIFIER_BYTES,
    NONCE_BYTES,
    STATE_BYTES,
    AccountDeactivatedError,
    LoginState,
    OidcBrowserMismatchError,
    OidcEmailMissingError,
    OidcEmailNotVerifiedError,
    OidcIdentity,
    OidcIdTokenInvalidError,
    OidcIssuerMismatchError,
    OidcLink,
    OidcLoginError,
    OidcNotConfiguredError,
    OidcProviderRefusedError,
    OidcRedirectNotAllowedError,
    OidcStateExpiredError,
    OidcStateInvalidError,
    OidcStateUsedError,
    code_challenge,
    digest,
    random_secret,
)
from agora.identity.oidc.ports import OidcProvider, OidcUnitOfWorkFactory
from agora.identity.ports import PasswordHasher
from agora.identity.sessions.domain import SecondFactorRequired, TokenPair
from agora.identity.sessions.sign_in import SignInService
from agora.platform.access import Role
from agora.platform.audit import AuditTrail, NullAuditTrail
from agora.platform.clock import utcnow
from agora.platform.errors import AlreadyExistsError, DomainError, ValidationError
from agora.platform.ids import new_id

STATE_TTL = timedelta(minutes=10)
# Expired states are kept a day, so a late callback hears "expired" rather than "unknown".
EXPIRED_STATE_RETENTION = timedelta(days=1)
MAX_URL_LENGTH = 2048
_BINDING = re.compile(r"^[A-Za-z0-9_-]{43}$")

Outcome = Literal["created", "linked", "existing"]


@dataclass(frozen=True, slots=True)
class OidcLoginStart:
    authorization_url: str
    browser_binding: str  # the cookie value that ties the callback to this browser
    max_age_seconds: int


@dataclass(frozen=True, slots=True)
class OidcLogin:
    user: User
    outcome: Outcome
    tokens: TokenPair | None = None
    # Set instead of tokens when the account has MFA on: the provider's word stands for
    # the password, not for the second factor.
    challenge: SecondFactorRequired | None = None


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    name: str
    issuer: str


@dataclass
class OidcLoginService:
    uow: OidcUnitOfWorkFactory
    sign_in: SignInService
    hasher: PasswordHasher
    provider: OidcProvider | None  # None: the feature is switched off
    provider_name: str
    allowed_redirect_uris: frozenset[str] = frozenset()
    state_ttl: timedelta = STATE_TTL
    audit: AuditTrail = field(default_factory=NullAuditTrail)

    async def purge_expired_states(self) -> int:
        """Delete sign-ins a day after they expired (a scheduled job; each new sign-in
        also drops them). Works with the feature switched off too."""
        async with self.uow() as uow:
            removed = await uow.oidc_states.delete_expired(utcnow() - EXPIRED_STATE_RETENTION)
            await uow.commit()
        return removed

    def info(self) -> ProviderInfo:
        return ProviderInfo(self.provider_name, self._provider().issuer)

    # -- step 1: off to the provider ----------------------------------------------------

    async def start(
        self, *, callback_url: str, return_to: str | None, browser_binding: str | None
    ) -> OidcLoginStart:
        """Remember a new sign-in and return the provider URL to send the browser to."""
        provider = self._provider()
        if return_to is not None and return_to not in self.allowed_redirect_uris:
            raise OidcRedirectNotAllowedError(field="redirect_uri")
        if len(callback_url) > MAX_URL_LENGTH:
            raise ValidationError("The callback address is too long.", field="host")
        # Reusing the browser's binding lets two tabs sign in at once.
        binding = (
            browser_binding
            if browser_binding is not None and _BINDING.match(browser_binding)
            else random_secret(BROWSER_BINDING_BYTES)
        )
        state = random_secret(STATE_BYTES)
        nonce = random_secret(NONCE_BYTES)
        verifier = random_secret(CODE_VERIFIER_BYTES)
        # Ask the provider first: when it is down, nothing is stored.
        url = await provider.authorization_url(
            redirect_uri=callback_url,
            state=state,
            nonce=nonce,
            code_challenge=code_challenge(verifier),
        )
        now = utcnow()
        async with self.uow() as uow:
            await uow.oidc_states.delete_expired(now - EXPIRED_STATE_RETENTION)
            await uow.oidc_states.add(
                LoginState(
                    id=new_id(),
                    state_hash=digest(state),
                    browser_hash=digest(binding),
                    nonce=nonce,
                    code_verifier=verifier,
                    redirect_uri=callback_url,
                    return_to=return_to,
                    created_at=now,
                    expires_at=now + self.state_ttl,
                )
            )
            await uow.commit()
        return OidcLoginStart(url, binding, int(self.state_ttl.total_seconds()))

    # -- step 2: back from the provider -------------------------------------------------

    async def claim(self, *, state: str | None, browser_binding: str | None) -> LoginState:
        """Use up the sign-in the callback's ``state`` names; it works once, in one browser."""
        self._provider()
        try:
            return await self._claim(state, browser_binding)
        except OidcLoginError as exc:
            await self._failed(exc, None)
            raise

    async def finish(
        self,
        login: LoginState,
        *,
        code: str | None,
        error: str | None,
        error_description: str | None,
        issuer: str | None,
        user_agent: str | None,
        ip: str | None,
    ) -> OidcLogin:
        """Redeem the code, verify who the provider says this is, and open a session."""
        provider = self._provider()
        user: User | None = None
        try:
            if error is not None:
                raise OidcProviderRefusedError(
                    f"The provider did not sign you in ({error[:64]}).",
                    provider_error=error[:64],
                    description=(error_description or "")[:200],
                )
            # RFC 9207: a provider that names itself in the callback must name the right one
            # (a mix-up attack swaps in a code from another provider).
            if issuer is not None and issuer != provider.issuer:
                raise OidcIssuerMismatchError()
            if issuer is None and await provider.requires_issuer_in_response():
                raise OidcIssuerMismatchError()
            if not code:
                raise OidcProviderRefusedError(provider_error="missing_code", description="")
            identity = await provider.redeem(
                code=code, code_verifier=login.code_verifier, redirect_uri=login.redirect_uri
            )
            if identity.nonce is None or not hmac.compare_digest(identity.nonce, login.nonce):
                raise OidcIdTokenInvalidError(reason="nonce")
            user, outcome = await self._resolve(identity)
            if not user.is_active:
                raise AccountDeactivatedError()
        except DomainError as exc:
            await self._failed(exc, user)
            raise
        second_factor = self.sign_in.second_factor
        challenge = await second_factor.challenge(user) if second_factor is not None else None
        if challenge is not None:
            return OidcLogin(user, outcome, challenge=challenge)
        tokens = await self.sign_in.start_session(
            user,
            user_agent,
            ip,
            login={"method": "oidc", "provider": self.provider_name, "account": outcome},
        )
        return OidcLogin(user, outcome, tokens=tokens)

    # -- internals ----------------------------------------------------------------------

    def _provider(self) -> OidcProvider:
        if self.provider is None:
            raise OidcNotConfiguredError()
        return self.provider

    async def _claim(self, state: str | None, browser_binding: str | None) -> LoginState:
        if not state:
            raise OidcStateInvalidError()
        now = utcnow()
        async with self.uow() as uow:
            login = await uow.oidc_states.get_by_hash(digest(state))
            if login is None:
                raise OidcStateInvalidError()
            if login.was_used:
                raise OidcStateUsedError()
            if login.is_expired(now):
                raise OidcStateExpiredError()
            if browser_binding is None or not hmac.compare_digest(
                login.browser_hash, digest(browser_binding)
            ):
                # Someone else's callback URL opened in this browser: a login CSRF attempt.
                raise OidcBrowserMismatchError()
            if not await uow.oidc_states.mark_used(login.id, now):
                raise OidcStateUsedError()
            await uow.commit()
        return replace(login, used_at=now)

    async def _resolve(self, identity: OidcIdentity) -> tuple[User, Outcome]:
        try:
            return await self._resolve_once(identity)
        except AlreadyExistsError:
            # A concurrent first sign-in (or sign-up) with this identity won the insert;
            # its link or account is there now, so looking again finds it.
            return await self._resolve_once(identity)

    async def _resolve_once(self, identity: OidcIdentity) -> tuple[User, Outcome]:
        async with self.uow(read_only=True) as uow:
            link = await uow.oidc_links.get(identity.issuer, identity.subject)
            linked_user = None if link is None else await uow.users.get(link.user_id)
        if linked_user is not None:
            return linked_user, "existing"
        email = _email_of(identity)
        async with self.uow(read_only=True) as uow:
            existing = await uow.users.get_by_email(email)
        if existing is None:
            return await self._create(identity, email), "created"
        if not identity.email_verified:
            raise OidcEmailNotVerifiedError()
        if not existing.is_active:
            raise AccountDeactivatedError()
        return await self._link(existing, identity), "linked"

    async def _create(self, identity: OidcIdentity, email: str) -> User:
        # A random password nobody knows: the account signs in through the provider
        # (or sets a password with a reset link later). Hashed outside the transaction.
        password_hash = await self.hasher.hash(random_secret(32))
        now = utcnow()
        user = User(
            id=new_id(),
            email=email,
            name=_name_of(identity, email),
            password_hash=password_hash,
            role=Role.CUSTOMER,
            is_active=True,
            email_verified_at=now if identity.email_verified else None,
            created_at=now,
            updated_at=now,
        )
        async with self.uow() as uow:
            await uow.users.add(user)
            await uow.oidc_links.add(_link_of(user.id, identity, email))
            uow.record(user_registered(user))
            await self._linked(user, identity, new_account=True, password_cleared=False)
            await uow.commit()
        return user

    async def _link(self, user: User, identity: OidcIdentity) -> User:
        unusable = None
        if not user.email_verified:
            unusable = await self.hasher.hash(random_secret(32))
        now = utcnow()
        cleared = False
        async with self.uow() as uow:
            current = await uow.users.get(user.id)
            if current is None:  # deleted meanwhile: treat like a lost race and look again
                raise AlreadyExistsError()
            await uow.oidc_links.add(_link_of(current.id, identity, current.email))
            if unusable is not None and not current.email_verified:
                # Whoever registered this address without proving it may know the password
                # and hold sessions: both go; the provider has proven who owns the address.
                changed = replace(
                    current,
                    password_hash=unusable,
                    email_verified_at=now,
                    updated_at=now,
                    version=current.version + 1,
                )
                await uow.users.update(changed, expected_version=current.version)
                await uow.refresh_tokens.revoke_all_for_user(current.id, now)
                current, cleared = changed, True
            await self._linked(current, identity, new_account=False, password_cleared=cleared)
            await uow.commit()
        return current

    async def _linked(
        self, user: User, identity: OidcIdentity, *, new_account: bool, password_cleared: bool
    ) -> None:
        """Audit the link, inside the unit of work that made it."""
        await record_own_action(
            self.audit,
            "identity.oidc_linked",
            user,
            details={
                "provider": self.provider_name,
                "issuer": identity.issuer,
                "subject": identity.subject,
                "new_account": new_account,
                "password_cleared": password_cleared,
            },
        )

    async def _failed(self, exc: DomainError, user: User | None) -> None:
        await record_own_action(
            self.audit,
            "auth.login",
            user,
            outcome="failure",
            details={"method": "oidc", "provider": self.provider_name, "reason": exc.code},
        )


def _email_of(identity: OidcIdentity) -> str:
    if identity.email is None:
        raise OidcEmailMissingError()
    try:
        return normalise_email(identity.email)
    except ValidationError:
        raise OidcEmailMissingError() from None


def _name_of(identity: OidcIdentity, email: str) -> str:
    for candidate in (identity.name, email.split("@", 1)[0]):
        if candidate:
            try:
                return clean_name(candidate[:MAX_NAME_LENGTH])
            except ValidationError:
                continue
    return "Customer"


def _link_of(user_id: UUID, identity: OidcIdentity, email: str | None) -> OidcLink:
    return OidcLink(
        id=new_id(),
        user_id=user_id,
        issuer=identity.issuer,
        subject=identity.subject,
        email=email,
        created_at=utcnow(),
    )
