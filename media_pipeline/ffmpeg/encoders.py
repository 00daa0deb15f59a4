"""Which H.264 encoder the video profiles use, and its options: x264 on the CPU (the default) or NVENC.

``settings.MEDIA_VIDEO_ENCODER`` asks for one ("libx264" or "h264_nvenc"), read at call time. NVENC is used
only when a tiny real encode on this machine succeeds (``nvenc_available``); otherwise the pipeline falls back
to x264 and says so once in the log. A Debian ffmpeg lists ``h264_nvenc`` even where there is no GPU (it
loads libcuda at run time), so asking ffmpeg which encoders it *has* proves nothing: only an encode does.
Not every NVIDIA GPU has an encoder either: the data-centre A100/H100/H200 have NVDEC but no NVENC.

Both variants give the same stream contract (H.264 High, 4:2:0 8-bit, the profile's level and rates,
keyframes at the same instants, closed GOPs), which is what segment alignment and ``jobs/verify.py`` rely on.

Only encoding moves to the GPU. Decoding and every filter (scale, pad, bwdif, subtitles, the loop fade)
stay on the CPU: those filters work on CPU frames, so GPU decoding would need an ``hwdownload`` per frame and
buys little, while the encoder is by far the largest CPU cost of a ladder. The ladder's ``split`` feeds one
NVENC session per rung from one process: data-centre GPUs do not limit concurrent sessions, GeForce cards do
(a driver cap of a handful of sessions per machine), so a consumer card can run only one or two ladders at once.
"""

import functools
import logging
import re
import subprocess
from typing import Literal

import ffmpeg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("media_pipeline.encoders")

X264 = "libx264"
NVENC = "h264_nvenc"
VideoEncoder = Literal["libx264", "h264_nvenc"]
VIDEO_ENCODERS: tuple[VideoEncoder, ...] = (X264, NVENC)

