"""Check every output against what its profile promised, before anything is published.

The engine calls ``verify_output`` on the local files in the work dir after each step. Every file an output names
must exist and be non-empty; videos and audio files are probed against what their profile promises; HLS packages
are parsed playlist by playlist; loudness is measured with ebur128 and must be within ±1 LU of the profile's
target. A rendition that is the wrong size, profile or frame rate, is too short, lacks a segment or misses its
loudness target would reach players that then fail on it (set-top boxes are strict), so it fails the job instead.
Checks read what ffprobe, ``m3u8`` and ``ebur128`` report; the comparisons are pure functions so they are tested on
recorded output.
"""

import json
import subprocess
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import m3u8
from django.conf import settings
from django.utils.translation import gettext as _

from ..delivery.playlists import is_plain_file_name
from ..errors import ProbeError, VerifyError
from ..ffmpeg.colour import HDR_TRANSFERS, WIDE_PRIMARIES
from ..ffmpeg.loudness import is_normalisable, loudness_check_command, parse_ebur128_summary
from ..ffmpeg.probe import INTERLACED_FIELD_ORDERS, ffprobe_json, parse_probe
from ..ffmpeg.runner import ProgressCallback, check_run, run_ffmpeg
from ..steps.audio_edition import output_channels
from ..steps.contract import Output, StepContext
from ..steps.iframes import range_bandwidths
from ..steps.profiles import (
    LOUDNESS_TOLERANCE_LU,
    PROFILES,
    AudioEditionProfile,
    HlsProfile,
    ScreenProfile,
    TvProfile,
)
from ..steps.tv import tv_frame_rate

DURATION_TOLERANCE_SECONDS = 0.1
# An audio file may run this much past its source (never short of it): an MP3 counts its encoder delay and
# padding, and an 8 kHz AAC source's own priming is 128 ms, which the 44.1/48 kHz edition does not drop.
AUDIO_OVERHANG_SECONDS = 0.25
# Audio start minus picture start may move this much: AAC's encoder delay (21–47 ms) plus a B-frame delay.
AV_OFFSET_TOLERANCE_SECONDS = 0.1
FRAME_RATE_TOLERANCE = 0.01
# A nominal bitrate is a ceiling: audio encoders may exceed it a little, and spend far less on narrow-band speech.
BITRATE_TOLERANCE = 0.2
# ebur128 (4× oversampling) and loudnorm's limiter (192 kHz) estimate true peak slightly differently.
TRUE_PEAK_MARGIN_DB = 0.1
# The encoder names profiles use → the codec names ffprobe reports.
# What an output converted to SDR BT.709 (``ffmpeg/colour.py``, and every TV file) must say about itself.
BT709_TAGS = "bt709/bt709/bt709"
CODEC_NAMES = {"libx264": "h264", "h264_nvenc": "h264", "libmp3lame": "mp3", "libfdk_aac": "aac"}

VIDEO_KEYS = frozenset(
    {
        "video_codec",  # "h264"
        "profile",  # "High" (any case)
        "level",  # 40 or "4.0"
        "width",  # coded size, square pixels expected separately
        "height",
        "frame_rate",  # constant: both r_frame_rate and avg_frame_rate within 0.01
        "pixel_format",
        "sdr",  # True: 8-bit (or unstated) and no HDR transfer or BT.2020 primaries tagged
        "colour",  # "primaries/transfer/matrix" as tagged, e.g. "bt709/bt709/bt709" ("" for an untagged part)
        "square_pixels",  # True: sample aspect ratio 1:1 (or unset)
        "progressive",  # True: no interlaced field order
        "rotation",  # 0: no display matrix turning the picture
        "audio",  # True/False: an audio track is present
        "audio_codec",
        "audio_sample_rate",
        "audio_channels",
        "duration",  # seconds, within the tolerance
        "faststart",  # True: moov before mdat
        "av_offset",  # seconds audio starts after the picture, as in the source (± AV_OFFSET_TOLERANCE_SECONDS)
    }
)
AUDIO_KEYS = frozenset({"codec", "sample_rate", "channels", "bitrate", "duration", "faststart", "video"})


# --- Which checks an output gets ------------------------------------------------------------------------


