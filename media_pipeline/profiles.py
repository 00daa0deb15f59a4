"""Rendition profiles, kept as data.

An administrator should be able to read this file at a glance and know what every screen gets. Nothing
here runs ffmpeg: ``commands.py`` turns a profile plus a probe result into an argument list.

Later profiles (TV, public screens, audio edition) become further dataclasses and constants next to these;
``PROFILES`` is the one registry the job service looks them up in.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class VideoRung:
    """One video step of an adaptive ladder, named by its height for a 16:9 landscape source.

    For sources of another shape the *short side* of the output equals ``short_side`` and the long side
    follows the source's aspect ratio, so portrait video stays portrait.
    """

    name: str
    width: int
    height: int
    video_bitrate: int  # bits per second, the average the encoder aims at
    audio_bitrate: int  # bits per second of the AAC track muxed with this rung

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)


@dataclass(frozen=True)
class AudioRung:
    """An audio-only variant (for weak rural networks, and the whole ladder of an audio source)."""

    name: str
    audio_bitrate: int


@dataclass(frozen=True)
class HlsProfile:
    """Adaptive HLS for phones and the web, after Apple's HLS authoring specification."""

    name: str
    kind: str  # the Rendition.kind it produces
    container: str  # segment container: "fmp4" (CMAF)
    video_codec: str  # ffmpeg encoder name
    video_profile: str  # H.264 profile
    pixel_format: str
    audio_codec: str
    audio_sample_rate: int
    audio_channels: int
    gop_seconds: float  # closed GOP, keyframes at the same instants on every rung
    segment_seconds: float  # a multiple of gop_seconds, so every segment starts on a keyframe
    maxrate_factor: float  # peak cap relative to the average bitrate (Apple: measured within 10%)
    bufsize_factor: float
    preset: str  # x264 speed/quality trade-off
    video_rungs: tuple[VideoRung, ...]
    audio_rungs: tuple[AudioRung, ...]
    audio: bool = True  # False: never add audio, even when the source has it
    loudness_target: float | None = None  # LUFS; None until loudness normalisation lands (issue 3)
    max_frame_rate: float = 60.0


@dataclass(frozen=True)
class PosterProfile:
    """A still picture for players and cards, chosen to avoid black or blank frames."""

    name: str
    kind: str
    container: str  # "jpeg"
    max_width: int
    max_height: int
    quality: int  # ffmpeg -q:v for mjpeg: 2 (best) … 31
    scan_seconds: float  # how far into the source to look for a representative frame
    scan_frames: int  # frames the `thumbnail` filter compares (it skips black and blank ones)
    extra: dict = field(default_factory=dict)


HLS_WEB = HlsProfile(
    name="hls_web",
    kind="hls",
    container="fmp4",
    video_codec="libx264",
    video_profile="high",
    pixel_format="yuv420p",
    audio_codec="aac",
    audio_sample_rate=48_000,
    audio_channels=2,
    gop_seconds=2.0,
    segment_seconds=6.0,
    maxrate_factor=1.1,
    bufsize_factor=2.0,
    preset="veryfast",
    video_rungs=(
        VideoRung("1080p", 1920, 1080, 6_000_000, 128_000),
        VideoRung("720p", 1280, 720, 3_000_000, 128_000),
        VideoRung("540p", 960, 540, 2_000_000, 128_000),
        VideoRung("360p", 640, 360, 730_000, 96_000),
        VideoRung("234p", 416, 234, 145_000, 64_000),
    ),
    audio_rungs=(AudioRung("audio", 64_000),),
)

POSTER = PosterProfile(
    name="poster",
    kind="poster",
    container="jpeg",
    max_width=1280,
    max_height=720,
    quality=3,
    scan_seconds=10.0,
    scan_frames=50,
)

# TV_1080P, SCREEN_LANDSCAPE / SCREEN_PORTRAIT, AUDIO_EDITION: issue 3, later.
PROFILES = {profile.name: profile for profile in (HLS_WEB, POSTER)}
