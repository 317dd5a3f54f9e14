"""Finding text in a request that no database column can store, before it reaches one.

PostgreSQL's ``text`` and ``jsonb`` refuse the NUL character, and no UTF-8 database
(nor SQLite's driver) can take a lone UTF-16 surrogate such as ``"\\ud800"`` (which
JSON can spell) or bytes that are not UTF-8 at all (which a percent-encoded path or
query can carry, and which would otherwise be quietly replaced by U+FFFD). Each
function answers where the first such text is (``"path"``, ``"query.q"``,
``"body.description"``, ``"header.user-agent"``) or ``None``; the request-context
middleware refuses the request with a 422 naming that place, for every route at once.

The common case costs a substring test or two: only a query or path with a ``%`` and a
JSON body with a ``\\u`` escape are decoded and looked at closely.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> bool:
    """Whether ``text`` holds a NUL or a lone surrogate."""
    if text.isascii():  # the common case, and far cheaper than the expression
        return "\x00" in text
    return _UNSTORABLE.search(text) is not None


def _plain(raw: bytes) -> bool:
    """Whether ``raw`` is ASCII without NUL or percent-escapes: nothing to decode or refuse."""
    return raw.isascii() and b"%" not in raw and b"\x00" not in raw


def printable_name(raw: bytes) -> str:
    """A parameter name made safe to echo back in an error (bad characters replaced)."""
    name = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", errors="replace")
    return _UNSTORABLE.sub("\ufffd", name)[:100]


def _decoded(raw: bytes) -> str | None:
    """``raw`` percent-decoded as UTF-8, or ``None`` when that is impossible or unstorable."""
    if _plain(raw):
        return raw.decode("ascii")
    try:
        text = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if unstorable(text) else text


def in_path(raw_path: bytes | None, path: str) -> str | None:
    """``"path"`` when the path (as sent, percent-decoded) is not storable text."""
    if unstorable(path):
        return "path"
    if raw_path is not None:
        # Some clients send the query string in ``raw_path`` too; it is checked on its own.
        raw = raw_path.split(b"?", 1)[0]
        if not _plain(raw) and _decoded(raw) is None:
            return "path"
    return None


def in_form(raw: bytes, where: str) -> str | None:
    """The first name or value of a query string (or form body) that is not storable text."""
    if _plain(raw):
        return None
    for pair in raw.split(b"&"):
        name, _, value = pair.partition(b"=")
        if (
            _decoded(name.replace(b"+", b" ")) is None
            or _decoded(value.replace(b"+", b" ")) is None
        ):
            return f"{where}.{printable_name(name)}"
    return None


def in_headers(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The first header whose value holds a NUL (headers are Latin-1: nothing else is unsafe)."""
    for name, value in headers:
        if b"\x00" in value:
            return f"header.{name.decode('latin-1')}"
    return None


def in_json(body: bytes) -> str | None:
    """The first string (key or value) of a JSON body that is not storable text.

    JSON between systems is UTF-8 (RFC 8259): a body that is not (UTF-16 or UTF-32,
    which the parser would otherwise accept; UTF-8-encoded surrogates) is refused whole.
    A NUL or a surrogate can otherwise only reach a parsed string through a ``\\u``
    escape, so bodies without one are not parsed here at all.
    """
    if b"\x00" in body:  # a raw NUL: UTF-16/32 text, or binary
        return "body"
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return "body"
    if b"\\u" not in body:
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None  # malformed or absurdly deep: the route's own parsing answers it
    return _in_document(document)


def _in_document(document: Any) -> str | None:
    """Depth-first, in document order, without recursion (nesting depth is the client's)."""
    stack: list[tuple[str, Any]] = [("body", document)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if unstorable(value):
                return where
        elif isinstance(value, dict):
            children = []
            for key, item in value.items():
                place = f"{where}.{_UNSTORABLE.sub(chr(0xFFFD), key)}"
                if unstorable(key):
                    return place
                children.append((place, item))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{where}.{i}", item) for i, item in enumerate(value)]))
    return None