def verify_output(*, output: Output, ctx: StepContext) -> None:
    _files_present(output, ctx)
    path = ctx.out_dir / output.path
    duration = ctx.probe.duration if ctx.probe is not None else 0.0
    profile = PROFILES.get(output.profile)
    if output.kind == "hls":
        probe = ctx.probe
        verify_hls(
            master_path=path,
            expect_duration=duration,
            video_duration=probe.video_span if probe.has_video else None,
            audio_duration=probe.audio_span if probe.has_audio else None,
            av_offset=probe.av_offset if probe.has_video and probe.has_audio else None,
            expect_iframes=probe.has_video and _wants_iframes(output.profile),
            colour=BT709_TAGS if probe.has_video and probe.colour.needs_conversion else None,
        )
        audio_rung = path.parent / "audio" / "index.m3u8"
        if isinstance(profile, HlsProfile) and profile.loudness and audio_rung.exists():
            _loudness(audio_rung, profile.loudness, profile.audio_channels, ctx)
        if isinstance(profile, HlsProfile):
            _verify_alternative_audio(output, path.parent, profile, ctx)
    elif output.kind == "mp4":
        audio = isinstance(profile, TvProfile) and ctx.probe.has_audio
        expect = video_expectations(profile=profile, duration=duration, audio=audio)
        if isinstance(profile, TvProfile):
            expect["frame_rate"] = float(tv_frame_rate(profile, ctx.probe))
        if isinstance(profile, TvProfile) or ctx.probe.colour.needs_conversion:
            expect["colour"] = BT709_TAGS
        if audio:
            expect["av_offset"] = ctx.probe.av_offset
        verify_video_file(path=path, expect=expect)
        _raise_mismatches(peak_problems(output, profile))
        if audio:
            _loudness(path, profile.loudness, 2, ctx)
    elif output.kind == "audio" and isinstance(profile, AudioEditionProfile):
        channels = output_channels(ctx.probe)
        # The sound from the programme's start: a late-audio source keeps its offset (M4A edit list, MP3 silence).
        sound = ctx.probe.audio_offset + ctx.probe.audio_span
        expect = audio_expectations(profile=profile, duration=sound, channels=channels)
        verify_audio_file(path=path, expect=expect)
        _loudness(path, profile.loudness, channels, ctx)


def _wants_iframes(profile_name: str) -> bool:
    """Whether an HLS output's profile promises I-frame playlists (the TV's HLS copy is "<tv profile>_hls")."""
    profile = PROFILES.get(profile_name) or PROFILES.get(profile_name.removesuffix("_hls"))
    return bool(getattr(profile, "iframe_playlists", False))


def _verify_alternative_audio(output: Output, master_dir: Path, profile: HlsProfile, ctx: StepContext) -> None:
    """Each other audio track of the master (``steps/audio_tracks.py``) decodes from end to end at the target
    loudness; one that was silent (not normalised) is decoded and measured, but not held to a target.

    That each is named in the master, complete and spans the sound is ``verify_hls``'s check (EXT-X-MEDIA URIs).
    """
    for track in output.meta.get("audio_tracks", ()):
        path = master_dir / track["uri"]
        if not path.is_file():
            raise _failure(_mismatch(track["uri"], _("存在"), _("缺失")))
        if not (track.get("normalised") and profile.loudness):
            check_run(run_ffmpeg(loudness_check_command(path=path), duration=ctx.probe.duration))
            continue
        verify_loudness(
            path=path,
            target_lufs=profile.loudness.integrated_for(profile.audio_channels),
            max_true_peak=profile.loudness.true_peak,
            tolerance=LOUDNESS_TOLERANCE_LU,
            duration=ctx.probe.duration,
            on_progress=ctx.on_progress,
        )


def peak_problems(output: Output, profile) -> list[str]:
    """A TV stream whose busiest segment (measured, ``output.bandwidth``) is over the box's ceiling (pure)."""
    ceiling = getattr(profile, "peak_bitrate", 0)
    if not ceiling or output.bandwidth is None or output.bandwidth <= ceiling:
        return []
    return [_mismatch("peak_bandwidth", f"≤ {ceiling}", output.bandwidth)]


def _files_present(output: Output, ctx: StepContext) -> None:
    for relative in output.all_files():
        path = ctx.out_dir / relative
        if not path.is_file() or path.stat().st_size == 0:
            raise VerifyError(_("转码结果未通过检查，请联系管理员"), f"missing or empty: {relative}")


