"""Who is asking, for clients that cannot fill in a login form (reading apps, podcast apps): HTTP Basic
credentials sent with every request, else the browser session. Used by the OPDS catalogue, the podcast feeds and
the file links those feeds hand out.

Apps send the password with every request (a feed, then each cover and enclosure), and checking it costs a slow
password hash each time, so a check that passed is remembered for a few minutes (under an HMAC that includes the
stored password hash, so changing the password ends it; the password itself is never kept). Wrong passwords are
throttled like every other sign-in (django-axes, rules in ``cms.login_throttle``): a locked-out requester's
credentials are not even checked (no hash burnt, and the remembered check is not consulted either, so it cannot
confirm a guess).
"""

import base64
import binascii
import logging
from collections.abc import Callable
from functools import wraps

from django.contrib.auth import authenticate, get_user_model
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from cms import login_throttle

logger = logging.getLogger(__name__)

CHECKED_FOR = 5 * 60  # seconds a passed check is remembered
REALM = "Lighthouse"


class BadCredentials(Exception):
    """Basic credentials were sent and are wrong (or unreadable)."""


class TooManyFailures(Exception):
    """Too many wrong passwords lately (cms.login_throttle); the credentials were not checked."""


def basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    """(username, password) from an ``Authorization: Basic`` header; None when there is none."""
    scheme, _sep, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadCredentials from exc
    try:
        text = raw.decode("utf-8")  # RFC 7617 with charset="UTF-8", which our challenge asks for
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    username, sep, password = text.partition(":")
    if not sep or not username:
        raise BadCredentials
    return username, password


def feed_user(request: HttpRequest):
    """The requester: the member whose Basic credentials came with this request (no session is made), else the
    session's user (possibly anonymous). Raises BadCredentials for a wrong password, TooManyFailures when sign-in
    is throttled for this requester (cms.login_throttle)."""
    credentials = basic_credentials(request)
    if credentials is None:
        return request.user
    username, password = credentials
    # Throttling first: a locked-out requester must not learn anything, not even from the remembered check.
    if not login_throttle.sign_in_allowed(request, username):
        raise TooManyFailures
    if (user := _recently_checked(username, password)) is not None:
        return user
    user = authenticate(request, username=username, password=password)  # axes counts a failure
    if user is None or not user.is_active:
        logger.info("feeds: wrong Basic credentials for %r", username)
        if login_throttle.locked_out(request):
            raise TooManyFailures
        raise BadCredentials
    cache.set(_checked_key(user, username, password), True, CHECKED_FOR)
    return user


def _checked_key(user, username: str, password: str) -> str:
    """Only these exact credentials against the current password hash match: a new password, or a hash upgrade,
    makes a new key. A digest, never the password, goes to the cache."""
    # The salt keeps the module's first name: a new one would forget every credential checked before a deploy.
    digest = salted_hmac("library.basic_auth.checked", f"{user.pk}\0{username}\0{password}\0{user.password}")
    return f"feeds:basic-checked:{digest.hexdigest()}"


def _recently_checked(username: str, password: str):
    """The active member these credentials passed the password check for within CHECKED_FOR seconds, else None.
    One indexed query, instead of the password hash."""
    try:
        user = get_user_model()._default_manager.get_by_natural_key(username)
    except get_user_model().DoesNotExist:
        return None
    if not user.is_active or not cache.get(_checked_key(user, username, password)):
        return None
    return user


def basic_challenge() -> HttpResponse:
    """401 asking for a username and password; reading and podcast apps then show their sign-in box."""
    response = HttpResponse(_("请使用灯塔账号和密码登录。"), status=401, content_type="text/plain; charset=utf-8")
    # The realm is plain ASCII (RFC 9110 header values are ASCII; a UTF-8 realm shows as mojibake or is refused
    # by apps and proxies); the prompt's words are the 401 body. charset="UTF-8" (RFC 7617) tells apps to send a
    # Chinese username as UTF-8.
    response["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return response


def too_many_failures() -> HttpResponse:
    """429 in plain text (what reading and podcast apps show): no password is checked until the cool-off ends."""
    response = HttpResponse(login_throttle.locked_out_message(), status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(login_throttle.cool_off_seconds())
    return response


def with_feed_user(view: Callable) -> Callable:
    """Call ``view(request, user, ...)`` with the requester; a wrong password gets the 401 challenge. Answers
    differ per requester, so caches must key on the credentials and keep members' copies private."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            user = feed_user(request)
        except BadCredentials:
            return basic_challenge()
        except TooManyFailures:
            return too_many_failures()
        response = view(request, user, *args, **kwargs)
        patch_vary_headers(response, ("Authorization", "Cookie"))
        if user.is_authenticated:
            patch_cache_control(response, private=True)
        return response

    return wrapped
