"""The QR code of a registration's check-in URL, made here (segno), never by an outside service."""

from __future__ import annotations

import io

import segno
from markupsafe import Markup


def _code(url: str) -> segno.QRCode:
    # level M survives a scuffed screen or a phone held at an angle; the URL is short enough for it
    return segno.make(url, error="m", micro=False, boost_error=False)


def svg(url: str, title: str) -> Markup:
    """The code as inline SVG for a page (no request to anything, and the page's CSP allows it)."""
    markup = _code(url).svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title=title, svgclass="qr", lineclass=None, omitsize=False
    )
    return Markup(markup)


def png(url: str) -> bytes:
    """The code as a PNG, for the mail's inline image part."""
    buffer = io.BytesIO()
    _code(url).save(buffer, kind="png", scale=5, border=4)
    return buffer.getvalue()
