"""Ask ffprobe what a file is, and refuse what it is not.

Interlacing is read from the stream's ``field_order`` only. Many encoders leave it "unknown" (or even say
"progressive") for interlaced material; such files are treated as progressive. Detecting those would take
decoding frames with the ``idet`` filter, which costs seconds per file, so it is not done here.

An upload is also checked for completeness (``probe_upload``): an MP4 with its index first ("fast start")
that was cut off still declares its whole duration, so ffprobe alone accepts it. Its packets stop where the
bytes do, so the last seconds are read back and must reach the declared end.
"""

import json
import re
import subprocess
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from ..errors import ProbeError
from .colour import SourceColour

PROBE_TIMEOUT_SECONDS = 120
INTERLACED_FIELD_ORDERS = frozenset({"tt", "bb", "tb", "bt"})
# Demuxers that only ever hold one picture per file ("image2" for JPEG/BMP/TIFF, "png_pipe", "webp_pipe", …).
STILL_IMAGE_FORMATS = frozenset({"image2"})
STILL_IMAGE_FORMAT_SUFFIX = "_pipe"
# Picture codecs that, in a file with no duration, mean a single picture rather than moving video.
STILL_IMAGE_CODECS = frozenset({"png", "mjpeg", "webp", "bmp", "tiff", "jpeg2000"})
# The completeness check reads this much of the end back (from the keyframe before it, so a little more).
TAIL_SECONDS = 3.0
# How far short of the declared end the last packet may stop: a last frame's duration, an encoder's rounding.
MISSING_TAIL_SECONDS = 0.5
# What demuxers say when the bytes stop before the data the index or the header promised.
TRUNCATION_MARKERS = ("partial file", "File ended prematurely", "Truncating packet", "Packet corrupt")


@dataclass(frozen=True)
class ProbeResult:
    duration: float
    width: int  # as displayed, i.e. after rotation
    height: int
    fps: float
    has_video: bool
    has_audio: bool
    video_codec: str
    audio_codec: str
    rotation: int  # degrees, as the display matrix says
    audio_channels: int
    audio_sample_rate: int
    format_name: str
    # Filled by parse_probe; defaults keep recorded probe JSON from before these fields loadable.
    interlaced: bool = False  # field_order tt/bb/tb/bt: deinterlace before encoding progressive output
    pixel_format: str = ""  # e.g. yuv420p, yuv422p10le
    audio_streams: int = 0  # how many audio tracks (``main_audio`` says which feeds every output)
    is_still: bool = False  # a single picture (PNG/JPEG), not moving video
    start_time: float = 0.0  # the container's first timestamp (MPEG-TS starts at 1.4 s), seconds
    # Each stream's own span, seconds: audio may start after the picture (a late-audio edit) or outlast it (a
    # phone's variable-rate clip). 0 where ffprobe gives none (an older stored probe): see the spans below.
    video_start: float = 0.0
    video_duration: float = 0.0
    audio_start: float = 0.0
    audio_duration: float = 0.0
    # An attached picture (an MP3's, M4A's or FLAC's cover art): its size, 0 × 0 when there is none.
    cover_width: int = 0
    cover_height: int = 0
    # The stream's nominal rate (r_frame_rate): for a variable-rate phone clip, the rate it was shot at, where
    # ``fps`` (the average) is whatever the pauses made it. 0 in older stored probes.
    nominal_fps: float = 0.0
    # Subtitle streams in the master, in order: {"codec", "language", "title", "default"} each. ``steps/captions``
    # turns the text ones into caption tracks and reports the picture ones to the editor.
    subtitle_streams: tuple = ()
    # Audio streams in the master, in order: {"codec", "language", "title", "default", "channels"} each; and
    # which of them (counted among audio streams) is the main track: see ``main_audio_index``. The others
    # become alternative HLS renditions (``steps/audio_tracks.py``).
    audio_tracks: tuple = ()
    main_audio: int = 0

    @property
    def audio_map(self) -> str:
        """ffmpeg's stream specifier of the main audio track ("a:1"), for ``input[...]`` or ``-map 0:…``."""
        return f"a:{self.main_audio}"

    # The picture's colour as the stream states it (ffprobe's words; "" where it says nothing): an HDR phone clip
    # is smpte2084 (PQ) or arib-std-b67 (HLG) on bt2020, 10-bit. ``colour.sdr_filters`` decides from these.
    colour_transfer: str = ""
    colour_primaries: str = ""
    colour_space: str = ""
    colour_range: str = ""
    bit_depth: int = 0  # bits per sample of the picture (8, 10, 12); 0 unknown
    peak_nits: float = 0.0  # HDR10 MaxCLL, else the mastering display's peak (cd/m²); 0 when not stated

    @property
    def colour(self) -> SourceColour:
        return SourceColour(
            transfer=self.colour_transfer,
            primaries=self.colour_primaries,
            matrix=self.colour_space,
            range=self.colour_range,
            peak_nits=self.peak_nits,
        )

    @property
    def has_cover_art(self) -> bool:
        return self.cover_width > 0 and self.cover_height > 0

    @property
    def video_span(self) -> float:
        """How long the picture runs (the container's duration where the stream's own is unknown)."""
        return self.video_duration or self.duration

    @property
    def audio_span(self) -> float:
        """How long the sound runs (the container's duration where the stream's own is unknown)."""
        return self.audio_duration or self.duration

    @property
    def audio_offset(self) -> float:
        """How long after the container's start the sound begins (0 for an older stored probe)."""
        return max(0.0, self.audio_start - self.start_time) if self.audio_duration else 0.0

    @property
    def av_offset(self) -> float:
        """Audio start minus picture start: what every output must keep for lips to stay in sync."""
        return self.audio_start - self.video_start if self.video_duration and self.audio_duration else 0.0

    @property
    def kind(self) -> str:
        # An MP3 with cover art has a video stream (an attached picture): it is still audio.
        if self.has_video:
            return "video"
        return "audio" if self.has_audio else "unknown"

    def to_dict(self) -> dict:
        return asdict(self)


