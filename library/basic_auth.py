"""Who is asking, for clients that cannot fill in a login form (reading apps, podcast apps): HTTP Basic
credentials checked on every request, else the browser session. Used by the OPDS catalogue, the podcast feeds and
the file links those feeds hand out."""

import base64
import binascii
import logging
from collections.abc import Callable
from functools import wraps

from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class BadCredentials(Exception):
    """Basic credentials were sent and are wrong (or unreadable)."""


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
    """The requester: the member whose Basic credentials came with this request (checked every time, no session
    is made), else the session's user (possibly anonymous). Raises BadCredentials for a wrong password."""
    credentials = basic_credentials(request)
    if credentials is None:
        return request.user
    username, password = credentials
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        logger.info("feeds: wrong Basic credentials for %r from %s", username, request.META.get("REMOTE_ADDR"))
        raise BadCredentials
    return user


def basic_challenge() -> HttpResponse:
    """401 asking for a username and password; reading and podcast apps then show their sign-in box."""
    response = HttpResponse(_("请使用灯塔账号和密码登录。"), status=401, content_type="text/plain; charset=utf-8")
    # The realm is Chinese: WSGI headers are Latin-1 strings, so the UTF-8 bytes travel as they are (what browsers
    # and apps read) instead of Django's MIME-encoding the whole value, which no client would parse as a challenge.
    response["WWW-Authenticate"] = 'Basic realm="灯塔", charset="UTF-8"'.encode().decode("latin-1")
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
        response = view(request, user, *args, **kwargs)
        patch_vary_headers(response, ("Authorization", "Cookie"))
        if user.is_authenticated:
            patch_cache_control(response, private=True)
        return response

    return wrapped
