"""Test helper: decode every I-frame entry alone, exactly as a player fetches it, and the variant it stands for."""

import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import m3u8
from django.conf import settings

from media_pipeline.ffmpeg.commands import PLAYLIST_NAME
from media_pipeline.steps.iframes import IFRAME_PLAYLIST_NAME


@dataclass(frozen=True)
class Frame:
    seconds: float  # presentation time
    md5: str  # of the decoded picture


def decoded_frames(path: Path) -> list[Frame]:
    """Every decoded video frame of a file: its presentation time as stored (no shift to zero, no frame rate
    conversion) and the MD5 of its pixels (ffmpeg framemd5)."""
    result = subprocess.run(
        [settings.FFMPEG_BINARY, "-v", "error", "-copyts", "-i", str(path), "-map", "0:v:0"]
        + ["-fps_mode", "passthrough", "-f", "framemd5", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    timebase = Fraction(next(line.split(":", 1)[1].strip() for line in lines if line.startswith("#tb 0")))
    rows = [line.split(",") for line in lines if line and not line.startswith("#")]
    return [Frame(float(int(row[2]) * timebase), row[5].strip()) for row in rows]


def entry_bytes(variant_dir: Path) -> tuple[m3u8.M3U8, list[bytes]]:
    """The I-frame playlist, and per entry: its init section's byte range + its own byte range, nothing else."""
    playlist = m3u8.load(str(variant_dir / IFRAME_PLAYLIST_NAME))
    pieces = []
    for segment in playlist.segments:
        init = segment.init_section
        pieces.append(
            _range(variant_dir / init.uri, init.byterange) + _range(variant_dir / segment.uri, segment.byterange)
        )
    return playlist, pieces


def variant_frames(variant_dir: Path, scratch: Path) -> list[Frame]:
    """The variant's own pictures: its init section and every segment, joined as a player would play them."""
    playlist = m3u8.load(str(variant_dir / PLAYLIST_NAME))
    joined = scratch / f"{variant_dir.name}_variant.mp4"
    parts = [playlist.segments[0].init_section.uri, *(s.uri for s in playlist.segments)]
    joined.write_bytes(b"".join((variant_dir / part).read_bytes() for part in parts))
    return decoded_frames(joined)


def decode_each_entry(variant_dir: Path, scratch: Path) -> list[tuple[float, list[Frame]]]:
    """Per entry: where the playlist says it starts (sum of the EXTINFs before it) and what it decodes to alone."""
    playlist, pieces = entry_bytes(variant_dir)
    results, start = [], 0.0
    for number, (segment, data) in enumerate(zip(playlist.segments, pieces, strict=True)):
        piece = scratch / f"{variant_dir.name}_entry_{number}.mp4"
        piece.write_bytes(data)
        results.append((start, decoded_frames(piece)))
        start += segment.duration
    return results


def _range(path: Path, byterange: str | None) -> bytes:
    data = path.read_bytes()
    if not byterange:
        return data
    length, _at, offset = byterange.partition("@")
    return data[int(offset or 0) : int(offset or 0) + int(length)]
