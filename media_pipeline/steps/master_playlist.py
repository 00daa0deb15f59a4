"""Measure what ffmpeg wrote and write the master playlist ourselves.

ffmpeg 5.1's own master omits AVERAGE-BANDWIDTH and FRAME-RATE and was seen declaring a peak below the
measured one; players pick rungs from these numbers, so they come from the segments on disk. It also has
no subtitle renditions and no I-frame playlists: both are added here (``captions.py``, ``iframes.py``).
FRAME-RATE is read from each video variant's first segment too: a variable-rate phone clip's average rate
(what the probe reports) is not the constant rate ffmpeg writes.
"""

import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..errors import ProbeError
from ..ffmpeg.commands import PLAYLIST_NAME
from ..ffmpeg.ladder import Variant
from ..ffmpeg.probe import ffprobe_json
from .iframes import IFrameStats, write_iframe_playlists

AAC_LC = "mp4a.40.2"
MASTER_NAME = "master.m3u8"
SUBTITLES_GROUP = "subs"
# Every video variant we write is 8-bit H.264 tone-mapped to BT.709 where the master was HDR (``ffmpeg/colour.py``):
# SDR. PQ or HLG belongs here only if a rendition ever keeps HDR.
VIDEO_RANGE = "SDR"


@dataclass(frozen=True)
class SubtitleMedia:
    """One WebVTT subtitle rendition, as the master names it (``captions.subtitle_media`` builds these)."""

    name: str  # shown in the player's menu, e.g. "中文"
    language: str  # BCP 47
    uri: str  # its media playlist, relative to the master's folder, e.g. "../captions/zh-Hans/index.m3u8"
    default: bool = False


@dataclass(frozen=True)
class MediaPlaylist:
    init: str  # EXT-X-MAP URI, relative to the playlist
    segments: list[tuple[str, float]]  # (URI, duration in seconds)


@dataclass(frozen=True)
class VariantStats:
    variant: Variant
    peak_bandwidth: int
    average_bandwidth: int
    codecs: str
    frame_rate: float

    @property
    def uri(self) -> str:
        return f"{self.variant.name}/{PLAYLIST_NAME}"


def parse_media_playlist(text: str) -> MediaPlaylist:
    init, segments, duration = "", [], None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-MAP:"):
            init = line.split('URI="', 1)[1].split('"', 1)[0]
        elif line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",", 1)[0])
        elif line and not line.startswith("#") and duration is not None:
            segments.append((line, duration))
            duration = None
    return MediaPlaylist(init, segments)


def measure_variant(variant_dir: Path, variant: Variant, *, frame_rate: float) -> VariantStats:
    """Peak = the busiest segment's bitrate; average = all segment bytes over the total duration."""
    playlist = parse_media_playlist((variant_dir / PLAYLIST_NAME).read_text())
    rates, total_bits, total_seconds = [], 0, 0.0
    for uri, seconds in playlist.segments:
        bits = (variant_dir / uri).stat().st_size * 8
        total_bits += bits
        total_seconds += seconds
        rates.append(bits / seconds if seconds > 0 else 0)
    average = math.ceil(total_bits / total_seconds) if total_seconds else 0
    codecs = _codecs(variant_dir / playlist.init, variant) if playlist.init else ""
    if variant.has_video and playlist.init and playlist.segments:
        frame_rate = (
            segment_frame_rate(variant_dir / playlist.init, variant_dir / playlist.segments[0][0]) or frame_rate
        )
    return VariantStats(variant, math.ceil(max(rates, default=0)), average, codecs, frame_rate)


def segment_frame_rate(init: Path, segment: Path) -> float:
    """The video frame rate of init + one segment as ffprobe reads it (0.0 when it cannot tell)."""
    with tempfile.TemporaryDirectory() as scratch:
        joined = Path(scratch) / "first.mp4"
        joined.write_bytes(init.read_bytes() + segment.read_bytes())
        try:
            streams = ffprobe_json(joined).get("streams", [])
        except ProbeError:
            return 0.0
    video = next((s for s in streams if s.get("codec_type") == "video"), {})
    try:
        return float(Fraction(video.get("avg_frame_rate") or "0/1"))
    except (ValueError, ZeroDivisionError):
        return 0.0