def _loudness(path, target, channels: int, ctx: StepContext) -> None:
    # Silence (or a source too quiet to measure) is left as it is, so there is no target to check against.
    if ctx.loudness is None or not is_normalisable(ctx.loudness):
        return
    verify_loudness(
        path=path,
        target_lufs=target.integrated_for(channels),
        max_true_peak=target.true_peak,
        tolerance=LOUDNESS_TOLERANCE_LU,
        duration=ctx.probe.duration,
        on_progress=ctx.on_progress,  # renews the job's lease; False stops the check (job cancelled)
    )


# --- MP4 files -------------------------------------------------------------------------------------------


def verify_video_file(*, path: Path, expect: dict, duration_tolerance: float = DURATION_TOLERANCE_SECONDS) -> None:
    """ffprobe ``path`` and raise VerifyError naming every property in ``expect`` (see VIDEO_KEYS) that differs."""
    _check_keys(expect, VIDEO_KEYS)
    found = video_facts(_probe(path))
    if "faststart" in expect:
        found["faststart"] = is_faststart(path)
    _raise_mismatches(compare_facts(expect, found, duration_tolerance=duration_tolerance))


def verify_audio_file(
    *,
    path: Path,
    expect: dict,
    duration_tolerance: float = DURATION_TOLERANCE_SECONDS,
    bitrate_tolerance: float = BITRATE_TOLERANCE,
) -> None:
    """The same for an audio file (see AUDIO_KEYS); the bitrate only has to be within ``bitrate_tolerance``."""
    _check_keys(expect, AUDIO_KEYS)
    found = audio_facts(_probe(path))
    if "faststart" in expect:
        found["faststart"] = is_faststart(path)
    mismatches = compare_facts(
        expect,
        found,
        duration_tolerance=duration_tolerance,
        bitrate_tolerance=bitrate_tolerance,
        overhang=AUDIO_OVERHANG_SECONDS,
    )
    _raise_mismatches(mismatches)


def video_expectations(*, profile: TvProfile | ScreenProfile, duration: float, audio: bool) -> dict:
    """What an MP4 profile promises for a file of ``duration`` seconds; ``audio``: whether it should have sound."""
    expect = {
        "video_codec": CODEC_NAMES.get(profile.video_codec, profile.video_codec),
        "profile": profile.video_profile,
        "level": profile.video_level,
        "width": profile.width,
        "height": profile.height,
        "frame_rate": profile.frame_rate,
        "pixel_format": profile.pixel_format,
        "sdr": True,
        "square_pixels": True,
        "progressive": True,
        "rotation": 0,
        "audio": audio,
        "duration": duration,
        "faststart": getattr(profile, "faststart", True),  # screens' players download before playing too
    }
    if audio:
        expect |= {
            "audio_codec": CODEC_NAMES.get(profile.audio_codec, profile.audio_codec),
            "audio_sample_rate": profile.audio_sample_rate,
            "audio_channels": profile.audio_channels,
        }
    return expect


def audio_expectations(*, profile: AudioEditionProfile, duration: float, channels: int) -> dict:
    """What an AudioEditionProfile promises; ``channels`` is what the step chose for this source."""
    expect = {
        "codec": CODEC_NAMES.get(profile.audio_codec, profile.audio_codec),
        "sample_rate": profile.audio_sample_rate,
        "channels": channels,
        "bitrate": profile.audio_bitrate,
        "duration": duration,
        "video": False,
    }
    if profile.container == "m4a":
        expect["faststart"] = True
    return expect


def video_facts(data: dict) -> dict:
    """The properties VIDEO_KEYS names, read from ffprobe's JSON (pure)."""
    probe = parse_probe(data)
    video = _first_stream(data, "video")
    return {
        "video_codec": probe.video_codec,
        "profile": video.get("profile", ""),
        "level": video.get("level"),
        "width": video.get("width"),
        "height": video.get("height"),
        "frame_rate": (_rate(video.get("r_frame_rate")), _rate(video.get("avg_frame_rate"))),
        "pixel_format": probe.pixel_format,
        "sdr": probe.bit_depth <= 8
        and probe.colour_transfer not in HDR_TRANSFERS
        and probe.colour_primaries not in WIDE_PRIMARIES,
        "colour": "/".join((probe.colour_primaries, probe.colour_transfer, probe.colour_space)),
        "square_pixels": video.get("sample_aspect_ratio", "1:1") in {"1:1", "0:1", "N/A"},
        "progressive": video.get("field_order", "") not in INTERLACED_FIELD_ORDERS,
        "rotation": probe.rotation,
        "audio": probe.has_audio,
        "audio_codec": probe.audio_codec,
        "audio_sample_rate": probe.audio_sample_rate,
        "audio_channels": probe.audio_channels,
        "duration": _format_duration(data),
        "av_offset": _stream_start(data, "audio") - _stream_start(data, "video"),
    }


