"""How rendition files are described to storage: content types and cache lifetimes.

Rendition files live under ``renditions/<asset>/<job>/`` and are never rewritten (a new job writes a new
prefix), so segments and files may be cached for a year; playlists are served through our views, but the
stored copies are marked short-lived too, in case a CDN is ever pointed at the bucket.
"""

import hmac
import mimetypes
import time
from pathlib import PurePosixPath
from urllib.parse import urlencode

from django.core.files.storage import FileSystemStorage
from django.core.signing import Signer
from storages.backends.s3 import S3Storage

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=60"

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".mp3": "audio/mpeg",
    ".vtt": "text/vtt; charset=utf-8",
    ".jpg": "image/jpeg",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}


def object_parameters(name: str) -> dict[str, str]:
    """S3 object headers for a stored file, chosen by its name (pure)."""
    suffix = PurePosixPath(name).suffix.lower()
    content_type = CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    params = {"ContentType": content_type}
    if name.startswith("renditions/"):
        params["CacheControl"] = SHORT if suffix == ".m3u8" else IMMUTABLE
    return params


class MediaS3Storage(S3Storage):
    """S3 through boto3. Uploads above boto3's multipart threshold (8 MiB) go up in parts, in parallel."""

    def get_object_parameters(self, name):
        return {**super().get_object_parameters(name), **object_parameters(name)}


# --- Local disk: signed URLs for protected files ----------------------------------------------------------

# Masters, renditions and captions belong to items that may be members-only: on local disk they are served
# only through short-lived signed URLs, as S3 serves them through presigned ones. Wagtail's images and
# documents keep their own (public) URLs.
PROTECTED_PREFIXES = ("uploads/", "renditions/", "captions/", "work/")
URL_LIFETIME_SECONDS = 3600
URL_GRANULARITY_SECONDS = 600  # expiries rounded up: the same URL for ten minutes, so players can cache


def is_protected(name: str) -> bool:
    return name.startswith(PROTECTED_PREFIXES)


def sign_name(name: str, *, now: float | None = None) -> tuple[int, str]:
    """(expiry, signature) for a storage name; the signature binds both, keyed by SECRET_KEY."""
    moment = time.time() if now is None else now
    expires = int((moment + URL_LIFETIME_SECONDS) // URL_GRANULARITY_SECONDS + 1) * URL_GRANULARITY_SECONDS
    signature = Signer(salt="lighthouse.media").signature(f"{name}:{expires}")
    return expires, signature


def signature_valid(name: str, expires: str, signature: str) -> bool:
    try:
        expiry = int(expires)
    except (TypeError, ValueError):
        return False
    if expiry < time.time():
        return False
    expected = Signer(salt="lighthouse.media").signature(f"{name}:{expiry}")
    return hmac.compare_digest(expected, signature or "")


class SignedFileSystemStorage(FileSystemStorage):
    """Local media: protected names get ``?e=<expiry>&s=<signature>`` (checked by ``views.media_file``)."""

    def url(self, name):
        url = super().url(name)
        if name and is_protected(name):
            expires, signature = sign_name(name)
            url = f"{url}?{urlencode({'e': expires, 's': signature})}"
        return url
