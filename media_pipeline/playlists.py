"""Rewrite stored playlists for delivery (pure text in, text out).

Stored playlists use relative URIs. Delivered ones point variant playlists at our own views (so access is
checked on every fetch) and segments straight at storage (a presigned S3 URL, or /media/ locally).
"""

import re
from collections.abc import Callable

MAP_URI = re.compile(r'(#EXT-X-MAP:.*?URI=")([^"]+)(")')


def rewrite_master(text: str, variant_url: Callable[[str], str]) -> str:
    """``<variant>/index.m3u8`` lines → ``variant_url(<variant>)``."""
    lines = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            line = variant_url(line.split("/", 1)[0])
        lines.append(line)
    return "\n".join(lines) + "\n"


def rewrite_media(text: str, segment_url: Callable[[str], str]) -> str:
    """Segment lines and ``#EXT-X-MAP:URI=`` → ``segment_url(<file name>)``."""
    lines = []
    for line in text.splitlines():
        if line.startswith("#EXT-X-MAP:"):
            line = MAP_URI.sub(lambda m: m.group(1) + segment_url(m.group(2)) + m.group(3), line)
        elif line and not line.startswith("#"):
            line = segment_url(line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def is_plain_file_name(name: str) -> bool:
    # Our playlists only ever name files beside them; anything else is refused rather than followed.
    return bool(name) and "/" not in name and "\\" not in name and name not in {".", ".."}
