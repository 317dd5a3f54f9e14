"""Small server-rendered HTML pages (no templates, no script), escaped in one place.

The pages the platform serves (the development mailbox, the links in account emails)
are plain HTML: no JavaScript at all, so the page CSP holds without exceptions, and
every dynamic value passes through ``escape`` before it reaches the markup.
"""

from __future__ import annotations

from html import escape as _escape

from starlette.responses import HTMLResponse

from agora.http.envelope import NO_STORE

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1b1b1b}"
    "pre{white-space:pre-wrap;background:#f4f4f4;padding:.75rem;border-radius:4px}"
    "input,button{font:inherit;padding:.4rem .6rem}"
    ".error{color:#a4001c}.note{color:#555}"
    "article{border-top:1px solid #ddd;padding:.5rem 0}"
    "table{border-collapse:collapse}th,td{border:1px solid #ddd;padding:.2rem .5rem;"
    "text-align:left;vertical-align:top}"
)
# Stricter than the site-wide page policy: these pages load nothing and run no script.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def escape(value: object) -> str:
    """Text (or an attribute value) made safe to place in HTML."""
    return _escape(str(value), quote=True)


def page(title: str, body_html: str, *, status_code: int = 200) -> HTMLResponse:
    """A complete page around ``body_html``, which the caller has already escaped.

    Never cached: these pages can carry one-time tokens.
    """
    markup = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)} - Agora</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body_html}</body></html>"
    )
    return HTMLResponse(
        markup,
        status_code=status_code,
        headers={**NO_STORE, "Content-Security-Policy": CSP},
    )
