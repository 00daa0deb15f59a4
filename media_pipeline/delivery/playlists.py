"""Rewrite stored playlists for delivery (pure text in, text out).

Stored playlists use relative URIs. Delivered ones point every playlist the master names (variants,
subtitle renditions, I-frame playlists) at our own views, so access is checked on every fetch, and segments
straight at storage (a presigned S3 URL, or /media/ locally). EXT-X-BYTERANGE lines need no change: the
ranges are within the file whatever URL it is fetched from.
"""

import posixpath
import re
from collections.abc import Callable

MAP_URI = re.compile(r'(#EXT-X-MAP:.*?URI=")([^"]+)(")')
ATTRIBUTE_URI = re.compile(r'((?:^|[:,])URI=")([^"]+)(")')
SUBTITLES_TYPE = re.compile(r"[:,]TYPE=SUBTITLES(?:,|$)")


def rewrite_master(
    text: str,
    variant_url: Callable[[str], str],
    *,
    subtitles_url: Callable[[str], str] | None = None,
    iframe_url: Callable[[str], str] | None = None,
) -> str:
    """``<variant>/index.m3u8`` lines and the URIs of AUDIO/VIDEO media → ``variant_url(<folder>)``; with
    the optional callbacks, the ``URI="…"`` of SUBTITLES media → ``subtitles_url(<stored URI>)`` and of
    I-frame streams → ``iframe_url(<variant>)``."""
    lines = []
    for line in text.splitlines():
        if subtitles_url and line.startswith("#EXT-X-MEDIA:") and SUBTITLES_TYPE.search(line):
            line = _rewrite_uri(line, subtitles_url)
        elif iframe_url and line.startswith("#EXT-X-I-FRAME-STREAM-INF:"):
            line = _rewrite_uri(line, lambda uri: iframe_url(uri.split("/", 1)[0]))
        elif line.startswith("#EXT-X-MEDIA:") and not SUBTITLES_TYPE.search(line):
            # Demuxed audio (or video) renditions live in the master's folder like variants do.
            line = _rewrite_uri(line, lambda uri: variant_url(uri.split("/", 1)[0]))
        elif line and not line.startswith("#"):
            line = variant_url(line.split("/", 1)[0])
        lines.append(line)
    return "\n".join(lines) + "\n"


def _rewrite_uri(line: str, url: Callable[[str], str]) -> str:
    return ATTRIBUTE_URI.sub(lambda m: m.group(1) + url(m.group(2)) + m.group(3), line)


def subtitle_key(uri: str) -> str:
    """The name a subtitle rendition is delivered under: its folder, e.g. ``../captions/zh-Hans/index.m3u8``
    → ``zh-Hans`` (the caption step names folders by BCP 47 tag)."""
    return posixpath.basename(posixpath.dirname(uri))


def subtitle_uri(master: str, key: str) -> str | None:
    """The stored URI of the SUBTITLES media whose ``subtitle_key`` is ``key``: only what the master names."""
    for line in master.splitlines():
        if line.startswith("#EXT-X-MEDIA:") and SUBTITLES_TYPE.search(line):
            match = ATTRIBUTE_URI.search(line)
            if match and subtitle_key(match.group(2)) == key:
                return match.group(2)
    return None


def resolve_inside(base_dir: str, uri: str, *, root: str) -> str | None:
    """``uri`` relative to ``base_dir`` as a storage name, or None when it is absolute or leaves ``root``."""
    if not uri or uri.startswith("/") or "://" in uri or "\\" in uri:
        return None
    name = posixpath.normpath(posixpath.join(base_dir, uri))
    return name if name.startswith(root.rstrip("/") + "/") else None


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


EXTINF = re.compile(r"^#EXTINF:([0-9.]+)")
VIDEO_CODECS = re.compile(r"\b(?:avc[13]|hvc1|hev1|dvh1|dvhe|av01|vp09)\b")


def playlist_seconds(text: str) -> float:
    """The playing time of a media playlist: the sum of its segments' EXTINF durations (pure)."""
    return sum(float(match.group(1)) for line in text.splitlines() if (match := EXTINF.match(line)))


def audio_only_master(text: str) -> str | None:
    """The master with only its audio-only variants (a STREAM-INF naming no video codec and no resolution), for
    a member who saves data with 仅声音; I-frame streams go too. None when the master has no audio-only variant.
    Players drop audio-only variants from a master that has video ones, so this is the way to choose it."""
    lines, kept, skip_uri = [], False, False
    for line in text.splitlines():
        if skip_uri and line and not line.startswith("#"):
            skip_uri = False
            continue
        if line.startswith("#EXT-X-I-FRAME-STREAM-INF:"):
            continue
        if line.startswith("#EXT-X-STREAM-INF:"):
            if "RESOLUTION=" in line or VIDEO_CODECS.search(line):
                skip_uri = True
                continue
            kept = True
        lines.append(line)
    return "\n".join(lines) + "\n" if kept else None


def media_segments(text: str) -> tuple[str | None, tuple[tuple[float, str], ...]]:
    """A stored media playlist's ``EXT-X-MAP`` file and its segments as (EXTINF seconds, file name), in order
    (pure). Only plain file names beside the playlist are ours; anything else raises ValueError."""
    init, segments, seconds = None, [], None
    for line in text.splitlines():
        if line.startswith("#EXT-X-MAP:"):
            match = MAP_URI.search(line)
            init = match.group(2) if match else None
        elif match := EXTINF.match(line):
            seconds = float(match.group(1))
        elif line and not line.startswith("#"):
            if seconds is None or not is_plain_file_name(line):
                raise ValueError(line)
            segments.append((seconds, line))
            seconds = None
    if init is not None and not is_plain_file_name(init):
        raise ValueError(init)
    return init, tuple(segments)
