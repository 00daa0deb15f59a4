from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

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