def audio_facts(data: dict) -> dict:
    """The properties AUDIO_KEYS names, read from ffprobe's JSON (pure)."""
    probe = parse_probe(data)
    audio = _first_stream(data, "audio")
    bitrate = audio.get("bit_rate") or data.get("format", {}).get("bit_rate") or 0
    return {
        "codec": probe.audio_codec,
        "sample_rate": probe.audio_sample_rate,
        "channels": probe.audio_channels,
        "bitrate": int(bitrate),
        "duration": _format_duration(data),
        "video": probe.has_video,
    }


def compare_facts(
    expect: dict,
    found: dict,
    *,
    duration_tolerance: float,
    bitrate_tolerance: float = BITRATE_TOLERANCE,
    overhang: float = 0.0,
) -> list[str]:
    """One line per expected property that ``found`` does not match (pure). A duration may run ``overhang``
    past the expected one; a bitrate is a ceiling (any rate up to ``bitrate_tolerance`` over it)."""
    matchers: dict[str, Callable[[object, object], bool]] = {
        "profile": lambda want, got: str(want).lower() == str(got).lower(),
        "level": lambda want, got: got is not None and _level_number(want) == int(got),
        "frame_rate": lambda want, got: all(abs(rate - float(want)) <= FRAME_RATE_TOLERANCE for rate in got),
        "duration": lambda want, got: -duration_tolerance <= float(got) - float(want) <= duration_tolerance + overhang,
        "bitrate": lambda want, got: 0 < int(got) <= (1 + bitrate_tolerance) * int(want),
        "av_offset": lambda want, got: abs(float(got) - float(want)) <= AV_OFFSET_TOLERANCE_SECONDS,
    }
    mismatches = []
    for name, want in expect.items():
        got = found.get(name)
        if not matchers.get(name, lambda a, b: a == b)(want, got):
            mismatches.append(_mismatch(name, want, _shown(name, got)))
    return mismatches


def is_faststart(path: Path) -> bool:
    """True when the index (moov) comes before the media data, so playback can start while downloading."""
    with path.open("rb") as handle:
        boxes = top_level_boxes(handle)
    if "moov" not in boxes:
        return False
    return "mdat" not in boxes or boxes.index("moov") < boxes.index("mdat")


def top_level_boxes(handle) -> list[str]:
    """Types of the top-level ISO-BMFF boxes, in order, reading only their 8/16-byte headers."""
    # Too small a job for a dependency: a box is a 32-bit size (1: 64-bit size follows; 0: to the end) + type.
    boxes = []
    while True:
        header = handle.read(8)
        if len(header) < 8:
            return boxes
        size, kind = int.from_bytes(header[:4], "big"), header[4:8].decode("latin-1")
        boxes.append(kind)
        if size == 1:
            size = int.from_bytes(handle.read(8), "big") - 8
        if size == 0:
            return boxes
        if size < 8:
            return boxes  # damaged: stop rather than loop
        handle.seek(size - 8, 1)


# --- HLS -------------------------------------------------------------------------------------------------


