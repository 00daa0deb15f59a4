"""Two-pass EBU R128 loudness with ffmpeg's ``loudnorm``: measure the source once, then apply one fixed gain.

Pass 1 (``loudness_measure``) runs ``loudnorm`` in analysis mode and reads the JSON it prints. Pass 2 is
a filter in each step's own encode (``normalised_audio``), fed the measured values with ``linear=true``:
with them, ``loudnorm`` applies ONE constant gain to the whole programme, so speech keeps its natural rise
and fall. Without them (or when it must fall back, see ``loudnorm_filter_kwargs``) it runs a dynamic
compressor/limiter whose gain moves every 100 ms — audible "pumping" under speech and music.

Measurement and pass 2 both hear the audio in the same layout (``measure_channels``): mono stays mono,
everything else is downmixed to stereo first, so the measured numbers describe exactly what pass 2 gets.
The output check (``loudness_check_command``) measures a finished file with ``ebur128``.
"""

import json
import math
import re
from pathlib import Path

import ffmpeg
from django.utils.translation import gettext as _

from ..errors import EncodeError
from ..steps.contract import LoudnessMeasurement
from ..steps.profiles import LoudnessTarget
from .probe import ProbeResult
from .runner import ProgressCallback, check_run, run_ffmpeg

# loudnorm and ebur128 print their results at log level "info"; GLOBAL_ARGS keep the log at "warning".
# The runner keeps the last 40 log lines: the loudnorm JSON (13 lines) and the ebur128 summary (~14) are
# the very last things ffmpeg prints, so they fit.
MEASURE_ARGS = ("-hide_banner", "-nostats", "-loglevel", "info", "-progress", "pipe:1")
# Pass 2 aims this far below the profile's true-peak ceiling: the check decodes the *encoded* file, and AAC
# was measured overshooting a −1.0 dBTP input by 0.3 dB (pink noise, 128k); lossy codecs add such peaks.
TRUE_PEAK_HEADROOM_DB = 0.5
# BS.1770's absolute gate: blocks below −70 LUFS do not count as programme at all. A source measuring
# below it (or −inf, digital silence) has nothing to normalise; raising it would only amplify hiss.
SILENCE_FLOOR_LUFS = -70.0
# loudnorm reads measured_LRA=0 as "not measured" and silently falls back to dynamic mode; a steady source
# (a tone, a hum, a constant music bed) really measures 0.00 LU, so it is passed as this instead.
MIN_MEASURED_LRA = 0.01


def measure_channels(probe: ProbeResult) -> int:
    """The layout loudness is measured and normalised in: mono sources stay mono, the rest become stereo."""
    return 1 if probe.audio_channels == 1 else 2


def channel_layout(channels: int) -> str:
    return "mono" if channels == 1 else "stereo"


def _downmixed(audio_stream, channels: int):
    # aformat makes ffmpeg insert swresample's standard matrix: 5.1 → stereo keeps the centre and surrounds
    # at −3 dB and drops LFE (as `-ac 2`); mono → stereo puts the mono at −3 dB in each side, which keeps
    # the measured loudness unchanged, so a mono measurement also holds for a stereo output.
    return audio_stream.filter("aformat", channel_layouts=channel_layout(channels))


def loudness_measure_command(*, source: Path, target: LoudnessTarget, channels: int) -> list[str]:
    """Pass 1: audio only, loudnorm in analysis mode printing JSON, nothing written (``-f null``)."""
    audio = _downmixed(ffmpeg.input(str(source))["a:0"], channels).filter(
        "loudnorm",
        I=f"{target.integrated_for(channels):g}",
        TP=f"{target.true_peak:g}",
        LRA=f"{target.loudness_range:g}",
        print_format="json",
    )
    output = ffmpeg.output(audio, "-", f="null", vn=None, sn=None, dn=None)
    return [*MEASURE_ARGS, *output.get_args()]


def parse_loudnorm_json(text: str) -> LoudnessMeasurement:
    """The last JSON object in a log (loudnorm prints it at the end); values are strings, -inf allowed."""
    data = _last_json_object(text)
    if data is None or "input_i" not in data:
        raise ValueError("no loudnorm JSON in the log")
    return LoudnessMeasurement(
        input_i=float(data["input_i"]),
        input_tp=float(data["input_tp"]),
        input_lra=float(data["input_lra"]),
        input_thresh=float(data["input_thresh"]),
        target_offset=float(data.get("target_offset", 0.0)),
    )


def _last_json_object(text: str) -> dict | None:
    decoder = json.JSONDecoder()
    for match in reversed(list(re.finditer(r"\{", text))):
        try:
            value, _end = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def is_normalisable(measured: LoudnessMeasurement) -> bool:
    """False for digital silence (−inf) and for anything below the absolute gate: leave those alone."""
    return math.isfinite(measured.input_i) and measured.input_i > SILENCE_FLOOR_LUFS


