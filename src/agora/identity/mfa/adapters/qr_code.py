"""QR codes as SVG (segno): what an authenticator app scans to enroll."""

from __future__ import annotations

import io

import segno


class SegnoQrCodes:
    def svg(self, data: str) -> str:
        buffer = io.BytesIO()
        # Error correction M survives a smudged screen; no XML declaration, so the
        # document can be inlined into HTML as it is.
        segno.make(data, error="m").save(
            buffer,
            kind="svg",
            xmldecl=False,
            nl=False,
            scale=4,
            border=4,
            title="Scan with your authenticator app",
        )
        return buffer.getvalue().decode("utf-8")