# The capability probe: 0.1 s of a flat 256×256 picture (above NVENC's minimum frame size) into the null muxer.
PROBE_SOURCE = "color=s=256x256:d=0.1"
# A cold driver takes a second or two to create its first CUDA context; a hung one must not hang a worker.
PROBE_TIMEOUT_SECONDS = 20
# ffmpeg's "[h264_nvenc @ 0x55…] " in front of a log line: an address, noise in a reason shown to people.
_LOG_PREFIX = re.compile(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*")

# x264 preset → NVENC preset (p1 fastest … p7 best). The GPU has speed to spare, and NVENC gives less
# quality per bit than x264 at the same nominal speed, so x264's fast presets map to NVENC's middle p4.
NVENC_PRESETS = {
    "ultrafast": "p1",
    "superfast": "p2",
    "veryfast": "p4",
    "faster": "p4",
    "fast": "p4",
    "medium": "p5",
    "slow": "p6",
    "slower": "p7",
    "veryslow": "p7",
    "placebo": "p7",
}
NVENC_DEFAULT_PRESET = "p4"
# x264's default B-frame count; every NVENC generation encodes H.264 B-frames.
NVENC_B_FRAMES = 3


def keyframe_times(gop_seconds: float) -> str:
    """``-force_key_frames`` expression: a keyframe every ``gop_seconds`` of presentation time.

    Time-based, so every rung (and a variable-frame-rate source) gets keyframes at the same instants.
    """
    return f"expr:gte(t,n_forced*{gop_seconds:g})"


def video_encoder_options(
    *,
    encoder: str,
    video_profile: str,
    level: str | None,
    preset: str,
    gop_frames: int,
    closed_gop: bool,
    keyframe_expr: str | None,
) -> dict:
    """The encoder's own ffmpeg output options; rates, pixel format and colour tags are the caller's.

    ``level`` None leaves the level to the encoder (both pick the lowest that fits).
    """
    if encoder == X264:
        return _x264_options(video_profile, level, preset, gop_frames, closed_gop, keyframe_expr)
    if encoder == NVENC:
        return _nvenc_options(video_profile, level, preset, gop_frames, closed_gop, keyframe_expr)
    raise ValueError(f"unknown video encoder {encoder!r}; expected one of {VIDEO_ENCODERS}")


def _x264_options(
    video_profile: str, level: str | None, preset: str, gop_frames: int, closed_gop: bool, keyframe_expr: str | None
) -> dict:
    options = {"c:v": X264, "profile:v": video_profile, "preset": preset}
    if level is not None:
        options["level:v"] = level
    # A GOP of exactly gop_frames: no shorter ones (keyint_min), no scene-cut keyframes in between.
    options.update({"g": gop_frames, "keyint_min": gop_frames, "sc_threshold": 0})
    if closed_gop:
        options["flags"] = "+cgop"
    if keyframe_expr is not None:
        options["force_key_frames"] = keyframe_expr
    return options


def _nvenc_options(
    video_profile: str, level: str | None, preset: str, gop_frames: int, closed_gop: bool, keyframe_expr: str | None
) -> dict:
    options = {
        "c:v": NVENC,
        "preset": NVENC_PRESETS.get(preset, NVENC_DEFAULT_PRESET),
        "tune": "hq",
        "profile:v": video_profile,
    }
    if level is not None:
        options["level:v"] = level
    options.update(
        {
            # Average bitrate under the caller's maxrate/bufsize cap, like x264's ABR with VBV.
            "rc": "vbr",
            # Keep every GOP near the target rate, so no HLS segment overshoots the advertised peak.
            "strict_gop": 1,
            # NVENC starts every GOP of g frames with an IDR frame (idrPeriod = gopLength): closed GOPs.
            "g": gop_frames,
            "bf": NVENC_B_FRAMES,
            # Scene-cut keyframes only come with lookahead (off here); refused anyway, should it be turned on.
            "no-scenecut": 1,
        }
    )
    if closed_gop:
        # Forced keyframes are otherwise plain I-frames, which B-frames around them may reach across.
        options["forced-idr"] = 1
    if keyframe_expr is not None:
        options["force_key_frames"] = keyframe_expr
    return options


# --- Which encoder is in force ---------------------------------------------------------------------------


def configured_encoder() -> VideoEncoder:
    """``settings.MEDIA_VIDEO_ENCODER`` (read now, never at import); "libx264" when unset or empty."""
    wanted = getattr(settings, "MEDIA_VIDEO_ENCODER", X264) or X264
    if wanted not in VIDEO_ENCODERS:
        raise ImproperlyConfigured(f"MEDIA_VIDEO_ENCODER must be one of {VIDEO_ENCODERS}, not {wanted!r}")
    return wanted


def encoder_in_force() -> VideoEncoder:
    """The configured encoder, except that NVENC falls back to x264 where it cannot encode."""
    wanted = configured_encoder()
    if wanted == NVENC and not nvenc_available():
        _warn_fallback(nvenc_failure() or "")
        return X264
    return wanted


def nvenc_available() -> bool:
    """True when a tiny real NVENC encode works on this machine (checked once per process)."""
    return nvenc_failure() is None


def probe_command() -> list[str]:
    """The capability probe's arguments (without the binary): a tenth of a second of colour into NVENC."""
    output = ffmpeg.input(PROBE_SOURCE, f="lavfi").output("-", f="null", **{"c:v": NVENC})
    return ["-hide_banner", "-nostats", "-loglevel", "error", *output.get_args()]


@functools.cache
def nvenc_failure() -> str | None:
    """None when the probe encode succeeds; otherwise ffmpeg's reason (e.g. "Cannot load libcuda.so.1")."""
    try:
        done = subprocess.run(
            [settings.FFMPEG_BINARY, *probe_command()],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if done.returncode == 0:
        return None
    # The first line names the cause; the last is ffmpeg's generic "Error while opening encoder".
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    if not lines:
        return f"ffmpeg exit {done.returncode}"
    return _LOG_PREFIX.sub("", lines[0]).strip()


def clear_cache() -> None:
    """Forget the probe's answer and the warning already logged (tests; a driver installed while running)."""
    nvenc_failure.cache_clear()
    _warn_fallback.cache_clear()


@functools.cache
def _warn_fallback(reason: str) -> None:
    # Cached: one warning per process (per reason), not one per job.
    logger.warning("MEDIA_VIDEO_ENCODER asks for %s, but it cannot encode here (%s); using %s", NVENC, reason, X264)


def constant_rate_options(*, encoder: str, profile) -> dict:
    """Encoder options for a constant-frame-rate profile (TV, public screens): closed GOPs of exactly
    ``profile.gop_seconds``, forced by time, so seeks, loops and segment starts land on keyframes."""
    return video_encoder_options(
        encoder=encoder,
        video_profile=profile.video_profile,
        level=profile.video_level,
        preset=profile.preset,
        gop_frames=max(1, round(profile.frame_rate * profile.gop_seconds)),
        closed_gop=True,
        keyframe_expr=keyframe_times(profile.gop_seconds),
    )
