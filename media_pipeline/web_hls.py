"""The phone/web step: the whole adaptive ladder from one ffmpeg process, then our own master playlist.

Long sources go through ``chunking.py`` (chunks encoded by several workers, joined without re-encoding).
"""

from pathlib import Path

from . import hls
from .commands import hls_ladder_command
from .ladder import plan_variants
from .profiles import HlsProfile
from .runner import check_run, run_ffmpeg
from .steps import Output, StepContext


def produce(ctx: StepContext, profile: HlsProfile) -> list[Output]:
    probe = ctx.probe
    hls_dir = ctx.out_dir / profile.name
    args = hls_ladder_command(profile=profile, probe=probe, source=ctx.source, out_dir=hls_dir)
    check_run(run_ffmpeg(args, duration=probe.duration, on_progress=ctx.on_progress))
    variants = plan_variants(profile, probe)
    stats = hls.write_master(hls_dir, variants, frame_rate=min(probe.fps, profile.max_frame_rate))
    top = next((s for s in stats if s.variant.has_video), stats[0])
    return [
        Output(
            profile=profile.name,
            kind="hls",
            path=f"{profile.name}/{hls.MASTER_NAME}",
            files=_files_under(ctx.out_dir, hls_dir),
            width=top.variant.width or None,
            height=top.variant.height or None,
            bandwidth=max(s.peak_bandwidth for s in stats),
            duration=probe.duration,
            meta={"variants": [s.variant.name for s in stats]},
        )
    ]


def _files_under(out_dir: Path, folder: Path) -> tuple[str, ...]:
    return tuple(sorted(p.relative_to(out_dir).as_posix() for p in folder.rglob("*") if p.is_file()))
