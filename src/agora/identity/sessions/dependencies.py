"""The sessions services as route dependencies, for its routes and for MFA's second-factor login."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from agora.http.dependencies import use
from agora.identity.sessions.services import SessionService
from agora.identity.sessions.sign_in import SignInService

SignIn = Annotated[SignInService, Depends(use(SignInService))]
Sessions = Annotated[SessionService, Depends(use(SessionService))]
