"""How the site's own responses (pages, JSON, feeds) travel on weak networks: compressed, briefly cached, revalidated.

Static files never reach this: whitenoise answers them first with their pre-compressed .br/.gz and year-long
headers for hashed names. What Django renders gets:

- gzip when the browser accepts it (a Chinese page shrinks to about a fifth). Django's GZipMiddleware carries the
  BREACH mitigation (random bytes in the gzip header) and CSRF tokens are masked per response. Streaming responses
  and byte ranges (media, documents, downloads) are left as they are: compressing them would break Range requests
  and Content-Length, and they are compressed media already.
- a short cache for HTML that has none of its own: a visitor who is not signed in and gets no cookie (but the CSRF
  one) keeps the page
  for settings.PAGE_CACHE_SECONDS (the back button and a second look cost nothing), in the browser only
  (`private`) and varying on Cookie, so signing in fetches the page anew; for anyone signed in, or when the response
  sets a cookie, `no-cache`: stored, but asked again each time (their 继续学习 and study time move).
- an ETag, so asking again is a 304 without a body when nothing changed; HEAD gets the ETag and the 304 of its GET.
"""

from django.conf import settings
from django.middleware.gzip import GZipMiddleware
from django.middleware.http import ConditionalGetMiddleware
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers, set_response_etag
from django.utils.http import parse_http_date_safe

COMPRESSIBLE = ("text/", "application/json", "application/xml", "application/javascript", "application/rss+xml")
COMPRESSIBLE_SUFFIXES = ("+xml", "+json", "mpegurl")


class PageDeliveryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.gzip = GZipMiddleware(get_response)
        self.conditional = ConditionalGetMiddleware(get_response)

    def __call__(self, request):
        response = self.get_response(request)
        if response.streaming or response.status_code == 206 or response.has_header("Content-Range"):
            return response
        content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type == "text/html" and request.method in ("GET", "HEAD"):
            set_page_cache(request, response)
        if request.method == "GET":
            response = self.conditional.process_response(request, response)
        elif request.method == "HEAD":
            response = head_conditional(self.conditional, request, response)
        if is_compressible(content_type):
            response = self.gzip.process_response(request, response)
        return response


def head_conditional(conditional: ConditionalGetMiddleware, request, response):
    """What ConditionalGetMiddleware does for a GET, for a HEAD (Django's skips every other method): the same ETag
    and the same 304, so a feed reader or a podcast validator that checks with HEAD sees what its GET would get."""
    if conditional.needs_etag(response) and not response.has_header("ETag"):
        set_response_etag(response)
    etag = response.get("ETag")
    last_modified = parse_http_date_safe(response["Last-Modified"]) if response.has_header("Last-Modified") else None
    if etag or last_modified:
        return get_conditional_response(request, etag=etag, last_modified=last_modified, response=response)
    return response


def set_page_cache(request, response) -> None:
    """Short private cache for a page an anonymous visitor may keep; revalidation for everyone else."""
    if response.has_header("Cache-Control"):
        return  # the view decided (never_cache on sign-in, the admin's own)
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    # The CSRF cookie is re-sent with every page that has a form (大字模式 in the header): the page's token belongs to
    # this browser's cookie, and the cache is this browser's own. Any other cookie (session, messages) means state.
    cookies = set(response.cookies) - {settings.CSRF_COOKIE_NAME}
    if response.status_code == 200 and not signed_in and not cookies and settings.PAGE_CACHE_SECONDS > 0:
        patch_cache_control(response, private=True, max_age=settings.PAGE_CACHE_SECONDS)
    else:
        patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ("Cookie",))


def is_compressible(content_type: str) -> bool:
    return content_type.startswith(COMPRESSIBLE) or content_type.endswith(COMPRESSIBLE_SUFFIXES)
