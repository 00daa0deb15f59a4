"""Measure what ffmpeg wrote and write the master playlist ourselves.

ffmpeg 5.1's own master omits AVERAGE-BANDWIDTH and FRAME-RATE and was seen declaring a peak below the
measured one; players pick rungs from these numbers, so they come from the segments on disk.
"""

import math
from dataclasses import dataclass
from pathlib import Path

from .commands import PLAYLIST_NAME
from .ladder import Variant

AAC_LC = "mp4a.40.2"
MASTER_NAME = "master.m3u8"


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
    return VariantStats(variant, math.ceil(max(rates, default=0)), average, codecs, frame_rate)


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


def master_playlist(stats: list[VariantStats]) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for item in stats:
        attributes = [
            f"BANDWIDTH={item.peak_bandwidth}",
            f"AVERAGE-BANDWIDTH={item.average_bandwidth}",
            f'CODECS="{item.codecs}"',
        ]
        if item.variant.has_video:
            attributes.append(f"RESOLUTION={item.variant.width}x{item.variant.height}")
            attributes.append(f"FRAME-RATE={item.frame_rate:.3f}")
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attributes), item.uri]
    return "\n".join(lines) + "\n"


def write_master(out_dir: Path, variants: list[Variant], *, frame_rate: float) -> list[VariantStats]:
    stats = [measure_variant(out_dir / v.name, v, frame_rate=frame_rate) for v in variants]
    (out_dir / MASTER_NAME).write_text(master_playlist(stats))
    return stats
