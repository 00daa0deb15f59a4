"""Which check each output must pass before it is published (the checks themselves are in verify.py).

Every file an output names must exist and be non-empty; videos and audio files are probed against what
their profile promises; HLS packages are parsed playlist by playlist; loudness is measured with ebur128
and must be within ±1 LU of the profile's target.
"""

from django.utils.translation import gettext as _

from . import verify
from .profiles import LOUDNESS_TOLERANCE_LU, PROFILES, AudioEditionProfile, HlsProfile, TvProfile
from .steps import Output, StepContext


def verify_output(*, output: Output, ctx: StepContext) -> None:
    _files_present(output, ctx)
    path = ctx.out_dir / output.path
    duration = ctx.probe.duration if ctx.probe is not None else 0.0
    profile = PROFILES.get(output.profile)
    if output.kind == "hls":
        verify.verify_hls(master_path=path, expect_duration=duration)
        audio_rung = path.parent / "audio" / "index.m3u8"
        if isinstance(profile, HlsProfile) and profile.loudness and audio_rung.exists():
            _loudness(audio_rung, profile.loudness, profile.audio_channels, ctx)
    elif output.kind == "mp4":
        audio = isinstance(profile, TvProfile) and ctx.probe.has_audio
        verify.verify_video_file(
            path=path, expect=verify.video_expectations(profile=profile, duration=duration, audio=audio)
        )
        if audio:
            _loudness(path, profile.loudness, 2, ctx)
    elif output.kind == "audio" and isinstance(profile, AudioEditionProfile):
        from .audio_edition import output_channels

        channels = output_channels(ctx.probe)
        expect = verify.audio_expectations(profile=profile, duration=duration, channels=channels)
        verify.verify_audio_file(path=path, expect=expect)
        _loudness(path, profile.loudness, channels, ctx)


def _files_present(output: Output, ctx: StepContext) -> None:
    for relative in output.all_files():
        path = ctx.out_dir / relative
        if not path.is_file() or path.stat().st_size == 0:
            raise verify.VerifyError(_("转码结果校验失败"), _("缺少文件或文件为空：%(name)s") % {"name": relative})


def _loudness(path, target, channels: int, ctx: StepContext) -> None:
    from .loudness import is_normalisable

    # Silence (or a source too quiet to measure) is left as it is, so there is no target to check against.
    if ctx.loudness is None or not is_normalisable(ctx.loudness):
        return
    verify.verify_loudness(
        path=path,
        target_lufs=target.integrated_for(channels),
        max_true_peak=target.true_peak,
        tolerance=LOUDNESS_TOLERANCE_LU,
        duration=ctx.probe.duration,
        on_progress=ctx.on_progress,  # renews the job's lease; False stops the check (job cancelled)
    )