def verify_hls(
    *,
    master_path: Path,
    expect_duration: float,
    tolerance: float = DURATION_TOLERANCE_SECONDS,
    video_duration: float | None = None,
    audio_duration: float | None = None,
    av_offset: float | None = None,
    expect_iframes: bool = False,
    colour: str | None = None,
) -> None:
    """Every playlist the master names parses, is complete, covers its own source stream's span; every file it
    names exists; the first video segment decodes at the announced size, 8-bit SDR (tagged ``colour`` when
    given: an HDR source's must say BT.709); audio keeps its offset to the picture; every I-frame stream is true
    to its entries (``_verify_iframe_stream``), and with ``expect_iframes`` every video variant has one.

    Video playlists (and I-frame ones) last ``video_duration``, audio-only ones ``audio_duration`` (a late-audio
    source's sound is shorter than its picture), the rest (subtitles) ``expect_duration``; each falls back to
    ``expect_duration`` when not given.
    """
    master = _load_playlist(master_path)
    if not master.is_variant or not master.playlists:
        raise _failure(_mismatch("master", _("至少一个码流"), _("没有")))
    base = master_path.parent
    spans = _playlist_spans(master, expect_duration, video_duration, audio_duration)
    mismatches = []
    for uri, span in spans.items():
        mismatches += check_media_playlist(base / uri, expect_duration=span, tolerance=tolerance)
    _raise_mismatches(mismatches)
    _raise_mismatches(_iframe_streams_missing(master) if expect_iframes else [])
    for iframe in master.iframe_playlists:
        _verify_iframe_stream(master, iframe, base)
    first_video = next((p for p in master.playlists if p.stream_info.resolution), None)
    if first_video is not None:
        _verify_first_segment(base / first_video.uri, first_video.stream_info.resolution, colour)
    first_audio = next((p for p in master.playlists if _is_audio_only(p)), None)
    if av_offset is not None and first_video is not None and first_audio is not None:
        _verify_av_offset(base / first_video.uri, base / first_audio.uri, av_offset)


def _playlist_spans(master, expect_duration: float, video: float | None, audio: float | None) -> dict[str, float]:
    """Each playlist's URI → the duration it must cover (its own stream's span)."""
    video, audio = video or expect_duration, audio or expect_duration
    spans: dict[str, float] = {}
    for playlist in master.playlists:  # a rendition may be listed twice (e.g. audio in several groups)
        spans.setdefault(playlist.uri, audio if _is_audio_only(playlist) else video)
    for playlist in master.iframe_playlists:
        spans.setdefault(playlist.uri, video)
    for media in master.media:
        if media.uri:
            spans.setdefault(media.uri, audio if (media.type or "").upper() == "AUDIO" else expect_duration)
    return spans


def _folder(uri: str) -> str:
    return uri.split("/", 1)[0]


def _iframe_streams_missing(master) -> list[str]:
    listed = {_folder(item.uri) for item in master.iframe_playlists}
    videos = [p.uri for p in master.playlists if not _is_audio_only(p)]
    return [_mismatch(uri, "EXT-X-I-FRAME-STREAM-INF", _("没有")) for uri in videos if _folder(uri) not in listed]


def _verify_iframe_stream(master, iframe, base: Path) -> None:
    """An I-frame stream as ``steps/iframes.py`` writes it: its declared rates are the ones its byte ranges measure
    and its average is below its variant's; its ranges tile one file after the init range, each one moof; decoding
    that file gives one keyframe per entry, at the entry's time (±1 frame) from the variant's first picture."""
    path = base / iframe.uri
    name = f"{_folder(iframe.uri)}/{path.name}"
    variant = next((p for p in master.playlists if _folder(p.uri) == _folder(iframe.uri)), None)
    if variant is None:
        _raise_mismatches([_mismatch(name, _("对应的码流"), _("没有"))])
    playlist = _load_playlist(path)
    info = iframe.iframe_stream_info
    declared = (info.bandwidth, info.average_bandwidth)
    problems = iframe_rate_problems(
        declared, playlist, (variant.stream_info.bandwidth, variant.stream_info.average_bandwidth)
    )
    problems += iframe_layout_problems(playlist, path.parent)
    _raise_mismatches([f"{name} {problem}" for problem in problems])
    rate = variant.stream_info.frame_rate or 25.0
    start = _first_segment_start(base / variant.uri, "video")
    found = decoded_keyframe_times(path.parent / playlist.segments[0].uri)
    problems = iframe_timing_problems(playlist, found, start=start, frame_seconds=1 / rate)
    _raise_mismatches([f"{name} {problem}" for problem in problems])


def _byterange(text: str | None) -> tuple[int, int] | None:
    """``"length@offset"`` → (offset, length); None without an explicit offset (we always write one)."""
    length, _at, offset = (text or "").partition("@")
    return (int(offset), int(length)) if offset and length else None