def probe_file(path: Path) -> ProbeResult:
    """Run ffprobe on a local file; raise ProbeError with a clear reason if it is not usable media."""
    if not path.exists() or path.stat().st_size == 0:
        raise ProbeError(_("文件为空，请重新上传"), _("文件大小为 0 字节"))
    data = ffprobe_json(path)
    result = parse_probe(data)
    if not result.has_video and not result.has_audio:
        raise ProbeError(
            _("文件中没有可播放的声音或画面，请检查后重新上传"), data.get("format", {}).get("format_name", "")
        )
    # A picture has no running time: only moving media without a duration is damaged.
    if result.duration <= 0 and not result.is_still:
        raise ProbeError(_("无法读出文件时长，文件可能已损坏，请重新上传"))
    return result


def probe_upload(path: Path) -> ProbeResult:
    """``probe_file`` for a new master, which must also be complete (see the module's docstring)."""
    result = probe_file(path)
    if not result.is_still and result.duration > 0:
        check_complete(path, duration=result.duration, start_time=result.start_time)
    return result


def check_complete(path: Path, *, duration: float, start_time: float) -> None:
    """Raise ProbeError("文件不完整…") when the file's packets stop short of its declared duration."""
    args = tail_packets_command(path, start=start_time + max(0.0, duration - TAIL_SECONDS))
    done = _run_probe(args)
    reason = missing_tail(done.stdout, done.stderr, start_time=start_time, duration=duration)
    if reason:
        raise ProbeError(_("文件不完整，请重新上传"), reason)


def tail_packets_command(path: Path, *, start: float) -> list[str]:
    """ffprobe listing every packet's stream, time and duration from ``start`` (seconds) to the end."""
    entries = "packet=stream_index,pts_time,duration_time"
    return [settings.FFPROBE_BINARY, "-v", "error", "-read_intervals", f"{start:.3f}%"] + [
        "-show_entries",
        entries,
        "-of",
        "csv=p=0",
        str(path),
    ]


def missing_tail(packets_csv: str, stderr: str, *, start_time: float, duration: float) -> str:
    """Why the tail is missing (pure), or "" when the last packet reaches the declared end."""
    marker = next((m for m in TRUNCATION_MARKERS if m in stderr), None)
    if marker:
        return f"{marker}: {_last_line(stderr)}"
    end = 0.0
    for line in packets_csv.splitlines():
        fields = line.split(",")
        try:
            end = max(end, float(fields[1]) + _float_or_zero(fields[2]))
        except (IndexError, ValueError):
            continue  # a packet without a timestamp
    reached = end - start_time
    if reached < duration - MISSING_TAIL_SECONDS:
        return f"packets end at {reached:.2f} s, duration declared {duration:.2f} s"
    return ""


