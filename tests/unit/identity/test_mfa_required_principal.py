"""The authenticator withholds staff and admin permissions from sessions without MFA."""

from __future__ import annotations

import pytest

from agora.identity.tokens.adapters.jwt_tokens import JwtAccessTokens
from agora.identity.tokens.adapters.key_ring import KeyRing
from agora.identity.tokens.authenticator import TokenAuthenticator
from agora.platform.access import PERMISSIONS, Permission, Principal, Role
from agora.platform.errors import MfaRequiredError, PermissionDeniedError
from agora.platform.ids import new_id

pytestmark = pytest.mark.anyio
PRIVILEGED = frozenset({Role.STAFF, Role.ADMIN})


def _tokens() -> JwtAccessTokens:
    return JwtAccessTokens(
        KeyRing.ephemeral(), issuer="agora", audience="agora-api", ttl_seconds=60
    )


async def _principal(role: Role, *, mfa: bool, required: frozenset[Role] = PRIVILEGED) -> Principal:
    tokens = _tokens()
    token = tokens.issue(new_id(), role, new_id(), mfa=mfa)
    return await TokenAuthenticator(tokens, mfa_required_roles=required).authenticate(token)


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
async def test_a_privileged_session_without_mfa_has_no_permissions(role: Role) -> None:
    principal = await _principal(role, mfa=False)
    assert principal.permissions == frozenset()
    assert principal.mfa_required is True
    with pytest.raises(MfaRequiredError) as caught:
        principal.require(Permission.CATALOG_WRITE)
    assert caught.value.code == "MFA_REQUIRED"
    assert isinstance(caught.value, PermissionDeniedError)


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
async def test_a_privileged_session_with_mfa_keeps_its_role(role: Role) -> None:
    principal = await _principal(role, mfa=True)
    assert principal.permissions == PERMISSIONS[role]
    assert principal.mfa is True


async def test_a_permission_the_role_never_had_is_a_plain_refusal() -> None:
    staff = await _principal(Role.STAFF, mfa=False)
    with pytest.raises(PermissionDeniedError) as caught:
        staff.require(Permission.USERS_MANAGE)
    assert caught.value.code == "FORBIDDEN"


async def test_customers_are_unaffected() -> None:
    customer = await _principal(Role.CUSTOMER, mfa=False)
    assert customer.mfa_required is False


async def test_without_the_setting_nothing_is_withheld() -> None:
    staff = await _principal(Role.STAFF, mfa=False, required=frozenset())
    assert staff.permissions == PERMISSIONS[Role.STAFF]