def iframe_rate_problems(declared: tuple[int | None, int | None], playlist: m3u8.M3U8, variant) -> list[str]:
    """Declared (BANDWIDTH, AVERAGE-BANDWIDTH) vs what the entries' byte ranges measure, and vs the variant's
    (BANDWIDTH, AVERAGE-BANDWIDTH): the average must be below the variant's. Only the average: the variant's peak
    is taken over 6-s segments and the I-frame stream's over single keyframes, so on a still slide (keyframes and
    almost nothing between) an honest I-frame peak may pass the variant's (pure)."""
    ranges = [(_byterange(s.byterange) or (0, 0))[1] for s in playlist.segments]
    measured = range_bandwidths(
        [(length, s.duration or 0) for length, s in zip(ranges, playlist.segments, strict=True)]
    )
    problems = []
    for label, said, true, ceiling in zip(("bandwidth", "average_bandwidth"), declared, measured, variant, strict=True):
        if said is None or abs(said - true) > 1:
            problems.append(_mismatch(label, true, said))
        elif label == "average_bandwidth" and ceiling and true >= ceiling:
            problems.append(_mismatch(label, f"< {ceiling}", true))
    return problems


def iframe_layout_problems(playlist: m3u8.M3U8, folder: Path) -> list[str]:
    """Entries must tile one file after its init range, each starting with a moof: then a player fetching one
    range gets exactly that fragment, nothing of another keyframe (file reads, no decoding)."""
    if not playlist.is_i_frames_only:
        return [_mismatch("EXT-X-I-FRAMES-ONLY", _("有"), _("没有"))]
    init = playlist.segments[0].init_section if playlist.segments else None
    uris = {s.uri for s in playlist.segments} | {init.uri if init else None}
    at = _byterange(init.byterange if init else None)
    if len(uris) != 1 or at is None or at[0] != 0:
        return [_mismatch("layout", _("初始化段与各帧在同一文件中"), ", ".join(sorted(str(u) for u in uris)))]
    (uri,) = uris
    end = at[1]
    with (folder / uri).open("rb") as handle:
        for number, segment in enumerate(playlist.segments):
            entry = _byterange(segment.byterange)
            handle.seek(entry[0] if entry else 0)
            if entry is None or entry[0] != end or handle.read(8)[4:8] != b"moof":
                return [_mismatch(f"#{number} byterange", f"moof@{end}", segment.byterange)]
            end = entry[0] + entry[1]
    return []


