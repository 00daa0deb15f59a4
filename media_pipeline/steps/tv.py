"""TV set-top boxes: one 1080p progressive rung, as a faststart MP4 and as single-rung HLS.

The MP4 is encoded once; the HLS copy is packaged from it with ``-c copy`` (no second encode). Its master
playlist comes from ``master_playlist.py``, measured from the segments on disk like the web ladder's, and names
an I-frame playlist for trick play (``iframes.py``: the keyframes copied into a rendition of their own).

Frame-rate policy (``tv_frame_rate``): a box decodes any rate H.264 level 4.0 carries at 1080p (≤ 30 fps) and
does its own display pulldown, so 15, 18, 23.976, 24, 25, 29.97 and 30 fps are kept exactly as they are; a
faster source (50, 59.94, 60) is halved — every other frame dropped, evenly — to 25, 29.97, 30. Converting
23.976 or 15 to 25 instead would repeat a frame every second (or every other one): visible judder.
"""

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import ffmpeg
from django.utils.translation import gettext as _

from ..errors import BadInputError
from ..ffmpeg.colour import apply_filters, sdr_filters
from ..ffmpeg.commands import GLOBAL_ARGS, INIT_NAME, PLAYLIST_NAME, SEGMENT_PATTERN
from ..ffmpeg.encoders import X264, constant_rate_options, encoder_in_force
from ..ffmpeg.ladder import Variant
from ..ffmpeg.loudness import normalised_audio
from ..ffmpeg.probe import ProbeResult
from ..ffmpeg.runner import check_run, run_ffmpeg
from .contract import LoudnessMeasurement, Output, ProgressCallback, StepContext
from .master_playlist import MASTER_NAME, write_master
from .profiles import TvProfile

# Share of this step's progress that the MP4 encode takes; packaging HLS by copy is quick.
ENCODE_SHARE = 0.95
HLS_DIR = "hls"
HD_MIN_SHORT_SIDE = 720  # below this a source is SD, whose untagged colours are BT.601 by convention


# Rates a source is recognised as (within 0.1 %), so 23.976… becomes exactly 24000/1001.
STANDARD_RATES = tuple(
    Fraction(rate) for rate in ("15", "18", "24000/1001", "24", "25", "30000/1001", "30", "50", "60000/1001", "60")
)
STANDARD_RATE_TOLERANCE = 0.001


def source_rate(fps: float, nominal_fps: float = 0.0) -> Fraction:
    """The source's frame rate as an exact fraction: the standard rate its average (else its nominal rate, for a
    variable-rate clip) is within 0.1 % of; otherwise the average to 1/1001."""
    for value in (fps, nominal_fps):
        for rate in STANDARD_RATES:
            if abs(value - float(rate)) <= STANDARD_RATE_TOLERANCE * float(rate):
                return rate
    return Fraction(fps).limit_denominator(1001)


def tv_frame_rate(profile: TvProfile, probe: ProbeResult) -> Fraction:
    """The TV edition's frame rate (see the module's docstring): the source's, halved while above the maximum."""
    rate = source_rate(probe.fps, probe.nominal_fps) if probe.fps > 0 else Fraction(profile.frame_rate)
    while rate > profile.max_frame_rate:
        rate /= 2
    return rate


def fitted_size(width: int, height: int, frame_width: int, frame_height: int) -> tuple[int, int]:
    """Largest even size of the source's displayed shape inside the frame (upscaling allowed)."""
    scale = min(frame_width / width, frame_height / height)
    return min(frame_width, _even(width * scale)), min(frame_height, _even(height * scale))


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def _picture(source_input, profile: TvProfile, probe: ProbeResult):
    video = source_input["v:0"]
    if profile.deinterlace and probe.interlaced:
        # One output frame per input frame (send_frame): the fps filter below sets the rate anyway.
        video = video.filter("bwdif", mode="send_frame")
    video = video.filter("fps", str(tv_frame_rate(profile, probe)))
    # HDR (PQ/HLG, BT.2020) is tone-mapped to SDR BT.709 here: the tags below used to relabel it only.
    video = _scaled(apply_filters(video, sdr_filters(probe.colour)), profile, probe)
    # The rest of the frame is black bars, centred: letterbox for wide, pillarbox for portrait and 4:3.
    return (
        video.filter("pad", profile.width, profile.height, "(ow-iw)/2", "(oh-ih)/2", color="black")
        .filter("setsar", 1)
        .filter("format", profile.pixel_format)
    )