def _float_or_zero(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _run_probe(args: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=PROBE_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ProbeError(_("读取文件超时，请重新上传；仍不行请联系管理员"), str(exc)) from exc


def ffprobe_json(path: Path) -> dict:
    """ffprobe's ``-show_format -show_streams`` JSON for a local file; ProbeError if it cannot read it."""
    args = [settings.FFPROBE_BINARY, "-v", "error", "-print_format", "json", "-show_format", "-show_streams"]
    try:
        done = subprocess.run(
            [*args, str(path)], capture_output=True, text=True, timeout=PROBE_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ProbeError(_("读取文件超时，请重新上传；仍不行请联系管理员"), str(exc)) from exc
    reason = _last_line(done.stderr)
    if done.returncode != 0:
        raise ProbeError(_failure_message(path, done.stderr), reason)
    try:
        return json.loads(done.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise ProbeError(_("无法读取这个文件，请检查后重新上传"), reason or str(exc)) from exc


def _failure_message(path: Path, stderr: str) -> str:
    # ffprobe says "moov atom not found" both for a cut-off MP4 and for a text file named .mp4;
    # an ISO-BMFF header ("ftyp" box) tells the two apart.
    if "moov atom not found" in stderr and _looks_like_mp4(path):
        return _("文件不完整，请重新上传")
    return _("不是可识别的音视频文件，或文件已损坏，请检查后重新上传")


def _looks_like_mp4(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(12)[4:8] == b"ftyp"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def parse_probe(data: dict) -> ProbeResult:
    """Turn ffprobe's JSON into a ProbeResult (pure, so it can be tested with recorded JSON)."""
    streams = data.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video" and not _is_attached_picture(s)), None)
    audio_streams = [s for s in streams if s.get("codec_type") == "audio"]
    main_audio = main_audio_index([_track(s) for s in audio_streams])
    audio = audio_streams[main_audio] if audio_streams else None
    rotation = _rotation(video) if video else 0
    width, height = (int(video.get("width") or 0), int(video.get("height") or 0)) if video else (0, 0)
    if video:
        # Non-square pixels: plan in display pixels; the ladder's scale filters output square ones.
        width = round(width * _sample_aspect_ratio(video))
    if rotation % 180:
        width, height = height, width  # ffmpeg autorotates when decoding, so we plan for the displayed shape
    still = _is_still(data, video, audio)
    cover = next((s for s in streams if s.get("codec_type") == "video" and _is_attached_picture(s)), {})
    return ProbeResult(
        # A still image has no running time or frame rate, whatever the image demuxer makes up (JPEG: 0.04 s).
        duration=0.0 if still else _duration(data, video or audio),
        width=width,
        height=height,
        fps=_fps(video) if video and not still else 0.0,
        has_video=video is not None,
        has_audio=audio is not None,
        video_codec=(video or {}).get("codec_name", ""),
        audio_codec=(audio or {}).get("codec_name", ""),
        rotation=rotation,
        audio_channels=int((audio or {}).get("channels") or 0),
        audio_sample_rate=int((audio or {}).get("sample_rate") or 0),
        format_name=data.get("format", {}).get("format_name", ""),
        interlaced=(video or {}).get("field_order", "") in INTERLACED_FIELD_ORDERS,
        pixel_format=(video or {}).get("pix_fmt", ""),
        audio_streams=len(audio_streams),
        audio_tracks=tuple(_track(s) for s in audio_streams),
        main_audio=main_audio,
        is_still=still,
        start_time=_float_or_zero(str(data.get("format", {}).get("start_time", "0"))),
        video_start=_stream_start(video) if video and not still else 0.0,
        video_duration=_stream_duration(video) if video and not still else 0.0,
        audio_start=_stream_start(audio),
        audio_duration=_stream_duration(audio),
        nominal_fps=_rate_of(video, "r_frame_rate") if video and not still else 0.0,
        subtitle_streams=tuple(_subtitle(s) for s in streams if s.get("codec_type") == "subtitle"),
        cover_width=int(cover.get("width") or 0),
        cover_height=int(cover.get("height") or 0),
        **_colour_fields(video or {}),
    )


# Language tags (ISO 639-1/2/3, as containers store them) that make an unflagged track the main one.
CHINESE_LANGUAGES = frozenset({"zh", "chi", "zho", "cmn"})


def main_audio_index(tracks: list[dict]) -> int:
    """Which audio track feeds every output (pure): among the tracks flagged default (all of them when none
    is; Matroska flags every track by default), the first Chinese one, else the first."""
    candidates = [i for i, track in enumerate(tracks) if track.get("default")] or list(range(len(tracks)))
    chinese = [i for i in candidates if (tracks[i].get("language") or "").lower() in CHINESE_LANGUAGES]
    return (chinese or candidates or [0])[0]


def _track(stream: dict) -> dict:
    return {**_subtitle(stream), "channels": int(stream.get("channels") or 0)}


def _colour_fields(video: dict) -> dict:
    def stated(key: str) -> str:
        value = str(video.get(key) or "")
        return "" if value in ("unknown", "unspecified", "reserved") else value

    return {
        "colour_transfer": stated("color_transfer"),
        "colour_primaries": stated("color_primaries"),
        "colour_space": stated("color_space"),
        "colour_range": stated("color_range"),
        "bit_depth": _bit_depth(video),
        "peak_nits": _peak_nits(video.get("side_data_list", [])),
    }


# The bit depth ending a pixel format's name: yuv420p10le → 10, p010le → 10, gbrp12le → 12 (yuv420p: none, 8).
_DEPTH_IN_NAME = re.compile(r"(\d{2})(?:le|be)$")


def _bit_depth(video: dict) -> int:
    raw = str(video.get("bits_per_raw_sample") or "")
    if raw.isdigit():
        return int(raw)
    pix_fmt = str(video.get("pix_fmt") or "")
    if not pix_fmt:
        return 0
    match = _DEPTH_IN_NAME.search(pix_fmt)
    return int(match.group(1)) if match else 8


def _peak_nits(side_data: list) -> float:
    """MaxCLL (the brightest pixel actually in the programme), else the mastering display's peak."""
    for entry in side_data:
        if entry.get("side_data_type") == "Content light level metadata" and int(entry.get("max_content") or 0):
            return float(entry["max_content"])
    for entry in side_data:
        if entry.get("side_data_type") == "Mastering display metadata" and entry.get("max_luminance"):
            return _rate_of(entry, "max_luminance")
    return 0.0


def _subtitle(stream: dict) -> dict:
    tags = stream.get("tags", {})
    return {
        "codec": stream.get("codec_name", ""),
        "language": tags.get("language", ""),
        "title": tags.get("title", ""),
        "default": bool(stream.get("disposition", {}).get("default")),
    }


def _stream_start(stream: dict | None) -> float:
    return _float_or_zero(str((stream or {}).get("start_time", "0")))


def _stream_duration(stream: dict | None) -> float:
    """A stream's own duration: MP4 gives ``duration``; Matroska only a DURATION tag ("00:00:02.023000000")."""
    if not stream:
        return 0.0
    if stream.get("duration") not in (None, "N/A"):
        return _float_or_zero(str(stream["duration"]))
    tag = stream.get("tags", {}).get("DURATION", "")
    hours, _sep, rest = tag.partition(":")
    minutes, _sep, seconds = rest.partition(":")
    try:
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return 0.0


def _is_still(data: dict, video: dict | None, audio: dict | None) -> bool:
    """One picture: an image demuxer, a single-frame stream, or a picture codec with no duration."""
    # One frame over a soundtrack is a programme with a static picture: its duration and audio matter.
    if video is None or audio is not None:
        return False
    formats = set(data.get("format", {}).get("format_name", "").split(","))
    if formats & STILL_IMAGE_FORMATS or any(name.endswith(STILL_IMAGE_FORMAT_SUFFIX) for name in formats):
        return True
    if str(video.get("nb_frames", "")) == "1":
        return True
    return video.get("codec_name") in STILL_IMAGE_CODECS and _duration(data, video) <= 0


def _is_attached_picture(stream: dict) -> bool:
    return bool(stream.get("disposition", {}).get("attached_pic"))


def _rotation(stream: dict) -> int:
    for side_data in stream.get("side_data_list", []):
        if "rotation" in side_data:
            return int(float(side_data["rotation"])) % 360
    return int(float(stream.get("tags", {}).get("rotate", 0))) % 360


def _sample_aspect_ratio(stream: dict) -> Fraction:
    try:
        ratio = Fraction(stream.get("sample_aspect_ratio", "1:1").replace(":", "/"))
    except (ValueError, ZeroDivisionError):
        return Fraction(1)
    return ratio if ratio > 0 else Fraction(1)


def _rate_of(stream: dict, key: str) -> float:
    try:
        return float(Fraction(stream.get(key) or "0/1"))
    except (ValueError, ZeroDivisionError):
        return 0.0


def _fps(stream: dict) -> float:
    for key in ("avg_frame_rate", "r_frame_rate"):
        value = stream.get(key, "0/0")
        try:
            rate = Fraction(value)
        except (ValueError, ZeroDivisionError):
            continue
        if rate > 0:
            return float(rate)
    return 0.0


def _duration(data: dict, stream: dict | None) -> float:
    for source in (data.get("format", {}), stream or {}):
        try:
            return float(source["duration"])
        except (KeyError, TypeError, ValueError):
            continue
    return 0.0
