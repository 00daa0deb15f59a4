"""Pure functions: profile + probe result in, ffmpeg argument list out (without the binary's name).

Built with ffmpeg-python so the filter graph is assembled from parts rather than string-pasted; tested by
the arguments they return. ``runner.py`` executes them.
"""

from collections.abc import Sequence
from pathlib import Path

import ffmpeg

from ..steps.profiles import HlsProfile
from .colour import apply_filters, output_tags, sdr_filters
from .encoders import X264, keyframe_times, video_encoder_options
from .ladder import Variant, plan_variants
from .probe import ProbeResult

PLAYLIST_NAME = "index.m3u8"
SEGMENT_PATTERN = "seg_%05d.m4s"
INIT_NAME = "init.mp4"  # ffmpeg appends the variant number: init_0.mp4, init_1.mp4, …
# Machine-readable progress on stdout; the human log on stderr kept short (warnings and errors).
GLOBAL_ARGS = ("-hide_banner", "-nostats", "-loglevel", "warning", "-progress", "pipe:1")


# One filter of the audio chain: (ffmpeg filter name, its options), e.g. ("loudnorm", {"I": "-16", …}).
AudioFilter = tuple[str, dict]
# Float tolerance when checking that a chunk starts on a keyframe instant.
_GOP_EPSILON = 1e-6


def hls_ladder_command(
    *,
    profile: HlsProfile,
    probe: ProbeResult,
    source: Path,
    out_dir: Path,
    variants: Sequence[Variant] | None = None,
    start: float = 0.0,
    length: float | None = None,
    first_segment: int = 0,
    source_timeline: bool = False,
    audio_filters: Sequence[AudioFilter] = (),
    encoder: str = X264,
) -> list[str]:
    """ONE ffmpeg process for the whole ladder: decode once, split, scale, encode every rung, write HLS.

    Output: ``out_dir/<variant name>/index.m3u8`` with fMP4 segments beside it. The master playlist is
    written afterwards by ``steps/master_playlist.py`` from measured bitrates.

    The defaults encode the whole source as ``plan_variants`` plans it. The other options let
    ``steps/chunked_ladder.py`` encode one slice of a long source, or its audio alone:

    - ``variants``: encode these instead of the plan (video-only rungs for a chunk, audio-only for the audio);
    - ``start``/``length``: seek on the INPUT side (``-ss``/``-t`` before ``-i``). Since ffmpeg 2.1 this is
      frame-accurate when re-encoding: the demuxer jumps to the keyframe before ``start`` and the decoded
      frames before it are dropped, so a chunk gets exactly the frames in [start, start + length). An
      output-side ``-ss`` would be just as exact but decodes everything before ``start``: the last chunk
      of a two-hour film would decode the whole film first. ``start`` must be a multiple of the GOP, so the
      time-based ``force_key_frames`` (it counts from the chunk's first frame) hits the same instants as a
      whole-source run;
    - ``first_segment``: number of the first segment (``-start_number``), so every chunk's segment files
      and ``EXT-X-MEDIA-SEQUENCE`` continue the previous chunk's;
    - ``source_timeline``: keep the source's timestamps in the fragments (see ``_timeline_options``);
    - ``audio_filters``: extra filters on the audio, before it is resampled to the profile's rate (e.g.
      loudnorm, which outputs 192 kHz);
    - ``encoder``: "libx264" or "h264_nvenc" (``encoders.encoder_in_force()`` says which a run may use).
    """
    if variants is None:
        variants = plan_variants(profile, probe)
    _check_on_keyframe(profile, start)
    source_input = ffmpeg.input(str(source), **_window_options(start, length))
    streams, options = [], {}
    video_outs = _video_streams(source_input, profile, probe, [v for v in variants if v.has_video])
    audio_count = sum(1 for v in variants if v.has_audio)
    audio_outs = _audio_streams(source_input[probe.audio_map], profile, audio_count, audio_filters)
    stream_map, video_index, audio_index = [], 0, 0
    for variant in variants:
        entry = []
        if variant.has_video:
            streams.append(video_outs[video_index])
            options.update(_video_rate_options(profile, variant, video_index))
            options.update(_gop_options(profile, probe, variant, video_index))
            entry.append(f"v:{video_index}")
            video_index += 1
        if variant.has_audio:
            streams.append(audio_outs[audio_index])
            options[f"b:a:{audio_index}"] = variant.audio_bitrate
            entry.append(f"a:{audio_index}")
            audio_index += 1
        stream_map.append(",".join([*entry, f"name:{variant.name}"]))
    if video_index:
        options.update(_video_codec_options(profile, probe, encoder))
        options.update(output_tags(probe.colour))
    if audio_index:
        options.update(_audio_codec_options(profile))
    options.update(_hls_options(profile, out_dir, first_segment))
    if source_timeline:
        options.update(_timeline_options(start))
    options["var_stream_map"] = " ".join(stream_map)
    output = ffmpeg.output(*streams, str(out_dir / "%v" / PLAYLIST_NAME), **options)
    return [*GLOBAL_ARGS, *output.overwrite_output().get_args()]


def _check_on_keyframe(profile: HlsProfile, start: float) -> None:
    gops = start / profile.gop_seconds
    if abs(gops - round(gops)) > _GOP_EPSILON:
        raise ValueError(f"a slice must start on a keyframe instant (a multiple of {profile.gop_seconds:g} s)")


def _window_options(start: float, length: float | None) -> dict:
    options = {"ss": _seconds(start)} if start > 0 else {}
    if length is not None:
        options["t"] = _seconds(length)
    return options


