"""The manifest's 304, answered before the rest of the stack: a screen asking "still this version?" costs one
indexed query and a hash, not sessions, CSRF, authentication backends, ninja and the ORM's query compiler.

Placed right after whitenoise in ``MIDDLEWARE`` (the static files' own fast path). It answers only a GET of the
manifest with ``If-None-Match`` and a well-formed credential whose secret matches, whose device is not revoked and
whose stored manifest is of the current window and carries that version; anything else — no header, another
version, a new window, a bad credential — goes on to the API view unchanged, which answers it (a 200, or a 401 with
its Chinese sentence). The 304 carries the same ETag, Cache-Control and Retry-After as the view's.
"""

from django.db import connection
from django.http import HttpResponseNotModified
from django.utils import timezone

from ..devices.credentials import credential_parts, secret_matches
from ..models import Device, StoredManifest
from .manifest import window_of
from .polling import poll_after

MANIFEST_PATH = "/api/v1/screens/device/manifest"


def _sql() -> str:
    device, stored = Device._meta.db_table, StoredManifest._meta.db_table
    return (
        f"SELECT d.secret_hash, m.version FROM {device} d JOIN {stored} m ON m.device_id = d.id "
        f"WHERE d.credential_id = %s AND d.revoked_at IS NULL AND m.window_start = %s"
    )


def not_modified(request) -> HttpResponseNotModified | None:
    """The 304 for this request, or None to let the API answer it."""
    header = request.META.get("HTTP_IF_NONE_MATCH", "")
    scheme, _space, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    parts = credential_parts(token) if scheme.lower() == "bearer" else None
    if not header or parts is None:
        return None
    now = timezone.now()
    start = connection.ops.adapt_datetimefield_value(window_of(now)[0])
    with connection.cursor() as cursor:
        cursor.execute(_sql(), [parts[0], start])
        row = cursor.fetchone()
    if row is None or not secret_matches(parts[1], row[0]):
        return None
    wanted = {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}
    if row[1] not in wanted:
        return None
    response = HttpResponseNotModified()
    response["ETag"] = f'"{row[1]}"'
    response["Cache-Control"] = "private, no-cache"
    response["Retry-After"] = str(poll_after(parts[0], now))
    return response


class ManifestNotModifiedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "GET" and request.path_info == MANIFEST_PATH:
            response = not_modified(request)
            if response is not None:
                return response
        return self.get_response(request)