def loudness_measure(
    *,
    source: Path,
    probe: ProbeResult,
    target: LoudnessTarget,
    on_progress: ProgressCallback | None = None,
) -> LoudnessMeasurement | None:
    """Run pass 1 on the source's first audio stream.

    Returns None when there is nothing to normalise (no audio, silence): pass 2 is then skipped, so
    silence stays silence instead of being amplified towards infinity. The measured ``input_*`` values do
    not depend on ``target`` (it only changes loudnorm's predicted ``output_*``), so one measurement
    serves every step of a job.
    """
    if not probe.has_audio:
        return None
    args = loudness_measure_command(source=source, target=target, channels=measure_channels(probe))
    result = run_ffmpeg(args, duration=probe.duration, on_progress=on_progress)
    check_run(result)
    try:
        measured = parse_loudnorm_json(result.log_tail)
    except (ValueError, KeyError) as exc:
        raise EncodeError(_("响度测量失败"), str(exc), result.log_tail) from exc
    return measured if is_normalisable(measured) else None


def loudnorm_filter_kwargs(*, target: LoudnessTarget, measured: LoudnessMeasurement, channels: int) -> dict:
    """Pass 2 options for ``stream.filter("loudnorm", **kwargs)``; ``channels``: what the listener gets.

    ``linear=true`` asks for one constant gain (target − measured integrated): no pumping, the programme's
    own dynamics kept. loudnorm grants it only when that gain keeps the measured true peak under ``TP`` and
    the measured loudness range is within ``LRA``; otherwise (a quiet source with loud peaks, a very wide
    range) it falls back to dynamic mode — compression plus a true-peak limiter — rather than clip or miss
    the target. ``offset`` (pass 1's target_offset) only matters in that fallback. ``TP`` sits
    ``TRUE_PEAK_HEADROOM_DB`` below the profile's ceiling, leaving room for the encoder's overshoot.
    """
    return {
        "I": f"{target.integrated_for(channels):g}",
        "TP": f"{target.true_peak - TRUE_PEAK_HEADROOM_DB:g}",
        "LRA": f"{target.loudness_range:g}",
        "measured_I": f"{measured.input_i:.2f}",
        "measured_TP": f"{measured.input_tp:.2f}",
        "measured_LRA": f"{max(measured.input_lra, MIN_MEASURED_LRA):.2f}",
        "measured_thresh": f"{measured.input_thresh:.2f}",
        "offset": f"{measured.target_offset:.2f}",
        "linear": "true",
    }


def normalised_audio(
    audio_stream,
    *,
    target: LoudnessTarget,
    measured: LoudnessMeasurement | None,
    source_channels: int,
    output_channels: int,
    sample_rate: int,
):
    """The audio chain every output uses: downmix as measured, loudnorm pass 2, back to the output's rate.

    ``measured`` None (silence, or never measured): no loudnorm at all, only layout and rate.
    """
    layout_channels = 1 if source_channels == 1 else 2  # the same rule as measure_channels
    audio = _downmixed(audio_stream, layout_channels)
    if measured is not None and is_normalisable(measured):
        audio = audio.filter(
            "loudnorm", **loudnorm_filter_kwargs(target=target, measured=measured, channels=output_channels)
        )
    # loudnorm upsamples to 192 kHz (for its true-peak detection) and outputs that rate: resample back.
    audio = audio.filter("aresample", sample_rate)
    if output_channels != layout_channels:
        audio = _downmixed(audio, output_channels)
    return audio


def loudness_check_command(*, path: Path) -> list[str]:
    """Measure a finished file: integrated loudness and true peak (``ebur128=peak=true``), its summary only."""
    # framelog=verbose keeps the ten-lines-a-second running values out of the info log and the tail.
    audio = ffmpeg.input(str(path))["a:0"].filter("ebur128", peak="true", framelog="verbose")
    output = ffmpeg.output(audio, "-", f="null", vn=None, sn=None, dn=None)
    return [*MEASURE_ARGS, *output.get_args()]


_SUMMARY = re.compile(
    r"Summary:.*?Integrated loudness:\s*I:\s*(?P<i>-?(?:inf|[\d.]+))\s*LUFS"
    r".*?True peak:\s*Peak:\s*(?P<tp>-?(?:inf|[\d.]+))\s*dB",
    re.DOTALL,
)


def parse_ebur128_summary(text: str) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) from ebur128's last summary; ebur128 labels the true peak "dBFS"."""
    matches = list(_SUMMARY.finditer(text))
    if not matches:
        raise ValueError("no ebur128 summary with a true peak in the log")
    return float(matches[-1]["i"]), float(matches[-1]["tp"])


def loudness_check(*, path: Path, duration: float, on_progress: ProgressCallback | None = None) -> tuple[float, float]:
    """Run ``loudness_check_command`` on a file: (integrated LUFS, true peak dBTP)."""
    result = run_ffmpeg(loudness_check_command(path=path), duration=duration, on_progress=on_progress)
    check_run(result)
    try:
        return parse_ebur128_summary(result.log_tail)
    except ValueError as exc:
        raise EncodeError(_("响度检查失败"), str(exc), result.log_tail) from exc


def loudness_filters(
    *, target: LoudnessTarget, measured: LoudnessMeasurement | None, source_channels: int, output_channels: int
) -> list[tuple[str, dict]]:
    """The same chain as ``normalised_audio`` as (filter, options) pairs, for commands that assemble their
    own audio graph (the HLS ladder); the caller resamples to its rate afterwards."""
    layout_channels = 1 if source_channels == 1 else 2
    filters = [("aformat", {"channel_layouts": channel_layout(layout_channels)})]
    if measured is not None and is_normalisable(measured):
        filters.append(("loudnorm", loudnorm_filter_kwargs(target=target, measured=measured, channels=output_channels)))
    return filters
