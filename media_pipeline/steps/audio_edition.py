"""The audio edition ("灯塔有声"): the programme's sound as a plain M4A or MP3 file, loudness-normalised.

Only the first audio stream is used; video and cover art are dropped (``-vn``), so an MP3 with a picture
and a lecture video give the same kind of file. Mono sources stay mono (and get the mono target, −19 LUFS);
stereo and surround sources become stereo (−16 LUFS).
"""

from pathlib import Path

import ffmpeg
from django.utils.translation import gettext as _

from ..errors import BadInputError
from ..ffmpeg.commands import GLOBAL_ARGS
from ..ffmpeg.loudness import measure_channels, normalised_audio
from ..ffmpeg.probe import ProbeResult
from ..ffmpeg.runner import check_run, run_ffmpeg
from .contract import LoudnessMeasurement, Output, StepContext
from .profiles import AudioEditionProfile

# MP3: ID3v2.3 rather than ffmpeg's default 2.4 — older players and car stereos read only 2.3.
ID3V2_VERSION = 3
# An AAC source starts ~21–47 ms late by its encoder delay alone; that is not an edit to keep.
MIN_LEAD_SECONDS = 0.1


def output_channels(probe: ProbeResult) -> int:
    """Mono stays mono; everything else (stereo, 5.1, …) is delivered as stereo."""
    return measure_channels(probe)


def audio_edition_command(
    *,
    profile: AudioEditionProfile,
    probe: ProbeResult,
    source: Path,
    out_path: Path,
    loudness: LoudnessMeasurement | None,
) -> list[str]:
    """The main audio track (``ProbeResult.audio_map``) → loudnorm pass 2 (when measured) → profile rate →
    AAC-LC M4A or CBR MP3."""
    channels = output_channels(probe)
    audio = normalised_audio(
        ffmpeg.input(str(source))[probe.audio_map],
        target=profile.loudness,
        measured=loudness,
        source_channels=probe.audio_channels,
        output_channels=channels,
        sample_rate=profile.audio_sample_rate,
    )
    lead_ms = leading_silence_ms(profile, probe)
    if lead_ms:
        audio = audio.filter("adelay", delays=lead_ms, all=1)
    options = {
        "c:a": profile.audio_codec,
        "b:a": profile.audio_bitrate,
        "ar": profile.audio_sample_rate,
        "ac": channels,
        "vn": None,  # no video, no attached picture
        "sn": None,
        "dn": None,
        **_container_options(profile),
    }
    output = ffmpeg.output(audio, str(out_path), **options)
    return [*GLOBAL_ARGS, *output.overwrite_output().get_args()]


def leading_silence_ms(profile: AudioEditionProfile, probe: ProbeResult) -> int:
    """Silence an MP3 needs in front so its sound starts as late as in the source (a late-audio edit).

    M4A keeps the source's start time in its edit list, as the video outputs do; MP3 has no such field, so
    without this the sound would start at 0 and the edition would be shorter than the programme.
    """
    if profile.container != "mp3":
        return 0
    return round(probe.audio_offset * 1000) if probe.audio_offset >= MIN_LEAD_SECONDS else 0


def _container_options(profile: AudioEditionProfile) -> dict:
    if profile.container == "mp3":
        # libmp3lame with -b:a is constant bitrate (no -q:a, no ABR): every player seeks in it correctly.
        return {"f": "mp3", "id3v2_version": ID3V2_VERSION}
    # ipod muxer = .m4a; faststart puts the index first, so phones start playing while downloading.
    return {"f": "ipod", "profile:a": "aac_low", "movflags": "+faststart"}


def out_relative_path(profile: AudioEditionProfile) -> str:
    return f"{profile.name}/{profile.name}.{profile.container}"


def produce(ctx: StepContext, profile: AudioEditionProfile) -> list[Output]:
    """Encode the audio edition under ``out_dir/<profile>/``; uses the job's loudness measurement."""
    if not ctx.probe.has_audio:
        raise BadInputError(_("源文件没有声音，无法生成音频版，请上传带声音的版本"), _("未找到音频流"))
    relative = out_relative_path(profile)
    out_path = ctx.out_dir / relative
    out_path.parent.mkdir(parents=True, exist_ok=True)
    args = audio_edition_command(
        profile=profile, probe=ctx.probe, source=ctx.source, out_path=out_path, loudness=ctx.loudness
    )
    check_run(run_ffmpeg(args, duration=ctx.probe.duration, on_progress=ctx.on_progress))
    channels = output_channels(ctx.probe)
    meta = {
        "container": profile.container,
        "codec": profile.audio_codec,
        "bitrate": profile.audio_bitrate,
        "sample_rate": profile.audio_sample_rate,
        "channels": channels,
        # What the output check should measure: None when the source was silent and left alone.
        "loudness_target": profile.loudness.integrated_for(channels) if ctx.loudness is not None else None,
        "true_peak_target": profile.loudness.true_peak,
    }
    return [
        Output(
            profile=profile.name,
            kind=profile.kind,
            path=relative,
            bandwidth=profile.audio_bitrate,
            duration=ctx.probe.duration,
            meta=meta,
        )
    ]
