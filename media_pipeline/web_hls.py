"""The phone/web step: the whole adaptive ladder from one ffmpeg process, captions as WebVTT subtitle
renditions, I-frame playlists for trick play, and our own master playlist naming them all.

Long sources go through ``chunking.py`` (chunks encoded by several workers, joined without re-encoding).
"""

from dataclasses import replace
from pathlib import Path

from . import captions, hls
from .commands import hls_ladder_command
from .ladder import plan_variants
from .loudness import loudness_filters
from .profiles import CAPTIONS, HlsProfile
from .runner import check_run, run_ffmpeg
from .steps import Output, StepContext

CAPTIONS_SHARE = 0.05  # of this step's progress; the ladder encode is the rest


def produce(ctx: StepContext, profile: HlsProfile) -> list[Output]:
    probe = ctx.probe
    hls_dir = ctx.out_dir / profile.name
    filters = loudness_filters(
        target=profile.loudness,
        measured=ctx.loudness,
        source_channels=probe.audio_channels,
        output_channels=profile.audio_channels,
    )
    args = hls_ladder_command(profile=profile, probe=probe, source=ctx.source, out_dir=hls_dir, audio_filters=filters)
    check_run(run_ffmpeg(args, duration=probe.duration, on_progress=_part(ctx, 0.0, 1 - CAPTIONS_SHARE)))
    caption_outputs = _captions(ctx, profile)
    variants = plan_variants(profile, probe)
    stats = hls.write_master(
        hls_dir,
        variants,
        frame_rate=min(probe.fps, profile.max_frame_rate),
        subtitles=captions.subtitle_media(caption_outputs, master_dir=profile.name),
        iframes=profile.iframe_playlists and probe.has_video,
    )
    top = next((s for s in stats if s.variant.has_video), stats[0])
    master = Output(
        profile=profile.name,
        kind="hls",
        path=f"{profile.name}/{hls.MASTER_NAME}",
        files=_files_under(ctx.out_dir, hls_dir),
        width=top.variant.width or None,
        height=top.variant.height or None,
        bandwidth=max(s.peak_bandwidth for s in stats),
        duration=probe.duration,
        meta={"variants": [s.variant.name for s in stats], "captions": [o.meta["language"] for o in caption_outputs]},
    )
    return [master, *caption_outputs]


def _captions(ctx: StepContext, profile: HlsProfile) -> list[Output]:
    if not (profile.captions and ctx.captions):
        return []
    outputs = captions.produce(replace(ctx, on_progress=_part(ctx, 1 - CAPTIONS_SHARE, CAPTIONS_SHARE)), CAPTIONS)
    # One rendition row per language (a job publishes each profile name once).
    return [replace(output, profile=f"{CAPTIONS.name}_{output.meta['language']}") for output in outputs]


def _part(ctx: StepContext, start: float, share: float):
    return lambda fraction: ctx.on_progress(start + fraction * share)


def _files_under(out_dir: Path, folder: Path) -> tuple[str, ...]:
    return tuple(sorted(p.relative_to(out_dir).as_posix() for p in folder.rglob("*") if p.is_file()))
