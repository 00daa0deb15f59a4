"""Who is asking, for clients that cannot fill in a login form (reading apps, podcast apps): HTTP Basic
credentials sent with every request, else the browser session. Used by the OPDS catalogue, the podcast feeds and
the file links those feeds hand out.

Apps send the password with every request (a feed, then each cover and enclosure), and checking it costs a slow
password hash each time, so a check that passed is remembered for a few minutes (under an HMAC that includes the
stored password hash, so changing the password ends it; the password itself is never kept). Wrong passwords are
counted per username and address: after ``MAX_FAILURES`` in ``FAILURE_WINDOW`` seconds the credentials are not even
checked, which stops both password guessing and burning CPU on hashes.
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

logger = logging.getLogger(__name__)

MAX_FAILURES = 10
FAILURE_WINDOW = 5 * 60  # seconds; also how long a throttled requester waits
CHECKED_FOR = 5 * 60  # seconds a passed check is remembered


class BadCredentials(Exception):
    """Basic credentials were sent and are wrong (or unreadable)."""


class TooManyFailures(Exception):
    """Too many wrong passwords for this username from this address lately; the credentials were not checked."""


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
    session's user (possibly anonymous). Raises BadCredentials for a wrong password, TooManyFailures when this
    username has had too many wrong ones from this address lately."""
    credentials = basic_credentials(request)
    if credentials is None:
        return request.user
    username, password = credentials
    failures_key = _failures_key(request, username)
    if cache.get(failures_key, 0) >= MAX_FAILURES:
        raise TooManyFailures
    if (user := _recently_checked(username, password)) is not None:
        return user
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        logger.info("feeds: wrong Basic credentials for %r from %s", username, request.META.get("REMOTE_ADDR"))
        _count_failure(failures_key)
        raise BadCredentials
    cache.set(_checked_key(user, username, password), True, CHECKED_FOR)
    cache.delete(failures_key)
    return user


def _failures_key(request: HttpRequest, username: str) -> str:
    who = salted_hmac("library.basic_auth.failures", f"{username.casefold()}\0{request.META.get('REMOTE_ADDR', '')}")
    return f"feeds:basic-failures:{who.hexdigest()}"


def _count_failure(key: str) -> None:
    # add() starts the window on the first failure; incr() never moves it, so it ends FAILURE_WINDOW after that.
    cache.add(key, 0, FAILURE_WINDOW)
    try:
        cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, FAILURE_WINDOW)


def _checked_key(user, username: str, password: str) -> str:
    """Only these exact credentials against the current password hash match: a new password, or a hash upgrade,
    makes a new key. A digest, never the password, goes to the cache."""
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
    # The realm is Chinese: WSGI headers are Latin-1 strings, so the UTF-8 bytes travel as they are (what browsers
    # and apps read) instead of Django's MIME-encoding the whole value, which no client would parse as a challenge.
    response["WWW-Authenticate"] = 'Basic realm="灯塔", charset="UTF-8"'.encode().decode("latin-1")
    return response


def too_many_failures() -> HttpResponse:
    """429: the password is not checked again until the window has passed."""
    message = _("密码错误次数过多，请 %(minutes)d 分钟后再试。") % {"minutes": FAILURE_WINDOW // 60}
    response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(FAILURE_WINDOW)
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
