"""Who is calling the JSON API: the web players' session, or an app's bearer token.

Web pages call with the session cookie and must send ``X-CSRFToken`` on unsafe methods (the CSRF check runs only
when a session is really logged in, so an anonymous POST is a plain 401). The phone and TV apps trade a username
and password for a token at ``POST /api/v1/auth/token`` and send ``Authorization: Bearer <token>``.

A token is a ``TimestampSigner`` signature over the member's id and Django's session auth hash (an HMAC of the
password hash, never the hash itself): changing the password revokes every token, as it ends every session.
Tokens expire after ``API_TOKEN_MAX_AGE`` seconds (30 days unless settings say otherwise).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf
from pydantic import Field

from cms.login_throttle import AddressRateThrottle

logger = logging.getLogger(__name__)

TOKEN_SALT = "lighthouse.api.token"
DEFAULT_TOKEN_MAX_AGE = 30 * 24 * 3600
HASH_FRAGMENT = 16  # characters of the session auth hash kept in the token: enough to notice a password change


def token_max_age() -> int:
    return int(getattr(settings, "API_TOKEN_MAX_AGE", DEFAULT_TOKEN_MAX_AGE))


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=TOKEN_SALT)


def api_token_for(user) -> str:
    """A bearer token for ``user``; it stops working when they change their password or after the max age."""
    return _signer().sign(f"{user.pk}:{user.get_session_auth_hash()[:HASH_FRAGMENT]}")


def api_token_user(token: str):
    """The active user a token stands for, or None (bad signature, expired, password changed, user gone)."""
    try:
        value = _signer().unsign(token, max_age=token_max_age())
        user_id, fragment = value.split(":", 1)
        user = get_user_model().objects.select_related("org_unit").get(pk=int(user_id))
    except (signing.BadSignature, ValueError, get_user_model().DoesNotExist):
        return None
    if not user.is_active or not constant_time_compare(fragment, user.get_session_auth_hash()[:HASH_FRAGMENT]):
        return None
    return user


class BearerAuth(HttpBearer):
    """``Authorization: Bearer <token>`` from the apps. A token that was sent but is no good is a clear 401,
    not a silent fall back to anonymous (an app would otherwise show only public items and not know why)."""

    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_user(token)
        if user is None:
            raise AuthenticationError(message=_("登录已过期或凭证无效，请重新登录"))
        request.user = user  # selectors and services read request.user like on any Django view
        return user


class SessionAuth(APIKeyCookie):
    """Django's session, as the web players use it; CSRF is enforced on unsafe methods (X-CSRFToken header)."""

    def __init__(self) -> None:
        # The cookie name only labels the OpenAPI description; authentication itself reads request.user.
        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=False)  # checked below, once we know a session is really logged in

    def authenticate(self, request: HttpRequest, key):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False):
            if check_csrf(request) is not None:
                raise HttpError(403, _("页面已过期，请刷新后重试（CSRF 校验失败）"))
        return user


def anonymous(request: HttpRequest):
    """The last resort for public routes: a visitor reads what the public may read."""
    return AnonymousUser()


bearer_auth = BearerAuth()
session_auth = SessionAuth()
MEMBER_AUTH = [bearer_auth, session_auth]  # member routes: 401 without one of these
PUBLIC_AUTH = [bearer_auth, session_auth, anonymous]  # public routes: who you are only widens what you see
# OpenAPI for public routes: either credential, or none at all (the empty requirement). django-ninja already lists
# the two schemes from PUBLIC_AUTH and appends what openapi_extra adds, so only the empty requirement is added here
# (naming the schemes again listed each twice).
PUBLIC_OPENAPI = {"security": [{}]}


def api_user(request: HttpRequest):
    """The caller as the routes see it (the member, or AnonymousUser on public routes)."""
    auth = getattr(request, "auth", None)
    return auth if auth is not None else getattr(request, "user", AnonymousUser())


# --- POST /auth/token --------------------------------------------------------------------------------------


# No control characters in a username, no NUL in a password: PostgreSQL text cannot hold NUL, and Django's own
# sign-in forms refuse it too (ProhibitNullCharactersValidator), so such a request is a 422, never a 500.
USERNAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
PASSWORD_PATTERN = r"^[^\x00]+$"


class TokenIn(Schema):
    username: str = Field(min_length=1, max_length=150, pattern=USERNAME_PATTERN)
    password: str = Field(min_length=1, max_length=256, pattern=PASSWORD_PATTERN)


class TokenMember(Schema):
    id: int
    username: str
    name: str


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_at: str
    member: TokenMember


class ErrorOut(Schema):
    detail: str


router = Router(tags=["auth"])


@router.post(
    "/token",
    response={200: TokenOut, 401: ErrorOut, 429: ErrorOut},  # 429: sign-in throttled (cms.login_throttle)
    auth=None,
    throttle=[AddressRateThrottle("20/m")],  # password guessing
    summary="用户名和密码换取访问令牌（App 使用）",
)
def token_create(request: HttpRequest, payload: TokenIn):
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        logger.info("api token refused for %r", payload.username)
        return Status(401, {"detail": _("用户名或密码错误")})
    expires = timezone.now() + timedelta(seconds=token_max_age())
    member = {"id": user.pk, "username": user.get_username(), "name": user.get_full_name()}
    return Status(200, {"token": api_token_for(user), "expires_at": expires.isoformat(), "member": member})
