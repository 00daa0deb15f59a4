"""Synthetic media made from ffmpeg's own test sources: demo content, tests and benchmarks download nothing."""

import subprocess
from pathlib import Path

from django.conf import settings


def make_clip(
    path: Path,
    *,
    size: str = "640x360",
    seconds: float = 4,
    rate: int = 25,
    pattern: str = "testsrc2",
    video: bool = True,
    audio: bool = True,
    tone_hz: int = 440,
) -> Path:
    """Write an H.264/AAC MP4 (or an AAC-only .m4a when video=False) of test pattern and tone."""
    args = [settings.FFMPEG_BINARY, "-v", "error", "-y"]
    if video:
        args += ["-f", "lavfi", "-i", f"{pattern}=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency={tone_hz}:sample_rate=48000:duration={seconds}"]
    if video:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac", "-shortest"]
    subprocess.run([*args, str(path)], check=True)
    return path
