"""Small views of the site's own: the large-type switch, the favicon at the root and the scripts' word catalogue."""

from django.conf import settings
from django.http import HttpResponsePermanentRedirect, HttpResponseRedirect
from django.templatetags.static import static
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST
from django.views.i18n import JavaScriptCatalog

LARGE_TYPE_COOKIE = "lh_large_type"


@require_POST
def large_type_toggle(request):
    """Switch the large-type mode; kept in a cookie so every page honours it without JavaScript."""
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = HttpResponseRedirect(target)
    enable = request.COOKIES.get(LARGE_TYPE_COOKIE) != "1"
    response.set_cookie(LARGE_TYPE_COOKIE, "1" if enable else "0", max_age=365 * 24 * 3600, samesite="Lax")
    return response


def favicon(request):
    """/favicon.ico, which browsers and link previews ask for at the root whatever the page says: the static icon
    (otherwise every such request would be a page lookup ending in the 404 page)."""
    return HttpResponsePermanentRedirect(static("favicon.ico"))


_catalogue = JavaScriptCatalog.as_view(packages=["cms", "library", "courses"])


@cache_control(public=True, max_age=3600)
def javascript_catalogue(request):
    """The scripts' words in the language named by ``?l=`` (so a shared cache keyed by the address never hands one
    language's catalogue to another), from Django's JavaScript catalogue of our own apps and locale folder."""
    code = request.GET.get("l", "")
    if code not in dict(settings.LANGUAGES):
        code = settings.LANGUAGE_CODE
    with translation.override(code):
        response = _catalogue(request)
    response["Content-Language"] = code
    return response