def decoded_keyframe_times(path: Path) -> list[tuple[float, bool]]:
    """Every frame ffprobe decodes from the I-frame file: (presentation time, is a keyframe)."""
    args = [settings.FFPROBE_BINARY, "-v", "error", "-select_streams", "v:0", "-show_entries"]
    args += ["frame=pts_time,key_frame", "-of", "json", str(path)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise _failure(_mismatch(path.name, _("可读的媒体文件"), _last_line(done.stderr)))
    frames = json.loads(done.stdout or "{}").get("frames", [])
    return [(float(f.get("pts_time") or "nan"), f.get("key_frame") == 1) for f in frames]


def iframe_timing_problems(
    playlist: m3u8.M3U8, found: list[tuple[float, bool]], *, start: float, frame_seconds: float
) -> list[str]:
    """One decoded keyframe per entry, the Nth at ``start`` + the EXTINFs before entry N (± one frame) (pure)."""
    if len(found) != len(playlist.segments):
        return [_mismatch("frames", len(playlist.segments), len(found))]
    expected = start
    for number, (segment, (seconds, key)) in enumerate(zip(playlist.segments, found, strict=True)):
        if not key or not abs(seconds - expected) <= frame_seconds + 1e-3:
            return [_mismatch(f"#{number} frame", f"{expected:.3f} s", f"{seconds:.3f} s")]
        expected += segment.duration or 0
    return []


def _is_audio_only(playlist) -> bool:
    codecs = playlist.stream_info.codecs or ""
    return not playlist.stream_info.resolution and not any(name in codecs for name in ("avc1", "hvc1", "hev1"))


def _verify_av_offset(video_playlist: Path, audio_playlist: Path, expected: float) -> None:
    """The audio rung's first sample starts ``expected`` seconds after the video's first frame (± tolerance)."""
    video_start = _first_segment_start(video_playlist, "video")
    audio_start = _first_segment_start(audio_playlist, "audio")
    found = audio_start - video_start
    if abs(found - expected) > AV_OFFSET_TOLERANCE_SECONDS:
        _raise_mismatches([_mismatch("av_offset", f"{expected:.3f} s", f"{found:.3f} s")])


def _first_segment_start(playlist_path: Path, codec_type: str) -> float:
    """When a playlist's first segment starts, for its first stream of ``codec_type`` (init + segment probed)."""
    playlist = _load_playlist(playlist_path)
    first = playlist.segments[0]
    parts = [first.init_section.uri] if first.init_section else []
    with tempfile.TemporaryDirectory() as scratch:
        joined = Path(scratch) / "first.mp4"
        joined.write_bytes(b"".join((playlist_path.parent / part).read_bytes() for part in [*parts, first.uri]))
        return _stream_start(_probe(joined), codec_type)


def check_media_playlist(path: Path, *, expect_duration: float, tolerance: float) -> list[str]:
    """Problems with one media playlist (VOD, ENDLIST, segment durations, files on disk); [] when it is fine."""
    name = path.parent.name + "/" + path.name
    if not path.is_file():
        return [_mismatch(name, _("存在"), _("缺失"))]
    playlist = _load_playlist(path)
    problems = playlist_problems(playlist, expect_duration=expect_duration, tolerance=tolerance)
    problems += _missing_files(playlist, path.parent)
    return [f"{name} {problem}" for problem in problems]


def playlist_problems(playlist: m3u8.M3U8, *, expect_duration: float, tolerance: float) -> list[str]:
    """The text-only checks of a media playlist (pure)."""
    problems = []
    if (playlist.playlist_type or "").lower() != "vod":
        problems.append(_mismatch("playlist_type", "VOD", playlist.playlist_type or _("没有")))
    if not playlist.is_endlist:
        problems.append(_mismatch("endlist", "EXT-X-ENDLIST", _("没有")))
    if not playlist.segments:
        problems.append(_mismatch("segments", "≥ 1", 0))
    total = sum(segment.duration or 0 for segment in playlist.segments)
    if abs(total - expect_duration) > tolerance:
        problems.append(_mismatch("duration", f"{expect_duration:.3f}", f"{total:.3f}"))
    longest = max((round(segment.duration or 0) for segment in playlist.segments), default=0)
    # RFC 8216 4.3.3.1: every EXTINF, rounded to the nearest integer, must be ≤ EXT-X-TARGETDURATION.
    if playlist.target_duration is None or longest > playlist.target_duration:
        problems.append(_mismatch("target_duration", f"≥ {longest}", playlist.target_duration))
    return problems


def _missing_files(playlist: m3u8.M3U8, folder: Path) -> list[str]:
    """Segments and init sections that are absent, empty, or shorter than their byte range."""
    problems, ends = [], {}
    uris = [(s.init_section.uri, None) for s in playlist.segments if s.init_section and s.init_section.uri]
    uris += [(segment.uri, segment.byterange) for segment in playlist.segments]
    for uri, byterange in uris:
        if not is_plain_file_name(uri):
            # Delivery only serves files beside their playlist; anything else would 404 for every viewer.
            problems.append(_mismatch(uri, _("播放列表同目录下的文件名"), uri))
            continue
        file = folder / uri
        size = file.stat().st_size if file.is_file() else 0
        if size == 0:
            problems.append(_mismatch(uri, _("非空文件"), _("缺失或为空")))
            continue
        if byterange:
            # "length@offset"; without an offset the range continues where the last one on this file ended.
            length, _at, offset = byterange.partition("@")
            start = int(offset) if offset else ends.get(uri, 0)
            ends[uri] = start + int(length)
            if ends[uri] > size:
                problems.append(_mismatch(f"{uri} byterange", f"≤ {size} B", ends[uri]))
    return list(dict.fromkeys(problems))


def _verify_first_segment(playlist_path: Path, resolution: tuple[int, int], colour: str | None = None) -> None:
    """Decode-level check of one variant: init + first segment are 8-bit SDR H.264 of the size the master
    announces (and tagged ``colour`` when given)."""
    playlist = _load_playlist(playlist_path)
    first = playlist.segments[0]
    init = first.init_section.uri if first.init_section else None
    with tempfile.TemporaryDirectory() as scratch:
        joined = Path(scratch) / "first.mp4"
        parts = [init] if init else []
        joined.write_bytes(b"".join((playlist_path.parent / part).read_bytes() for part in [*parts, first.uri]))
        found = video_facts(_probe(joined))
    expect = {"video_codec": "h264", "width": resolution[0], "height": resolution[1], "sdr": True}
    if colour is not None:
        expect["colour"] = colour
    mismatches = compare_facts(expect, found, duration_tolerance=0)
    _raise_mismatches([f"{playlist_path.parent.name}/{first.uri} {line}" for line in mismatches])


def _load_playlist(path: Path) -> m3u8.M3U8:
    # Read the file ourselves: m3u8.load() would fetch over HTTP if a URI ever were absolute.
    try:
        return m3u8.loads(path.read_text(encoding="utf-8"), uri=str(path))
    except (OSError, UnicodeDecodeError, ValueError, IndexError) as exc:
        raise _failure(_mismatch(path.name, _("可读的播放列表"), str(exc))) from exc


# --- Loudness --------------------------------------------------------------------------------------------


def verify_loudness(
    *,
    path: Path,
    target_lufs: float,
    max_true_peak: float,
    tolerance: float = 1.0,
    duration: float = 0.0,
    on_progress: ProgressCallback | None = None,
) -> None:
    """Measure the first audio track with ``ebur128`` (``loudness.loudness_check_command``); raise if off
    target by more than ``tolerance`` LU or if its true peak is above ``max_true_peak`` dBTP. ``duration``
    only scales the progress reports."""
    result = run_ffmpeg(loudness_check_command(path=path), duration=duration, on_progress=on_progress)
    check_run(result)
    integrated, true_peak = ebur128_summary(result.log_tail)
    _raise_mismatches(loudness_problems(integrated, true_peak, target_lufs, max_true_peak, tolerance))


def ebur128_summary(log: str) -> tuple[float, float]:
    """``loudness.parse_ebur128_summary``, but a log without a summary fails the check (pure)."""
    try:
        return parse_ebur128_summary(log)
    except ValueError:
        raise _failure(_mismatch("ebur128", _("响度测量结果"), _last_line(log) or _("没有输出"))) from None


def loudness_problems(
    integrated: float, true_peak: float, target_lufs: float, max_true_peak: float, tolerance: float
) -> list[str]:
    """What is wrong with a measurement against its target (pure)."""
    problems = []
    if abs(integrated - target_lufs) > tolerance:
        problems.append(
            _mismatch("integrated_loudness", f"{target_lufs:g} ± {tolerance:g} LUFS", f"{integrated:g} LUFS")
        )
    if true_peak > max_true_peak + TRUE_PEAK_MARGIN_DB:
        problems.append(_mismatch("true_peak", f"≤ {max_true_peak:g} dBTP", f"{true_peak:g} dBTP"))
    return problems


# --- Shared pieces ---------------------------------------------------------------------------------------


def _probe(path: Path) -> dict:
    # Our own output unreadable is a failed encode, reported as such rather than as a bad upload.
    try:
        return ffprobe_json(path)
    except ProbeError as exc:
        raise _failure(_mismatch(path.name, _("可读的媒体文件"), exc.reason or exc.message)) from exc


def _check_keys(expect: dict, known: frozenset) -> None:
    unknown = set(expect) - known
    if unknown:
        # A typo in the caller would otherwise silently skip a check.
        raise ValueError(f"unknown expectations: {', '.join(sorted(unknown))}")


def _mismatch(name: str, expected, found) -> str:
    return _("%(name)s：期望 %(expected)s，实际 %(found)s") % {"name": name, "expected": expected, "found": found}


def _failure(reason: str) -> VerifyError:
    return VerifyError(_("转码结果未通过检查，请联系管理员"), reason)


def _raise_mismatches(mismatches: list[str]) -> None:
    if mismatches:
        raise _failure("；".join(mismatches))


def _shown(name: str, value):
    if name == "frame_rate" and isinstance(value, tuple):
        return f"r={value[0]:g}, avg={value[1]:g}"
    return "none" if value in (None, "") else value


def _stream_start(data: dict, codec_type: str) -> float:
    try:
        return float(_first_stream(data, codec_type).get("start_time") or 0)
    except ValueError:
        return 0.0


def _first_stream(data: dict, codec_type: str) -> dict:
    streams = (s for s in data.get("streams", []) if s.get("codec_type") == codec_type)
    return next((s for s in streams if not s.get("disposition", {}).get("attached_pic")), {})


def _rate(value: str | None) -> float:
    try:
        return float(Fraction(value or "0/1"))
    except (ValueError, ZeroDivisionError):
        return 0.0


def _format_duration(data: dict) -> float:
    try:
        return float(data.get("format", {}).get("duration") or 0)
    except ValueError:
        return 0.0


def _level_number(level) -> int:
    # Profiles say "4.0"; ffprobe says 40.
    return round(float(level) * 10) if isinstance(level, str | float) else int(level)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""
