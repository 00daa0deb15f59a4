"""How rendition files are described to storage: content types and cache lifetimes.

Rendition files live under ``renditions/<asset>/<job>/`` and are never rewritten (a new job writes a new
prefix), so segments and files may be cached for a year; playlists are served through our views, but the
stored copies are marked short-lived too, in case a CDN is ever pointed at the bucket.
"""

import mimetypes
from pathlib import PurePosixPath

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
