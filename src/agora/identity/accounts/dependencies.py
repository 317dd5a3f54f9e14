"""The accounts services as route dependencies, for its API routes and its pages alike."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from agora.http.dependencies import use
from agora.identity.accounts.registration import RegistrationService
from agora.identity.accounts.services import AccountService

Registration = Annotated[RegistrationService, Depends(use(RegistrationService))]
Accounts = Annotated[AccountService, Depends(use(AccountService))]