def _codecs(init_path: Path, variant: Variant) -> str:
    codecs = [avc1_codec(init_path.read_bytes())] if variant.has_video else []
    if variant.has_audio:
        codecs.append(AAC_LC)
    return ",".join(codecs)


def avc1_codec(init_segment: bytes) -> str:
    """RFC 6381 name from the avcC box the encoder wrote: avc1.PPCCLL (profile, constraints, level)."""
    at = init_segment.find(b"avcC")
    if at < 0:
        raise ValueError("no avcC box in the init segment")
    profile, constraints, level = init_segment[at + 5 : at + 8]
    return f"avc1.{profile:02x}{constraints:02x}{level:02x}"


def master_playlist(
    stats: list[VariantStats],
    *,
    subtitles: Sequence[SubtitleMedia] = (),
    iframe_stats: Sequence[IFrameStats] = (),
) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    lines += [_subtitle_line(media, first_default=_first_default(subtitles)) for media in subtitles]
    for item in stats:
        attributes = [
            f"BANDWIDTH={item.peak_bandwidth}",
            f"AVERAGE-BANDWIDTH={item.average_bandwidth}",
            f'CODECS="{item.codecs}"',
        ]
        if item.variant.has_video:
            attributes.append(f"RESOLUTION={item.variant.width}x{item.variant.height}")
            attributes.append(f"FRAME-RATE={item.frame_rate:.3f}")
            attributes.append(f"VIDEO-RANGE={VIDEO_RANGE}")
        if subtitles:
            attributes.append(f'SUBTITLES="{SUBTITLES_GROUP}"')
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attributes), item.uri]
    codecs = {item.variant.name: item.codecs for item in stats}
    lines += [_iframe_line(item, codecs.get(item.variant.name, "")) for item in iframe_stats]
    return "\n".join(lines) + "\n"


def _first_default(subtitles: Sequence[SubtitleMedia]) -> SubtitleMedia | None:
    # At most one DEFAULT=YES per group (RFC 8216 4.3.4.1.1); the first one flagged wins.
    return next((media for media in subtitles if media.default), None)


def _subtitle_line(media: SubtitleMedia, *, first_default: SubtitleMedia | None) -> str:
    default = "YES" if media is first_default else "NO"
    return (
        f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="{SUBTITLES_GROUP}",NAME="{_quoted(media.name)}",'
        f'LANGUAGE="{_quoted(media.language)}",DEFAULT={default},AUTOSELECT=YES,URI="{_quoted(media.uri)}"'
    )


def _iframe_line(item: IFrameStats, variant_codecs: str) -> str:
    # An I-frame stream has no audio: only the video codec of its variant.
    video_codecs = ",".join(c for c in variant_codecs.split(",") if c and not c.startswith("mp4a."))
    attributes = [
        f"BANDWIDTH={item.peak_bandwidth}",
        f"AVERAGE-BANDWIDTH={item.average_bandwidth}",
        f'CODECS="{video_codecs}"',
        f"RESOLUTION={item.variant.width}x{item.variant.height}",
        f"VIDEO-RANGE={VIDEO_RANGE}",  # copies of the variant's keyframes: the same SDR picture
        f'URI="{item.uri}"',
    ]
    return "#EXT-X-I-FRAME-STREAM-INF:" + ",".join(attributes)


def _quoted(value: str) -> str:
    # An HLS quoted-string may hold neither a double quote nor a line break (RFC 8216 4.2).
    return value.replace('"', "'").replace("\r", " ").replace("\n", " ")


def write_master(
    out_dir: Path,
    variants: list[Variant],
    *,
    frame_rate: float,
    subtitles: Sequence[SubtitleMedia] = (),
    iframes: bool = False,
) -> list[VariantStats]:
    """Measure every variant, write I-frame playlists if asked, then the master that names them all."""
    stats = [measure_variant(out_dir / v.name, v, frame_rate=frame_rate) for v in variants]
    iframe_stats = write_iframe_playlists(out_dir, variants) if iframes else []
    (out_dir / MASTER_NAME).write_text(master_playlist(stats, subtitles=subtitles, iframe_stats=iframe_stats))
    return stats
