"""Small JSON requests to the provider over the standard library's ``urllib``.

It runs in a worker thread: the runtime needs no HTTP client dependency for three kinds
of small request. Redirects are never followed and only the allowed schemes are opened
(``http`` only outside production), so a hostile discovery document cannot point the
client at local files or elsewhere; answers are capped at ``MAX_RESPONSE_BYTES``.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

from agora.identity.oidc.domain import OidcProviderUnavailableError
from agora.platform.logging import get_logger

log = get_logger("agora.identity.oidc")

MAX_RESPONSE_BYTES = 1_048_576


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any  # decoded JSON, or None when the body was not JSON


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx then surfaces as an HTTPError, handled like any other status


_OPENER = urllib.request.build_opener(_NoRedirects())


class JsonHttp:
    def __init__(self, *, timeout_seconds: float, allow_http: bool) -> None:
        self._timeout = timeout_seconds
        self.schemes = ("https",) if not allow_http else ("https", "http")

    async def call(
        self,
        method: str,
        url: str,
        *,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """The answer, whatever its status; ``OidcProviderUnavailableError`` when there is none."""
        if urllib.parse.urlsplit(url).scheme not in self.schemes:
            raise OidcProviderUnavailableError("scheme")
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - scheme checked above
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            return await asyncio.to_thread(self._send, request)
        except (urllib.error.URLError, HTTPException, OSError, ValueError) as exc:
            log.warning("oidc_provider_unreachable", url=url, error=type(exc).__name__)
            raise OidcProviderUnavailableError("unreachable") from None

    def _send(self, request: urllib.request.Request) -> Answer:
        try:
            with _OPENER.open(request, timeout=self._timeout) as response:
                return Answer(response.status, _json(response.read(MAX_RESPONSE_BYTES + 1)))
        except urllib.error.HTTPError as exc:
            with exc:
                return Answer(exc.code, _json(exc.read(MAX_RESPONSE_BYTES + 1)))


def _json(raw: bytes) -> Any:
    if len(raw) > MAX_RESPONSE_BYTES:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
