"""The check-in code the TV or projector shows: a signed token naming the session and a 30-second window.

The code changes every window and is accepted for ``CODE_LIFETIME_WINDOWS`` windows (90 s), so a photo of it
sent to someone at home stops working almost at once. Its key is the site's SECRET_KEY salted with the session's
own random ``checkin_secret``: a code of one session never opens another, and a secretary who suspects a leak
replaces the secret (``session_checkin_reset``) and every earlier code dies."""

import time

import segno
from django.core import signing
from django.utils.translation import gettext as _

WINDOW_SECONDS = 30
CODE_LIFETIME_WINDOWS = 3


class CodeRefused(Exception):
    """The code is forged, of another session, or too old; the message says which, in Chinese."""


def _signer(session) -> signing.Signer:
    return signing.Signer(salt=f"courses.checkin:{session.pk}:{session.checkin_secret}")


def window_of(now: float | None = None) -> int:
    return int((now if now is not None else time.time()) // WINDOW_SECONDS)


def code_for(session, *, now: float | None = None) -> str:
    """The token for the current window: ``<session id>.<window>:<signature>``."""
    return _signer(session).sign(f"{session.pk}.{window_of(now)}")


def session_id_of(token: str) -> int | None:
    """The session a token names (before its signature is checked: to find the session whose key checks it)."""
    head = token.partition(".")[0]
    return int(head) if head.isdigit() and len(head) < 12 else None


def check(session, token: str, *, now: float | None = None) -> None:
    """Raise CodeRefused unless ``token`` is this session's code from the last 90 seconds."""
    try:
        value = _signer(session).unsign(token)
    except signing.BadSignature:
        raise CodeRefused(_("签到码无效：请扫描电视或投影上正在显示的二维码。")) from None
    pk, _dot, window = value.partition(".")
    if pk != str(session.pk) or not window.isdigit():
        raise CodeRefused(_("签到码无效：请扫描电视或投影上正在显示的二维码。"))
    age = window_of(now) - int(window)
    if age >= CODE_LIFETIME_WINDOWS or age < -1:
        raise CodeRefused(_("签到码已过期：请扫描电视或投影上正在显示的最新二维码。"))


def qr_svg(url: str) -> str:
    """The URL as an inline SVG QR code (segno), dark on white with a quiet zone, sized by its container."""
    return segno.make(url, error="m").svg_inline(scale=1, omitsize=True, dark="#000", light="#fff", border=2)
