"""Pure functions: profile + probe result in, ffmpeg argument list out (without the binary's name).

Built with ffmpeg-python so the filter graph is assembled from parts rather than string-pasted; tested by
the arguments they return. ``runner.py`` executes them.
"""

from pathlib import Path

import ffmpeg

from .ladder import Variant, fit_within, plan_variants
from .probe import ProbeResult
from .profiles import HlsProfile, PosterProfile

PLAYLIST_NAME = "index.m3u8"
SEGMENT_PATTERN = "seg_%05d.m4s"
INIT_NAME = "init.mp4"  # ffmpeg appends the variant number: init_0.mp4, init_1.mp4, …
# Machine-readable progress on stdout; the human log on stderr kept short (warnings and errors).
GLOBAL_ARGS = ("-hide_banner", "-nostats", "-loglevel", "warning", "-progress", "pipe:1")


def hls_ladder_command(*, profile: HlsProfile, probe: ProbeResult, source: Path, out_dir: Path) -> list[str]:
    """ONE ffmpeg process for the whole ladder: decode once, split, scale, encode every rung, write HLS.

    Output: ``out_dir/<variant name>/index.m3u8`` with fMP4 segments beside it. The master playlist is
    written afterwards by ``hls.py`` from measured bitrates.
    """
    variants = plan_variants(profile, probe)
    source_input = ffmpeg.input(str(source))
    streams, options = [], {}
    video_outs = _video_streams(source_input, profile, probe, [v for v in variants if v.has_video])
    audio_outs = _audio_streams(source_input, profile, sum(1 for v in variants if v.has_audio))
    stream_map, video_index, audio_index = [], 0, 0
    for variant in variants:
        entry = []
        if variant.has_video:
            streams.append(video_outs[video_index])
            options.update(_video_rate_options(profile, variant, video_index))
            entry.append(f"v:{video_index}")
            video_index += 1
        if variant.has_audio:
            streams.append(audio_outs[audio_index])
            options[f"b:a:{audio_index}"] = variant.audio_bitrate
            entry.append(f"a:{audio_index}")
            audio_index += 1
        stream_map.append(",".join([*entry, f"name:{variant.name}"]))
    if video_index:
        options.update(_video_codec_options(profile, probe))
    if audio_index:
        options.update(_audio_codec_options(profile))
    options.update(_hls_options(profile, out_dir))
    options["var_stream_map"] = " ".join(stream_map)
    output = ffmpeg.output(*streams, str(out_dir / "%v" / PLAYLIST_NAME), **options)
    return [*GLOBAL_ARGS, *output.overwrite_output().get_args()]


def _video_streams(source_input, profile: HlsProfile, probe: ProbeResult, variants: list[Variant]) -> list:
    if not variants:
        return []
    video = source_input["v:0"]
    if probe.fps > profile.max_frame_rate:
        video = video.filter("fps", profile.max_frame_rate)
    # split (not one decode per rung): the saving measured in reference.md is exactly the extra decodes.
    branches = video.filter_multi_output("split", len(variants)) if len(variants) > 1 else None
    outs = []
    for index, variant in enumerate(variants):
        branch = branches[index] if branches is not None else video
        outs.append(
            branch.filter("scale", variant.width, variant.height)
            .filter("setsar", 1)  # square pixels on every rung (no 854×480-style anamorphic output)
            .filter("format", profile.pixel_format)
        )
    return outs


def _audio_streams(source_input, profile: HlsProfile, count: int) -> list:
    if not count:
        return []
    audio = source_input["a:0"].filter("aresample", profile.audio_sample_rate)
    if count == 1:
        return [audio]
    branches = audio.filter_multi_output("asplit", count)
    return [branches[index] for index in range(count)]


def _video_rate_options(profile: HlsProfile, variant: Variant, index: int) -> dict:
    return {
        f"b:v:{index}": variant.video_bitrate,
        f"maxrate:v:{index}": int(variant.video_bitrate * profile.maxrate_factor),
        f"bufsize:v:{index}": int(variant.video_bitrate * profile.bufsize_factor),
    }


def _video_codec_options(profile: HlsProfile, probe: ProbeResult) -> dict:
    fps = min(probe.fps or 25.0, profile.max_frame_rate)
    gop_frames = max(1, round(fps * profile.gop_seconds))
    return {
        "c:v": profile.video_codec,
        "profile:v": profile.video_profile,
        "preset": profile.preset,
        # Keyframes at the same instants on every rung (time-based, so variable frame rate agrees too),
        # no scene-cut keyframes in between, closed GOPs so each segment decodes on its own.
        "force_key_frames": f"expr:gte(t,n_forced*{profile.gop_seconds:g})",
        "g": gop_frames,
        "keyint_min": gop_frames,
        "sc_threshold": 0,
        "flags": "+cgop",
    }


def _audio_codec_options(profile: HlsProfile) -> dict:
    return {"c:a": profile.audio_codec, "ar": profile.audio_sample_rate, "ac": profile.audio_channels}


def _hls_options(profile: HlsProfile, out_dir: Path) -> dict:
    return {
        "f": "hls",
        "hls_time": f"{profile.segment_seconds:g}",
        "hls_playlist_type": "vod",
        "hls_segment_type": profile.container,
        "hls_flags": "independent_segments",
        "hls_fmp4_init_filename": INIT_NAME,
        "hls_segment_filename": str(out_dir / "%v" / SEGMENT_PATTERN),
    }


def poster_command(*, profile: PosterProfile, probe: ProbeResult, source: Path, out_path: Path) -> list[str]:
    """One JPEG from the first seconds, picked by the `thumbnail` filter (it passes over black/blank frames)."""
    scan = min(profile.scan_seconds, probe.duration) if probe.duration else profile.scan_seconds
    width, height = fit_within(probe.width, probe.height, profile.max_width, profile.max_height)
    picture = (
        ffmpeg.input(str(source), t=f"{scan:.3f}")["v:0"]
        .filter("thumbnail", profile.scan_frames)
        .filter("scale", width, height)
        .filter("setsar", 1)
    )
    output = ffmpeg.output(picture, str(out_path), **{"frames:v": 1, "q:v": profile.quality, "update": 1})
    return [*GLOBAL_ARGS, *output.overwrite_output().get_args()]
