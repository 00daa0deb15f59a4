"""The TV's pages: home (rows of the month's course, videos, channels, search, signing in), the course's lessons,
the player, search with an on-screen keyboard, and signing the TV in with a phone (the TV's code page and its poll;
the phone's confirmation page). Pages are light (no site header, no framework): a TV browser on a weak network."""

from datetime import UTC, datetime
from urllib.parse import urlencode

from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cms.login_throttle import client_ip_address

from . import reads, signin
from .session import TV_BACKEND, is_tv_session


def _page(request, template: str, **context) -> HttpResponse:
    response = render(request, f"screens/tv/{template}", context)
    add_never_cache_headers(response)  # rows depend on who is signed in on this TV
    return response


@require_GET
def home(request):
    user = request.user
    return _page(
        request,
        "home.html",
        course=reads.current_course(user),
        videos=reads.videos_for(user),
        channels=[reads.channel_now(channel) for channel in reads.tv_channels(user)],
    )


@require_GET
def course(request):
    """The month's course on the TV: its lessons in order; a playable one opens in the player."""
    current = reads.current_course(request.user)
    if current is None:
        raise Http404
    return _page(request, "course.html", course=current, lessons=reads.lessons_of(current, request.user))


@require_GET
@ensure_csrf_cookie  # the study clock's heartbeats (library/js/progress.js) are POSTs with the CSRF token
def watch(request, item_id: int):
    item, urls, wants_sign_in = reads.playable_item(request.user, item_id)
    if item is None and not wants_sign_in:
        raise Http404
    return _page(request, "watch.html", **_watch_context(request, item, urls, wants_sign_in))


def _back_url(request) -> str:
    """Back from the player goes where the viewer came from: the course's lessons, their search, else home."""
    came_from = request.GET.get("from")
    if came_from == "course":
        return reverse("screens_tv:course")
    if came_from == "search":
        return f"{reverse('screens_tv:search')}?{urlencode({'q': (request.GET.get('q') or '')[:100]})}"
    return reverse("screens_tv:home")


def _watch_context(request, item, urls: dict, wants_sign_in: bool) -> dict:
    start = request.GET.get("t", "")
    from_course = request.GET.get("from") == "course"
    following = reads.next_lesson(request.user, item.pk) if item is not None and from_course else None
    return {
        "item": item,
        "hls": urls.get("hls", ""),
        "poster": urls.get("poster", ""),
        # No ?t=: a signed-in member resumes where they left off on any device (progress.js); ?t= (a channel's
        # programme on now) wins.
        "start": int(start) if start.isascii() and start.isdigit() else "",  # "²".isdigit() is True
        "autoplay": request.GET.get("autoplay") == "1",
        "next_lesson": following,
        "next_url": f"{reverse('screens_tv:watch', args=[following.item.pk])}?from=course&autoplay=1"
        if following
        else "",
        "wants_sign_in": wants_sign_in,
        "back_url": _back_url(request),
    }


@require_GET
def search_page(request):
    query = (request.GET.get("q") or "").strip()[:100]
    hits, results = reads.search_hits(query, request.user) if query else ([], None)
    return _page(request, "search.html", query=query, hits=hits, searched=bool(query), results=results)


# --- Signing the TV in with a phone -------------------------------------------------------------------------------


@require_GET
def signin_page(request):
    """The TV's side: a fresh code as a QR of the phone's link; the page polls until a phone confirms."""
    if request.user.is_authenticated:
        return redirect("screens_tv:home")
    if not signin.allowed("code", client_ip_address(request) or "-", limit=signin.CODES_PER_ADDRESS):
        return _page(request, "signin.html", error=_("请求过于频繁，请几分钟后再试。"))
    code = signin.code_create(address=client_ip_address(request) or "")
    request.session[signin.SESSION_KEY] = code.nonce
    url = request.build_absolute_uri(f"{reverse('screens_tv:signin_phone')}?t={code.token}")
    return _page(request, "signin.html", qr=signin.qr_svg(url), url=url, lifetime=signin.LIFETIME_SECONDS // 60)


@require_GET
def signin_poll(request):
    """The TV asks whether a phone confirmed its code; the first "confirmed" signs this browser in (a new session,
    marked as a TV's: it counts as signed in on the TV's pages only, screens.tv.session)."""
    if request.user.is_authenticated:
        return _json({"state": "signed_in", "next": reverse("screens_tv:home")})
    state, user_id = signin.code_collect(request.session.get(signin.SESSION_KEY, ""))
    if state != signin.CONFIRMED:
        return _json({"state": state})
    member = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if member is None or not signin.may_sign_in_a_tv(member):  # made an editor since the phone confirmed
        return _json({"state": "expired"})
    login(request, member, backend=TV_BACKEND)
    return _json({"state": "signed_in", "next": reverse("screens_tv:home")})


def _json(data: dict) -> JsonResponse:
    response = JsonResponse(data)
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def signin_phone(request):
    """The phone's side: GET asks (link previews fetch URLs too), POST 登录电视 confirms. Signed-in members only."""
    if not request.user.is_authenticated or is_tv_session(request):  # a TV does not vouch for another TV
        return redirect_to_login(request.get_full_path())
    token = request.GET.get("t", "")
    error, done, shown_at, address = "", False, None, ""
    try:
        nonce = signin.nonce_of(token)
        shown, address = signin.code_shown(nonce)
        shown_at = datetime.fromtimestamp(shown, tz=UTC) if shown else None
        signin.member_check(request.user)
        if request.method == "POST":
            if not signin.allowed("confirm", str(request.user.pk), limit=signin.CONFIRMS_PER_MEMBER):
                raise signin.SignInRefused(_("操作过于频繁，请几分钟后再试。"))
            signin.code_confirm(token=token, user=request.user)
            done = True
    except signin.SignInRefused as refused:
        error = str(refused)
    context = {"error": error, "done": done, "token": token, "shown_at": shown_at, "address": address}
    response = render(request, "screens/tv/phone.html", context)
    add_never_cache_headers(response)
    response.status_code = 400 if error else 200
    return response


@require_POST
def signout(request):
    logout(request)
    return redirect("screens_tv:home")