def _timeline_options(start: float) -> dict:
    """Fragments that carry the source's own times, so slices encoded apart line up when joined.

    Measured with ffmpeg 5.1's HLS/fMP4 muxer: by default it shifts the first timestamp to zero (the
    B-frames' negative decode time) and counts every fragment's decode time (``tfdt``) from the first
    packet, moving any offset into the init segment's edit list. So: ``-output_ts_offset`` puts the slice
    back at ``start``; ``-avoid_negative_ts disabled`` stops the shift (the first slice and the audio then
    start exactly at 0, and the edit list skips the B-frame delay or the AAC priming instead);
    ``frag_discont`` makes the mov muxer take ``tfdt`` from the packets' own times. Each segment's
    ``tfdt`` then equals the whole-source run's, and every slice writes a byte-identical init segment.
    """
    options = {"avoid_negative_ts": "disabled"}
    if start > 0:
        options["output_ts_offset"] = _seconds(start)
        options["hls_segment_options"] = "movflags=+frag_discont"
    return options


def _seconds(value: float) -> str:
    return f"{value:.3f}"


# Above this a source is "high frame rate" (50, 59.94, 60): 30 fps and below is kept on every rung.
HIGH_FRAME_RATE = 31.0


def rung_frame_rate(profile: HlsProfile, probe: ProbeResult, variant: Variant) -> float:
    """The frame rate a video rung is encoded at (pure): the source's (capped by the profile), halved for a
    high-frame-rate source on rungs below ``profile.high_frame_rate_min_short_side``."""
    fps = min(probe.fps or 25.0, profile.max_frame_rate)
    if fps > HIGH_FRAME_RATE and min(variant.width, variant.height) < profile.high_frame_rate_min_short_side:
        return fps / 2
    return fps


def _video_streams(source_input, profile: HlsProfile, probe: ProbeResult, variants: list[Variant]) -> list:
    if not variants:
        return []
    video = source_input["v:0"]
    if profile.deinterlace and probe.interlaced:
        # One progressive frame per frame (send_frame): the rate stays the source's, the ladder's GOP holds.
        video = video.filter("bwdif", mode="send_frame")
    if probe.fps > profile.max_frame_rate:
        video = video.filter("fps", profile.max_frame_rate)
    # HDR → SDR BT.709 once, before the split (after fps, so dropped frames are never tone-mapped).
    video = apply_filters(video, sdr_filters(probe.colour))
    # split (not one decode per rung): the saving measured in reference.md is exactly the extra decodes.
    branches = video.filter_multi_output("split", len(variants)) if len(variants) > 1 else None
    outs = []
    for index, variant in enumerate(variants):
        branch = branches[index] if branches is not None else video
        if rung_frame_rate(profile, probe, variant) < min(probe.fps or 25.0, profile.max_frame_rate):
            branch = branch.filter("fps", f"{rung_frame_rate(profile, probe, variant):.6g}")
        outs.append(
            branch.filter("scale", variant.width, variant.height)
            .filter("setsar", 1)  # square pixels on every rung (no 854×480-style anamorphic output)
            .filter("format", profile.pixel_format)
        )
    return outs


def _audio_streams(audio, profile: HlsProfile, count: int, audio_filters: Sequence[AudioFilter]) -> list:
    """``audio``: the probe's main track (``ProbeResult.audio_map``), not simply the first."""
    if not count:
        return []
    for name, filter_options in audio_filters:
        audio = audio.filter(name, **filter_options)
    audio = audio.filter("aresample", profile.audio_sample_rate)
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


def _gop_options(profile: HlsProfile, probe: ProbeResult, variant: Variant, index: int) -> dict:
    """A halved rung's GOP in frames (the keyframe instants are the same: they are forced by time)."""
    fps = rung_frame_rate(profile, probe, variant)
    if fps >= min(probe.fps or 25.0, profile.max_frame_rate):
        return {}
    frames = max(1, round(fps * profile.gop_seconds))
    return {f"g:v:{index}": frames, f"keyint_min:v:{index}": frames}


def _video_codec_options(profile: HlsProfile, probe: ProbeResult, encoder: str) -> dict:
    fps = min(probe.fps or 25.0, profile.max_frame_rate)
    # Keyframes at the same instants on every rung (time-based, so variable frame rate agrees too),
    # no scene-cut keyframes in between, closed GOPs so each segment decodes on its own.
    return video_encoder_options(
        encoder=encoder,
        video_profile=profile.video_profile,
        level=None,  # the encoder picks the lowest level that fits each rung
        preset=profile.preset,
        gop_frames=max(1, round(fps * profile.gop_seconds)),
        closed_gop=True,
        keyframe_expr=keyframe_times(profile.gop_seconds),
    )


def _audio_codec_options(profile: HlsProfile) -> dict:
    return {"c:a": profile.audio_codec, "ar": profile.audio_sample_rate, "ac": profile.audio_channels}


def _hls_options(profile: HlsProfile, out_dir: Path, first_segment: int) -> dict:
    options = {
        "f": "hls",
        "hls_time": f"{profile.segment_seconds:g}",
        "hls_playlist_type": "vod",
        "hls_segment_type": profile.container,
        "hls_flags": "independent_segments",
        "hls_fmp4_init_filename": INIT_NAME,
        "hls_segment_filename": str(out_dir / "%v" / SEGMENT_PATTERN),
    }
    if first_segment:
        options["start_number"] = first_segment
    return options
