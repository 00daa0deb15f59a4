"""Two-pass EBU R128 loudness with ffmpeg's ``loudnorm``: measure the source once, then apply one fixed gain.

Pass 1 (``loudness_measure``) runs ``loudnorm`` in analysis mode and reads the JSON it prints. Pass 2 is
a filter in each step's own encode (``normalised_audio``), fed the measured values with ``linear=true``:
with them, ``loudnorm`` applies ONE constant gain to the whole programme, so speech keeps its natural rise
and fall. Without them (or when it must fall back, see ``loudnorm_filter_kwargs``) it runs a dynamic
compressor/limiter whose gain moves every 100 ms — audible "pumping" under speech and music.

Measurement and pass 2 both hear the audio in the same layout (``measure_channels``): mono stays mono,
everything else is downmixed to stereo first, so the measured numbers describe exactly what pass 2 gets.
The output check (``loudness_check_command``) measures a finished file with ``ebur128``.

A master mixed far too hot (float overs above full scale, a clipped 5.1 mix louder than 0 LUFS) is beyond
what ``loudnorm`` measures or accepts: it refuses a measured value above 0 LUFS, and its loudness histogram
misreads such programme. Such a master is turned down by one fixed gain (``measuring_pre_gain_db``) and
measured again; pass 2 applies the same gain before ``loudnorm`` (``loudnorm_chain``), so the result is still
one constant gain overall.
"""

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import ffmpeg
from django.utils.translation import gettext as _

from ..errors import BadInputError, EncodeError
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
# Above either of these, pass 1's numbers cannot be used as they are (see the module's docstring): the master
# is measured again after a fixed gain that puts its true peak at PRE_GAIN_PEAK_DBTP, far inside loudnorm's range.
LOUDEST_MEASURABLE_LUFS = -1.0
HOTTEST_MEASURABLE_DBTP = 0.0
PRE_GAIN_PEAK_DBTP = -10.0
# loudnorm's accepted ranges for measured values (ffmpeg's af_loudnorm.c): outside them the filter is not built.
MEASURED_LUFS_RANGE = (-99.0, 0.0)
MEASURED_TP_RANGE = (-99.0, 99.0)


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


def loudness_measure_command(
    *, source: Path, target: LoudnessTarget, channels: int, pre_gain_db: float = 0.0, track: str = "a:0"
) -> list[str]:
    """Pass 1: audio only, loudnorm in analysis mode printing JSON, nothing written (``-f null``).

    ``track``: which audio stream (``ProbeResult.audio_map``: the main track, not always the first)."""
    audio = _downmixed(ffmpeg.input(str(source))[track], channels)
    if pre_gain_db:
        audio = audio.filter("volume", volume=f"{pre_gain_db:.2f}dB")
    audio = audio.filter(
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


def measuring_pre_gain_db(measured: LoudnessMeasurement) -> float:
    """0 for a master loudnorm measures as it is; else the gain (< 0 dB) to measure it again with."""
    if measured.input_i <= LOUDEST_MEASURABLE_LUFS and measured.input_tp <= HOTTEST_MEASURABLE_DBTP:
        return 0.0
    # The true peak is a plain maximum and reads right even where the loudness histogram does not.
    loudest = max(measured.input_tp, measured.input_i)
    return round(PRE_GAIN_PEAK_DBTP - loudest, 2)


def loudness_measure(
    *,
    source: Path,
    probe: ProbeResult,
    target: LoudnessTarget,
    on_progress: ProgressCallback | None = None,
) -> LoudnessMeasurement | None:
    """Run pass 1 on the source's main audio track (``probe.audio_map``).

    Returns None when there is nothing to normalise (no audio, silence): pass 2 is then skipped, so
    silence stays silence instead of being amplified towards infinity. The measured ``input_*`` values do
    not depend on ``target`` (it only changes loudnorm's predicted ``output_*``), so one measurement
    serves every step of a job.
    """
    if not probe.has_audio:
        return None
    measured = _measure_once(source=source, probe=probe, target=target, on_progress=on_progress)
    pre_gain = measuring_pre_gain_db(measured)
    if pre_gain:
        again = _measure_once(source=source, probe=probe, target=target, pre_gain_db=pre_gain, on_progress=on_progress)
        measured = replace(again, pre_gain_db=pre_gain)
    return measured if is_normalisable(measured) else None


def _measure_once(*, source, probe, target, on_progress, pre_gain_db: float = 0.0) -> LoudnessMeasurement:
    channels = measure_channels(probe)
    args = loudness_measure_command(
        source=source, target=target, channels=channels, pre_gain_db=pre_gain_db, track=probe.audio_map
    )
    result = run_ffmpeg(args, duration=probe.duration, on_progress=on_progress)
    check_run(result)
    try:
        return parse_loudnorm_json(result.log_tail)
    except (ValueError, KeyError) as exc:
        # The same file measures the same way every time: not worth a retry.
        raise BadInputError(_("无法测量这个文件的音量，请检查音轨后重新上传"), str(exc), result.log_tail) from exc


def loudnorm_chain(
    *, target: LoudnessTarget, measured: LoudnessMeasurement | None, channels: int
) -> list[tuple[str, dict]]:
    """Pass 2 as (filter, options) pairs: the measuring pre-gain of a too-hot master, then loudnorm.

    Empty when there is nothing to normalise (silence, or never measured).
    """
    if measured is None or not is_normalisable(measured):
        return []
    loudnorm = ("loudnorm", loudnorm_filter_kwargs(target=target, measured=measured, channels=channels))
    if not measured.pre_gain_db:
        return [loudnorm]
    return [("volume", {"volume": f"{measured.pre_gain_db:.2f}dB"}), loudnorm]


def _within(value: float, bounds: tuple[float, float]) -> float:
    return max(bounds[0], min(bounds[1], value))


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
        # Clamped to what loudnorm accepts, so a stray value can never stop the filter being built.
        "measured_I": f"{_within(measured.input_i, MEASURED_LUFS_RANGE):.2f}",
        "measured_TP": f"{_within(measured.input_tp, MEASURED_TP_RANGE):.2f}",
        "measured_LRA": f"{max(measured.input_lra, MIN_MEASURED_LRA):.2f}",
        "measured_thresh": f"{_within(measured.input_thresh, MEASURED_LUFS_RANGE):.2f}",
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
    for name, kwargs in loudnorm_chain(target=target, measured=measured, channels=output_channels):
        audio = audio.filter(name, **kwargs)
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
        raise EncodeError(_("响度检查意外中断，系统将自动重试"), str(exc), result.log_tail) from exc


def loudness_filters(
    *, target: LoudnessTarget, measured: LoudnessMeasurement | None, source_channels: int, output_channels: int
) -> list[tuple[str, dict]]:
    """The same chain as ``normalised_audio`` as (filter, options) pairs, for commands that assemble their
    own audio graph (the HLS ladder); the caller resamples to its rate afterwards."""
    layout_channels = 1 if source_channels == 1 else 2
    filters = [("aformat", {"channel_layouts": channel_layout(layout_channels)})]
    return [*filters, *loudnorm_chain(target=target, measured=measured, channels=output_channels)]
