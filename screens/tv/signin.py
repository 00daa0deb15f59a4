"""Signing a TV in with a phone: the TV shows a QR code of a short-lived signed link; a signed-in member opens it on
their phone and confirms; the TV, polling, becomes signed in as that member.

State lives in the configured cache (Redis in production, shared by every process and machine), never in process
memory. The link carries ``<nonce>`` signed with a timestamp (``TimestampSigner``, salted): a forged or altered link
fails the signature, an old one fails ``max_age``. The nonce alone signs nobody in: only the browser whose session
holds it (the TV that asked) can collect the member, once. A nonce is claimed with ``cache.add`` (atomic in every
backend), so two phones racing on one code give one sign-in and one refusal.

The TV's session is held to the TV's pages (``screens.tv.session``), and editors' and administrators' accounts
cannot sign a TV in at all: a code passed on by a stranger must never hand out the admin. The phone's page says when
and from which address the code was shown, so a member notices a code that is not from the TV in front of them.
"""

import secrets
import time
from dataclasses import dataclass

import segno
from django.core import signing
from django.core.cache import cache
from django.utils.translation import gettext as _

SALT = "screens.tv.signin"
LIFETIME_SECONDS = 300  # a code on the TV lives five minutes
SESSION_KEY = "screens_tv_signin"
WAITING, CONFIRMED = "waiting", "confirmed"
# Throttles: codes a TV's address may ask for, confirmations a member may send, per window.
THROTTLE_WINDOW_SECONDS = 600
CODES_PER_ADDRESS = 30
CONFIRMS_PER_MEMBER = 10


class SignInRefused(Exception):
    """A scanned link that cannot sign a TV in; the message is a Chinese sentence for the member."""


@dataclass(frozen=True)
class Code:
    nonce: str
    token: str


def _key(nonce: str) -> str:
    return f"screens:tv-signin:{nonce}"


def _claim_key(nonce: str) -> str:
    return f"screens:tv-signin-claimed:{nonce}"


def code_create(*, address: str = "") -> Code:
    """A fresh nonce waiting for a phone, and the signed token its QR link carries; ``address`` is the TV's (shown
    on the phone)."""
    nonce = secrets.token_urlsafe(18)
    now = time.time()
    # The entry carries its own end: the cache's expiry is only housekeeping (Redis keeps its own clock).
    entry = {"state": WAITING, "ends": now + LIFETIME_SECONDS, "shown": now, "address": address}
    cache.set(_key(nonce), entry, LIFETIME_SECONDS)
    return Code(nonce=nonce, token=signing.TimestampSigner(salt=SALT).sign(nonce))


def nonce_of(token: str) -> str:
    """The nonce a scanned token names, or SignInRefused: forged, expired, already used."""
    try:
        nonce = signing.TimestampSigner(salt=SALT).unsign(token or "", max_age=LIFETIME_SECONDS)
    except signing.SignatureExpired:
        raise SignInRefused(_("这个二维码已过期，请在电视上重新显示二维码后再扫。")) from None
    except signing.BadSignature:
        raise SignInRefused(_("这个二维码无效，请扫描电视上显示的二维码。")) from None
    state = cache.get(_key(nonce))
    if cache.get(_claim_key(nonce)) is not None or (state and state.get("state") != WAITING):
        raise SignInRefused(_("这个二维码已经用过了，请在电视上重新显示二维码。"))
    if state is None or state.get("ends", 0) < time.time():
        raise SignInRefused(_("这个二维码已过期，请在电视上重新显示二维码后再扫。"))
    return nonce


def code_shown(nonce: str) -> tuple[float | None, str]:
    """(when, from which address) the TV showed this code: (None, "") when unknown."""
    state = cache.get(_key(nonce)) or {}
    return state.get("shown"), state.get("address", "")


def may_sign_in_a_tv(user) -> bool:
    """Members only: an account that opens the admin (editors, administrators, staff) never signs a TV in."""
    return bool(user.is_active and not user.is_staff and not user.is_superuser) and not user.has_perm(
        "wagtailadmin.access_admin"
    )


def member_check(user) -> None:
    """SignInRefused, in Chinese, for an account that may not sign a TV in."""
    if not may_sign_in_a_tv(user):
        raise SignInRefused(_("编辑和管理员账号不能用于电视登录，请用普通党员账号扫码。"))


def code_confirm(*, token: str, user) -> None:
    """The member on the phone confirms: the TV that holds this nonce may sign in as them. Single use."""
    nonce = nonce_of(token)
    member_check(user)
    if not cache.add(_claim_key(nonce), user.pk, LIFETIME_SECONDS):
        raise SignInRefused(_("这个二维码已经用过了，请在电视上重新显示二维码。"))
    ends = time.time() + LIFETIME_SECONDS
    cache.set(_key(nonce), {"state": CONFIRMED, "user_id": user.pk, "ends": ends}, LIFETIME_SECONDS)


def code_collect(nonce: str) -> tuple[str, int | None]:
    """What the TV holding ``nonce`` sees: ("waiting", None), ("expired", None), or ("confirmed", member id), the
    last only once (the entry is deleted as it is read)."""
    state = cache.get(_key(nonce)) if nonce else None
    if state is None or state.get("ends", 0) < time.time():
        return "expired", None
    if state.get("state") != CONFIRMED:
        return WAITING, None
    cache.delete(_key(nonce))
    return CONFIRMED, state["user_id"]


def allowed(kind: str, who: str, *, limit: int) -> bool:
    """A fixed-window counter in the cache: False once ``who`` asked more than ``limit`` times this window."""
    key = f"screens:tv-throttle:{kind}:{who}"
    if cache.add(key, 1, THROTTLE_WINDOW_SECONDS):
        return True
    try:
        return cache.incr(key) <= limit
    except ValueError:  # expired between add and incr: a new window
        cache.add(key, 1, THROTTLE_WINDOW_SECONDS)
        return True


def qr_svg(url: str) -> str:
    """The link as an inline SVG QR code (segno, as the courses' check-in code), sized by its container."""
    return segno.make(url, error="m").svg_inline(scale=1, omitsize=True, dark="#000", light="#fff", border=2)