def _scaled(video, profile: TvProfile, probe: ProbeResult):
    if not (probe.width and probe.height):
        # Shape unknown: let scale keep the stored shape (never stretch), even sizes for 4:2:0.
        fit = {"force_original_aspect_ratio": "decrease", "force_divisible_by": 2}
        return video.filter("scale", profile.width, profile.height, **fit)
    # The size is computed from the probe's *displayed* shape (rotation and non-square pixels applied):
    # scale's force_original_aspect_ratio would fit the stored pixels and stretch anamorphic video.
    width, height = fitted_size(probe.width, probe.height, profile.width, profile.height)
    return video.filter("scale", width, height, **_colour_conversion(probe))


def _colour_conversion(probe: ProbeResult) -> dict:
    """SD → BT.709 matrix; HD is left as it is (untagged HD is BT.709 by convention already).

    HD boxes decode untagged video as BT.709. Untagged SD video is BT.601 by convention, which is also
    what scale assumes for untagged input, so converting it keeps the colours; for HD sources the same
    assumption would be wrong (and tagged ones are rarely anything but BT.709), so they are not converted.
    An HDR or BT.2020 source reaches scale already converted to BT.709 (``colour.sdr_filters``), and scale
    reads that from the frames: its SD conversion is then BT.709 to BT.709, nothing.
    """
    return {"out_color_matrix": "bt709"} if min(probe.width, probe.height) < HD_MIN_SHORT_SIDE else {}


def _video_options(profile: TvProfile, encoder: str) -> dict:
    options = {
        "pix_fmt": profile.pixel_format,
        "b:v": profile.video_bitrate,
        "maxrate": profile.maxrate,
        "bufsize": profile.bufsize,
        # Say what _colour_conversion made sure of, so no box has to guess.
        "colorspace": "bt709",
        "color_primaries": "bt709",
        "color_trc": "bt709",
    }
    # A closed GOP of exactly gop_seconds, forced by time, no scene-cut keyframes: boxes can seek to any
    # second, and every HLS segment (a whole number of seconds) starts on a keyframe.
    options.update(constant_rate_options(encoder=encoder, profile=profile))
    return options


def _audio_options(profile: TvProfile) -> dict:
    return {
        "c:a": profile.audio_codec,
        "profile:a": "aac_low",
        "b:a": profile.audio_bitrate,
        "ar": profile.audio_sample_rate,
        "ac": profile.audio_channels,
    }


def tv_mp4_command(
    *,
    profile: TvProfile,
    probe: ProbeResult,
    source: Path,
    out_path: Path,
    loudness: LoudnessMeasurement | None,
    encoder: str = X264,
) -> list[str]:
    """Picture fitted into the 1080p25 frame, H.264 High, AAC stereo at the TV loudness, moov first.

    No audio in the source: no audio track (no invented silence). Audio-only sources are refused.
    ``encoder``: "libx264" or "h264_nvenc" (see ``ffmpeg/encoders.py``).
    """
    if not probe.has_video:
        raise BadInputError(_("纯音频文件不能生成电视版，请上传视频"), _("未找到视频流"))
    source_input = ffmpeg.input(str(source))
    streams = [_picture(source_input, profile, probe)]
    # The GOP in frames follows the rate chosen for this source (1 s is 24, 25 or 30 frames).
    options = _video_options(replace(profile, frame_rate=float(tv_frame_rate(profile, probe))), encoder)
    if probe.has_audio:
        streams.append(
            normalised_audio(
                source_input[probe.audio_map],
                target=profile.loudness,
                measured=loudness,
                source_channels=probe.audio_channels,
                output_channels=profile.audio_channels,
                sample_rate=profile.audio_sample_rate,
            )
        )
        options.update(_audio_options(profile))
    options.update({"sn": None, "dn": None, "f": "mp4"})
    if profile.faststart:
        options["movflags"] = "+faststart"
    output = ffmpeg.output(*streams, str(out_path), **options)
    return [*GLOBAL_ARGS, *output.overwrite_output().get_args()]


def variant_name(profile: TvProfile) -> str:
    """The HLS variant's folder (and URI in the master), named after the frame height: "1080p"."""
    return f"{profile.height}p"


def tv_variant(profile: TvProfile, probe: ProbeResult) -> Variant:
    """The single HLS variant as ``master_playlist.py`` measures and lists it; no audio bitrate without audio."""
    audio_bitrate = profile.audio_bitrate if probe.has_audio else 0
    return Variant(variant_name(profile), profile.width, profile.height, profile.video_bitrate, audio_bitrate)


