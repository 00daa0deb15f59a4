"""Sign-in throttling for every password check (admin login, the feeds' HTTP Basic auth, the API's token issuing),
built on django-axes: its backend refuses a locked-out attempt before any password hash is computed, its database
handler counts failures in rows every process and machine share (SQLite and PostgreSQL alike).

Axes compares one failure count with one limit; we need several rules with their own limits, so the handler
below reports the worst rule as a percentage of that rule's limit and ``AXES_FAILURE_LIMIT`` is 100 (percent):

- per address (``SIGN_IN_LIMITS["address"]``): one password sprayed across many usernames from one address;
- per account and address (``"account_address"``): guessing one account from one address;
- per account from anywhere (``"account"``): guessing one account from many addresses. An attacker could use this
  rule to lock the owner out, so it applies to untrusted clients only (OWASP "device cookie"): a browser that
  signed in as that account before carries a signed cookie naming it and is judged only by the account-and-address
  rule. Apps signing in with Basic credentials carry no cookie and stay under every rule.

Failures are counted for ``AXES_COOLOFF_TIME``; a refused attempt is not counted again (the lockout ends on time).
"""

import ipaddress
from dataclasses import dataclass

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off, get_credentials
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core import signing
from django.db.models import Q, Sum
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from ninja.throttling import AnonRateThrottle

TRUSTED_DEVICE_COOKIE = "lh_device"
TRUSTED_DEVICE_SALT = "cms.login_throttle.trusted-device"
TRUSTED_DEVICE_DAYS = 180
TRUSTED_DEVICE_ACCOUNTS = 5  # accounts one shared browser may be trusted for; the most recent are kept


@dataclass(frozen=True)
class Rule:
    fields: tuple[str, ...]  # AccessAttempt fields the failures are grouped by
    limit_name: str  # key of settings.SIGN_IN_LIMITS

    @property
    def limit(self) -> int:
        return int(settings.SIGN_IN_LIMITS[self.limit_name])


ADDRESS = Rule(("ip_address",), "address")
ACCOUNT_AT_ADDRESS = Rule(("username", "ip_address"), "account_address")
ACCOUNT = Rule(("username",), "account")
UNTRUSTED_RULES = (ADDRESS, ACCOUNT_AT_ADDRESS, ACCOUNT)
TRUSTED_RULES = (ACCOUNT_AT_ADDRESS,)


class SignInThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler with one limit per rule (see the module docstring)."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        rules = TRUSTED_RULES if is_trusted_device(request, username) else UNTRUSTED_RULES
        values = {"username": username, "ip_address": request.axes_ip_address}
        counts = _failure_counts(rules, values, since=get_cool_off_threshold(request))
        # Integer percent: reaching 100 means count >= limit exactly (floor(count * 100 / limit) >= 100).
        return max(counts[rule.limit_name] * int(settings.AXES_FAILURE_LIMIT) // rule.limit for rule in rules)


def _failure_counts(rules, values: dict, *, since) -> dict[str, int]:
    """Failures per rule in one query (the feeds ask on every request, so this stays cheap)."""
    recent = AccessAttempt.objects.filter(attempt_time__gte=since).filter(
        Q(username=values["username"]) | Q(ip_address=values["ip_address"])
    )
    sums = {
        rule.limit_name: Sum("failures_since_start", filter=Q(**{field: values[field] for field in rule.fields}))
        for rule in rules
    }
    return {name: total or 0 for name, total in recent.aggregate(**sums).items()}


def sign_in_allowed(request: HttpRequest, username: str) -> bool:
    """Whether a password for ``username`` may be checked now; for callers that skip authenticate() on a
    remembered check (the feeds), so a locked-out requester cannot confirm a guess that way either."""
    if not settings.AXES_ENABLED:
        return True
    return AxesProxyHandler.is_allowed(request, get_credentials(username))


def locked_out(request: HttpRequest) -> bool:
    """Whether axes refused (or has just locked) the authenticate() call made for this request."""
    return bool(getattr(request, "axes_locked_out", False))


def cool_off_seconds() -> int:
    return int(get_cool_off().total_seconds())


def locked_out_message() -> str:
    return _("密码错误次数过多，请 %(minutes)d 分钟后再试。") % {"minutes": max(1, cool_off_seconds() // 60)}


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: 429 in Chinese with Retry-After; JSON for the API, a page for browsers. A view that
    already answered 429 in its own format (the feeds' plain text for reading apps) keeps its answer."""
    if original_response is not None and original_response.status_code == 429:
        return original_response
    message = locked_out_message()
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429, json_dumps_params={"ensure_ascii": False})
    else:
        response = render(request, "cms/sign_in_locked.html", {"message": message}, status=429)
    response["Retry-After"] = str(cool_off_seconds())
    return response


# --- Trusted devices ----------------------------------------------------------------------------------------


def trusted_accounts(request: HttpRequest) -> list[str]:
    """Usernames this browser signed in as (a signed, expiring cookie); empty when absent or tampered with."""
    raw = request.COOKIES.get(TRUSTED_DEVICE_COOKIE)
    if not raw:
        return []
    try:
        accounts = signing.loads(raw, salt=TRUSTED_DEVICE_SALT, max_age=TRUSTED_DEVICE_DAYS * 24 * 3600)
    except signing.BadSignature:
        return []
    return [name for name in accounts if isinstance(name, str)] if isinstance(accounts, list) else []


def is_trusted_device(request: HttpRequest, username: str | None) -> bool:
    return bool(username) and username in trusted_accounts(request)


@receiver(user_logged_in, dispatch_uid="cms.login_throttle.remember_device")
def _remember_signed_in_account(sender, request, user, **kwargs):
    # Only a mark on the request; TrustedDeviceMiddleware writes the cookie on the response.
    if request is not None:
        request.lighthouse_signed_in_as = user.get_username()


def set_trusted_device_cookie(request: HttpRequest, response: HttpResponse, username: str) -> None:
    accounts = [username] + [name for name in trusted_accounts(request) if name != username]
    response.set_cookie(
        TRUSTED_DEVICE_COOKIE,
        signing.dumps(accounts[:TRUSTED_DEVICE_ACCOUNTS], salt=TRUSTED_DEVICE_SALT, compress=True),
        max_age=TRUSTED_DEVICE_DAYS * 24 * 3600,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


# --- Client address -----------------------------------------------------------------------------------------


def client_ip_address(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: REMOTE_ADDR, or behind ``TRUSTED_PROXY_COUNT`` reverse proxies the address the
    outermost of them saw (that many entries from the right of X-Forwarded-For: entries further left are whatever
    the client wrote). Anything that is not an IP address falls back to REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR")
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote


class AddressRateThrottle(AnonRateThrottle):
    """django-ninja's anonymous rate throttle keyed on ``client_ip_address``: ninja's own key is the whole
    X-Forwarded-For header whenever ``NINJA_NUM_PROXIES`` is unset, so a client writing a new header each time was
    never throttled."""

    def get_ident(self, request: HttpRequest) -> str | None:
        return client_ip_address(request)
