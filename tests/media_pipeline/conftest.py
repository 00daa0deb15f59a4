"""Tiny generated clips (ffmpeg's lavfi testsrc2/sine — nothing downloaded), made once per test session."""

from dataclasses import replace
from pathlib import Path

import pytest

from media_pipeline.ffmpeg.probe import ProbeResult
from media_pipeline.synthetic.media import make_clip


def _generate(path: Path, *, size: str, seconds: float, audio: bool, rate: int = 25) -> Path:
    return make_clip(path, size=size, seconds=seconds, audio=audio, rate=rate)


@pytest.fixture(scope="session")
def clips_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def clip_landscape(clips_dir) -> Path:
    """4 s, 640×360, 25 fps, with a 440 Hz tone."""
    return _generate(clips_dir / "landscape.mp4", size="640x360", seconds=4, audio=True)


@pytest.fixture(scope="session")
def clip_short(clips_dir) -> Path:
    """2 s, 426×240 with audio: the cheapest clip a whole job can run on."""
    return _generate(clips_dir / "short.mp4", size="426x240", seconds=2, audio=True)


@pytest.fixture(scope="session")
def clip_silent(clips_dir) -> Path:
    """2 s, 320×180, no audio stream at all."""
    return _generate(clips_dir / "silent.mp4", size="320x180", seconds=2, audio=False)


@pytest.fixture(scope="session")
def clip_long(clips_dir) -> Path:
    """20 s, 640×360 with audio: long enough to kill a worker in the middle of encoding."""
    return _generate(clips_dir / "long.mp4", size="640x360", seconds=20, audio=True)


@pytest.fixture(scope="session")
def clip_truncated(clips_dir, clip_landscape) -> Path:
    """The first 30 KB of an MP4 whose index (moov) is at the end: an interrupted upload."""
    path = clips_dir / "truncated.mp4"
    path.write_bytes(clip_landscape.read_bytes()[:30_000])
    return path


BASE_PROBE = ProbeResult(
    duration=10.0,
    width=1920,
    height=1080,
    fps=25.0,
    has_video=True,
    has_audio=True,
    video_codec="h264",
    audio_codec="aac",
    rotation=0,
    audio_channels=2,
    audio_sample_rate=48000,
    format_name="mov,mp4,m4a,3gp,3g2,mj2",
)


@pytest.fixture
def make_probe():
    """A ProbeResult for pure command tests: a 1080p25 clip with audio unless overridden."""
    return lambda **changes: replace(BASE_PROBE, **changes)


@pytest.fixture(autouse=True)
def _no_library_access_rule(settings):
    """media_pipeline is tested on its own: the library's playback rule is tested in tests/library."""
    settings.MEDIA_PLAYBACK_ACCESS_CHECK = "media_pipeline.delivery.access.allow_all"