def tv_hls_command(*, profile: TvProfile, mp4_path: Path, out_dir: Path) -> list[str]:
    """Package the MP4 as fMP4 HLS, streams copied: ``out_dir/<variant>/index.m3u8`` + init + segments.

    The GOP is 1 s, so ``hls_time`` (a whole number of seconds) always cuts on a keyframe.
    """
    variant_dir = out_dir / variant_name(profile)
    options = {
        "c": "copy",
        "f": "hls",
        "hls_time": f"{profile.hls_segment_seconds:g}",
        "hls_playlist_type": "vod",
        "hls_segment_type": "fmp4",
        "hls_flags": "independent_segments",
        "hls_fmp4_init_filename": INIT_NAME,
        "hls_segment_filename": str(variant_dir / SEGMENT_PATTERN),
    }
    output = ffmpeg.input(str(mp4_path)).output(str(variant_dir / PLAYLIST_NAME), map="0", **options)
    return [*GLOBAL_ARGS, *output.overwrite_output().get_args()]


def produce(ctx: StepContext, profile: TvProfile) -> list[Output]:
    """Encode the MP4 (~95% of the step), package it as HLS, write the HLS master; two Outputs."""
    probe = ctx.probe
    step_dir = ctx.out_dir / profile.name
    mp4_path = step_dir / f"{profile.name}.mp4"
    hls_dir = step_dir / HLS_DIR
    variant = tv_variant(profile, probe)
    (hls_dir / variant.name).mkdir(parents=True, exist_ok=True)
    encode = tv_mp4_command(
        profile=profile,
        probe=probe,
        source=ctx.source,
        out_path=mp4_path,
        loudness=ctx.loudness,
        encoder=encoder_in_force(),
    )
    check_run(run_ffmpeg(encode, duration=probe.duration, on_progress=_part(ctx.on_progress, 0.0, ENCODE_SHARE)))
    package = tv_hls_command(profile=profile, mp4_path=mp4_path, out_dir=hls_dir)
    check_run(run_ffmpeg(package, duration=probe.duration, on_progress=_part(ctx.on_progress, ENCODE_SHARE, 1.0)))
    rate = float(tv_frame_rate(profile, probe))
    [stats] = write_master(hls_dir, [variant], frame_rate=rate, iframes=profile.iframe_playlists)
    return [_mp4_output(ctx, profile, mp4_path, stats), _hls_output(ctx, profile, hls_dir, stats)]


def _part(on_progress: ProgressCallback, start: float, end: float) -> ProgressCallback:
    """Map one command's 0..1 onto [start, end] of the step's progress (and pass "stop" back)."""
    return lambda fraction: on_progress(start + (end - start) * fraction)


def _relative(ctx: StepContext, path: Path) -> str:
    return path.relative_to(ctx.out_dir).as_posix()


def _mp4_output(ctx: StepContext, profile: TvProfile, mp4_path: Path, stats) -> Output:
    has_audio = ctx.probe.has_audio
    return Output(
        profile=profile.name,
        kind=profile.kind,
        path=_relative(ctx, mp4_path),
        width=profile.width,
        height=profile.height,
        bandwidth=stats.peak_bandwidth,  # the same stream as the HLS variant: its busiest segment
        duration=ctx.probe.duration,
        meta={
            "codecs": stats.codecs,
            "frame_rate": round(float(tv_frame_rate(profile, ctx.probe)), 3),
            "average_bandwidth": stats.average_bandwidth,
            "audio": has_audio,
            "loudness_target": profile.loudness.integrated if has_audio and ctx.loudness is not None else None,
            "true_peak_target": profile.loudness.true_peak,
        },
    )


def _hls_output(ctx: StepContext, profile: TvProfile, hls_dir: Path, stats) -> Output:
    files = sorted(_relative(ctx, path) for path in hls_dir.rglob("*") if path.is_file())
    return Output(
        profile=f"{profile.name}_hls",
        kind="hls",
        path=_relative(ctx, hls_dir / MASTER_NAME),
        files=tuple(files),
        width=profile.width,
        height=profile.height,
        bandwidth=stats.peak_bandwidth,
        duration=ctx.probe.duration,
        meta={
            "codecs": stats.codecs,
            "average_bandwidth": stats.average_bandwidth,
            "frame_rate": round(float(tv_frame_rate(profile, ctx.probe)), 3),
        },
    )
