"""How stored files are described to storage (content types and cache lifetimes) and, on local disk, which of
them need a signed URL and how that URL is signed and checked.

Rendition files live under ``renditions/<asset>/<job>/`` and are never rewritten (a new job writes a new
prefix), so segments and files may be cached for a year; playlists are served through our views, but the
stored copies are marked short-lived too, in case a CDN is ever pointed at the bucket.
"""

import hmac
import json
import mimetypes
import re
import time
from pathlib import PurePosixPath
from urllib.parse import urlencode

from django.core.files.storage import FileSystemStorage
from django.core.signing import Signer
from django.utils.encoding import filepath_to_uri
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
        # django-storages passes the key, inside S3_LOCATION's folder when one is set; the rules read our name.
        folder = self.location.strip("/")
        ours = name.removeprefix(f"{folder}/") if folder else name
        return {**super().get_object_parameters(name), **object_parameters(ours)}


# --- Local disk: signed URLs for every stored file but Wagtail's images ---------------------------------------

# Deny by default: masters, renditions, captions, Wagtail documents and anything a later feature stores belong to
# items that may be members-only, so on local disk they are served only through short-lived signed URLs, as S3
# serves them through presigned ones. Only Wagtail's images (covers, page pictures) keep plain public URLs.
PUBLIC_PREFIXES = ("original_images/", "images/")
URL_LIFETIME_SECONDS = 3600
URL_GRANULARITY_SECONDS = 600  # expiries rounded up: the same URL for ten minutes, so players can cache

# The response parameters a signed URL may carry, by S3's query names (boto3's keyword -> query parameter): like
# a presigned S3 URL, the signature covers them, so nobody can turn a read link into a download by adding one.
RESPONSE_PARAMETERS = {
    "ResponseContentDisposition": "response-content-disposition",
    "ResponseCacheControl": "response-cache-control",
}

# A stored name is written by Django's storage (get_valid_filename) or by the pipeline: never any of these. A
# request naming one is a spelling trick (NUL, backslash, an encoded "%", bidi overrides), not a file of ours.
_REFUSED_CHARACTERS = re.compile(r"[\\%\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def is_public(name: str) -> bool:
    return name.startswith(PUBLIC_PREFIXES)


def is_protected(name: str) -> bool:
    return not is_public(name)


def is_canonical_name(name: str) -> bool:
    """Whether ``name`` is a stored name exactly as storage writes it (pure): relative, no empty, ``.`` or ``..``
    segment, no segment ending in a dot or space (aliases on some file systems), none of the refused characters.

    Unicode normal forms are left alone: Linux disks and S3 keep NFC and NFD names apart, so neither aliases."""
    if not name or len(name) > 1024 or _REFUSED_CHARACTERS.search(name):
        return False
    return all(_plain_segment(segment) for segment in name.split("/"))


def _plain_segment(segment: str) -> bool:
    # 255 bytes: longer is no file on any disk we use, and the OS answers it with an error, not "not found".
    return (
        bool(segment)
        and segment not in (".", "..")
        and segment[-1] not in ". "
        and len(segment.encode("utf-8", "surrogatepass")) <= 255
    )


def is_canonical_request_path(raw_path: str, decoded_path: str) -> bool:
    """Whether the undecoded request path is exactly how storage URLs spell the decoded one (pure): any other
    percent-encoding (``%2F``, ``%2e``, lower-case hex, an encoded letter) changes under decoding: refused."""
    return raw_path == filepath_to_uri(decoded_path)


def _payload(name: str, expiry: int, response: dict[str, str]) -> str:
    # JSON keeps the parts apart whatever they contain; sorted, so the order of the query does not matter.
    return json.dumps([name, expiry, sorted(response.items())], ensure_ascii=False)


def sign_name(
    name: str, *, now: float | None = None, lifetime: int = URL_LIFETIME_SECONDS, response: dict | None = None
) -> tuple[int, str]:
    """(expiry, signature) for a storage name and the response parameters its URL carries (query name -> value);
    the signature binds all of them, keyed by SECRET_KEY."""
    moment = time.time() if now is None else now
    # A lifetime shorter than the granularity (a test of expiry) is rounded by itself, not to ten minutes.
    granularity = max(1, min(URL_GRANULARITY_SECONDS, lifetime))
    expires = int((moment + lifetime) // granularity + 1) * granularity
    signature = Signer(salt="lighthouse.media").signature(_payload(name, expires, response or {}))
    return expires, signature


def signature_valid(name: str, expires: str, signature: str, *, response: dict | None = None) -> bool:
    try:
        expiry = int(expires)
    except (TypeError, ValueError):
        return False
    if expiry < time.time():
        return False
    expected = Signer(salt="lighthouse.media").signature(_payload(name, expiry, response or {}))
    return hmac.compare_digest(expected, signature or "")


def response_parameters(query) -> dict[str, str]:
    """The response parameters present in a request's query (a QueryDict), by their query names."""
    return {key: query[key] for key in RESPONSE_PARAMETERS.values() if key in query}


def signed_url(storage, name: str, *, expire: int | None = None) -> str:
    """A short-lived URL for ``name`` that works even where its plain URL is refused: signed on local disk also
    for an image name (a page image of an issue not everyone may read), presigned on S3 as every URL there is."""
    if isinstance(storage, SignedFileSystemStorage):
        return storage.signed_url(name, expire=expire)
    return storage.url(name, expire=expire)


class SignedFileSystemStorage(FileSystemStorage):
    """Local media: every name but Wagtail's images gets ``?e=<expiry>&s=<signature>`` (checked by
    ``views.media_file``). Like ``S3Storage.url``, ``parameters`` (ResponseContentDisposition,
    ResponseCacheControl) set headers of the response and ``expire`` the lifetime; both are signed."""

    def url(self, name, parameters=None, expire=None):
        if not name or is_public(name):
            return super().url(name)
        return self.signed_url(name, parameters=parameters, expire=expire)

    def signed_url(self, name, parameters=None, expire=None):
        url = super().url(name)
        response = {RESPONSE_PARAMETERS[key]: value for key, value in (parameters or {}).items()}
        expires, signature = sign_name(name, lifetime=expire or URL_LIFETIME_SECONDS, response=response)
        return f"{url}?{urlencode({'e': expires, 's': signature, **dict(sorted(response.items()))})}"
