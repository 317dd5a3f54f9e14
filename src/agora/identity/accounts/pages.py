"""The pages the links in account emails open: ``/verify-email`` and ``/reset-password``.

Plain HTML forms, no script. Opening a link never changes anything by itself: mail
scanners and link previews fetch links, and a GET that used the token up would spend it
before the person clicks. The page shows a form; submitting it (a POST of the token)
does the work through the same service as the API.

No CSRF token is needed: what is posted *is* the secret, mailed to the account's
owner, so a forged cross-site post could only use tokens its author already holds.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query
from starlette.responses import Response

from agora.http.pages import escape, page
from agora.identity.accounts.dependencies import Accounts
from agora.identity.accounts.domain import InvalidEmailTokenError
from agora.identity.accounts.password_policy import MIN_LENGTH
from agora.identity.domain import MAX_PASSWORD_LENGTH
from agora.platform.errors import ValidationError

router = APIRouter(include_in_schema=False)
MAX_TOKEN = 200
Token = Annotated[str, Query(max_length=MAX_TOKEN)]
FormToken = Annotated[str, Form(max_length=MAX_TOKEN)]

_OPEN_THE_EMAILED_LINK = (
    "This page needs the link from your email; open the link exactly as it was sent."
)


def _invalid_link(title: str) -> Response:
    return page(
        title,
        f'<p class="error">{escape(InvalidEmailTokenError().message)}</p>',
        status_code=422,
    )


@router.get("/verify-email")
async def verify_email_form(token: Token = "") -> Response:
    if not token:
        return page("Confirm your email address", f"<p>{escape(_OPEN_THE_EMAILED_LINK)}</p>")
    return page(
        "Confirm your email address",
        '<form method="post" action="/verify-email">'
        f'<input type="hidden" name="token" value="{escape(token)}">'
        '<button type="submit">Confirm my email address</button></form>',
    )


@router.post("/verify-email")
async def verify_email(token: FormToken, accounts: Accounts) -> Response:
    try:
        user = await accounts.verify_email(token)
    except InvalidEmailTokenError:
        return _invalid_link("Confirm your email address")
    return page(
        "Email address confirmed",
        f"<p>Thank you: <strong>{escape(user.email)}</strong> is verified. "
        "You can close this page.</p>",
    )


def _reset_form(token: str, error: str | None = None, *, status_code: int = 200) -> Response:
    problem = f'<p class="error">{escape(error)}</p>' if error else ""
    return page(
        "Choose a new password",
        f"{problem}"
        '<form method="post" action="/reset-password">'
        f'<input type="hidden" name="token" value="{escape(token)}">'
        f"<p><label>New password ({MIN_LENGTH} to {MAX_PASSWORD_LENGTH} characters; a few "
        "unrelated words make a strong one)<br>"
        f'<input type="password" name="password" autocomplete="new-password" required '
        f'minlength="{MIN_LENGTH}" maxlength="{MAX_PASSWORD_LENGTH}"></label></p>'
        '<button type="submit">Set the new password</button></form>',
        status_code=status_code,
    )


@router.get("/reset-password")
async def reset_password_form(token: Token = "") -> Response:
    if not token:
        return page("Choose a new password", f"<p>{escape(_OPEN_THE_EMAILED_LINK)}</p>")
    return _reset_form(token)


@router.post("/reset-password")
async def reset_password(
    token: FormToken,
    password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH * 4)],
    accounts: Accounts,
) -> Response:
    try:
        await accounts.reset_password(token, password)
    except InvalidEmailTokenError:
        return _invalid_link("Choose a new password")
    except ValidationError as exc:  # the policy refused the password: the token still works
        return _reset_form(token, exc.message, status_code=422)
    return page(
        "Password changed",
        "<p>Your password was changed and every device was signed out. Sign in again "
        "with the new password.</p>",
    )
