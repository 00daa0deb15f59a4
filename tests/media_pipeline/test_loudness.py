"""Two-pass loudnorm: pass-1 command and JSON parsing, pass-2 options, the ebur128 check; real runs on tones."""

import subprocess
from dataclasses import replace
from pathlib import Path

import ffmpeg
import pytest
from django.conf import settings

from media_pipeline.errors import ConversionError
from media_pipeline.ffmpeg.loudness import (
    MIN_MEASURED_LRA,
    PRE_GAIN_PEAK_DBTP,
    is_normalisable,
    loudness_check,
    loudness_check_command,
    loudness_measure,
    loudness_measure_command,
    loudnorm_chain,
    loudnorm_filter_kwargs,
    measuring_pre_gain_db,
    normalised_audio,
    parse_ebur128_summary,
    parse_loudnorm_json,
)
from media_pipeline.ffmpeg.probe import probe_file
from media_pipeline.ffmpeg.runner import RunResult, check_run, run_ffmpeg
from media_pipeline.steps.audio_edition import audio_edition_command
from media_pipeline.steps.contract import LoudnessMeasurement
from media_pipeline.steps.profiles import (
    AUDIO_M4A,
    LOUDNESS_AUDIO,
    LOUDNESS_MOBILE,
    LOUDNESS_TOLERANCE_LU,
    LOUDNESS_TV,
)
from media_pipeline.synthetic.media import CORPUS_SUFFIXES, LOUDNESS_KINDS, make_corpus_clip

SOURCE = Path("/in/source.mp4")

# Recorded from ffmpeg 5.1 (pass 1 on a quiet 440 Hz tone), as the runner's log tail keeps it.
LOUDNORM_LOG = """\
  Stream #0:0(und): Audio: pcm_s16le, 192000 Hz, mono, s16, 3072 kb/s (default)
    Metadata:
      encoder         : Lavc59.37.100 pcm_s16le
size=N/A time=00:00:03.00 bitrate=N/A speed=42.5x
video:0kB audio:1128kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown
[Parsed_loudnorm_0 @ 0x5619cb3137c0]
{
\t"input_i" : "-29.98",
\t"input_tp" : "-25.25",
\t"input_lra" : "0.00",
\t"input_thresh" : "-39.98",
\t"output_i" : "-16.01",
\t"output_tp" : "-11.27",
\t"output_lra" : "0.00",
\t"output_thresh" : "-26.01",
\t"normalization_type" : "dynamic",
\t"target_offset" : "0.01"
}"""

# loudnorm on digital silence.
SILENCE_LOG = """\
[Parsed_loudnorm_0 @ 0x55b89f30ba80]
{
\t"input_i" : "-inf",
\t"input_tp" : "-inf",
\t"input_lra" : "0.00",
\t"input_thresh" : "-70.00",
\t"output_i" : "-inf",
\t"output_tp" : "-inf",
\t"output_lra" : "0.00",
\t"output_thresh" : "-70.00",
\t"normalization_type" : "dynamic",
\t"target_offset" : "inf"
}"""

# ebur128=peak=true summary, recorded from ffmpeg 5.1 (blank lines dropped, as the runner does).
EBUR128_LOG = """\
video:0kB audio:282kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown
[Parsed_ebur128_0 @ 0x562d6225e480] Summary:
  Integrated loudness:
    I:         -51.8 LUFS
    Threshold: -61.8 LUFS
  Loudness range:
    LRA:        18.2 LU
    Threshold: -71.8 LUFS
    LRA low:   -70.0 LUFS
    LRA high:  -51.8 LUFS
  True peak:
    Peak:      -47.2 dBFS"""

MEASURED = LoudnessMeasurement(input_i=-29.98, input_tp=-25.25, input_lra=3.5, input_thresh=-39.98, target_offset=0.01)


def _value(args, flag):
    return args[args.index(flag) + 1]


def make_tone(path: Path, *, seconds: float = 3, gain_db: float = -8.2, layout: str = "stereo") -> Path:
    """A 440 Hz tone; ffmpeg's sine is about −21.8 LUFS, so the default gain gives about −30 LUFS."""
    tone = f"sine=frequency=440:sample_rate=48000:duration={seconds}"
    subprocess.run(
        [settings.FFMPEG_BINARY, "-v", "error", "-y", "-f", "lavfi", "-i", tone]
        + ["-af", f"volume={gain_db}dB,aformat=channel_layouts={layout}", "-c:a", "aac", str(path)],
        check=True,
    )
    return path


@pytest.fixture(scope="session")
def quiet_tone(clips_dir) -> Path:
    """3 s stereo AAC tone at about −30 LUFS: far too quiet for every target."""
    return make_tone(clips_dir / "loudness_quiet_tone.m4a")


@pytest.fixture(scope="session")
def silent_audio(clips_dir) -> Path:
    """2 s of digital silence (an audio stream that carries nothing)."""
    path = clips_dir / "loudness_silence.m4a"
    subprocess.run(
        [settings.FFMPEG_BINARY, "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo"]
        + ["-t", "2", "-c:a", "aac", str(path)],
        check=True,
    )
    return path


# --- pass 1: command and parser ------------------------------------------------------------------------


def test_measure_command_is_audio_only_at_info_level_with_progress():
    """Pass 1 decodes audio only, logs at info (where loudnorm prints JSON), keeps -progress, writes nothing."""
    args = loudness_measure_command(source=SOURCE, target=LOUDNESS_MOBILE, channels=2)
    assert _value(args, "-loglevel") == "info" and _value(args, "-progress") == "pipe:1"
    assert "-vn" in args and _value(args, "-f") == "null" and args[-1] == "-"
    graph = _value(args, "-filter_complex")
    assert graph.startswith("[0:a:0]aformat=channel_layouts=stereo")
    assert "loudnorm=I=-16:LRA=11:TP=-1:print_format=json" in graph


def test_measure_command_keeps_mono_as_mono():
    """A mono source is measured as mono (so the mono target applies to it), not upmixed first."""
    graph = _value(loudness_measure_command(source=SOURCE, target=LOUDNESS_AUDIO, channels=1), "-filter_complex")
    assert "aformat=channel_layouts=mono" in graph and "I=-19" in graph


def test_parse_loudnorm_json_from_a_log_tail():
    """The last JSON object in ffmpeg's log becomes a LoudnessMeasurement with every measured value."""
    assert parse_loudnorm_json(LOUDNORM_LOG) == LoudnessMeasurement(
        input_i=-29.98, input_tp=-25.25, input_lra=0.0, input_thresh=-39.98, target_offset=0.01
    )


def test_parse_loudnorm_json_reads_silence_as_minus_infinity():
    """Digital silence reports -inf, which parses, and is then judged not normalisable."""
    measured = parse_loudnorm_json(SILENCE_LOG)
    assert measured.input_i == float("-inf") and not is_normalisable(measured)


def test_parse_loudnorm_json_without_json_raises():
    """A log with no loudnorm JSON (filter never ran) is an error, not a zero measurement."""
    with pytest.raises(ValueError):
        parse_loudnorm_json("[aac @ 0x1] Too many bits {not json}\nsize=N/A")


def test_only_programme_above_the_absolute_gate_is_normalised():
    """Below −70 LUFS there is nothing to raise; above it, normalise."""
    assert is_normalisable(MEASURED)
    assert not is_normalisable(LoudnessMeasurement(-75.0, -60.0, 0.0, -85.0))


def test_no_audio_measures_nothing(make_probe):
    """No audio stream: no measurement and no ffmpeg run (the source path need not even exist)."""
    probe = make_probe(has_audio=False, audio_channels=0)
    assert loudness_measure(source=Path("/nonexistent.mp4"), probe=probe, target=LOUDNESS_TV) is None


# --- pass 2: options and chain -------------------------------------------------------------------------


def test_pass_two_passes_every_measured_value_and_asks_for_linear():
    """Pass 2 gets the target, the four measured values, the offset and linear=true."""
    assert loudnorm_filter_kwargs(target=LOUDNESS_TV, measured=MEASURED, channels=2) == {
        "I": "-24",
        "TP": "-2.5",  # 0.5 dB under the −2 dBTP ceiling: headroom for the encoder
        "LRA": "11",
        "measured_I": "-29.98",
        "measured_TP": "-25.25",
        "measured_LRA": "3.50",
        "measured_thresh": "-39.98",
        "offset": "0.01",
        "linear": "true",
    }


def test_mono_output_gets_the_mono_target():
    """The audio edition's mono target (−19 LUFS) applies to mono output, −16 to stereo."""
    assert loudnorm_filter_kwargs(target=LOUDNESS_AUDIO, measured=MEASURED, channels=1)["I"] == "-19"
    assert loudnorm_filter_kwargs(target=LOUDNESS_AUDIO, measured=MEASURED, channels=2)["I"] == "-16"


def test_steady_source_with_zero_lra_still_gets_linear_mode():
    """loudnorm reads measured_LRA=0 as 'not measured' (→ dynamic), so a measured 0.00 is passed as 0.01."""
    steady = LoudnessMeasurement(-30.0, -26.0, 0.0, -40.0)
    assert loudnorm_filter_kwargs(target=LOUDNESS_TV, measured=steady, channels=2)["measured_LRA"] == (
        f"{MIN_MEASURED_LRA:.2f}"
    )


def _chain_graph(measured, source_channels, output_channels):
    audio = normalised_audio(
        ffmpeg.input(str(SOURCE))["a:0"],
        target=LOUDNESS_TV,
        measured=measured,
        source_channels=source_channels,
        output_channels=output_channels,
        sample_rate=48000,
    )
    return _value(ffmpeg.output(audio, "/out/x.m4a").get_args(), "-filter_complex")


def test_chain_downmixes_then_normalises_then_resamples_from_192k():
    """5.1 is downmixed to stereo BEFORE loudnorm (as measured), and resampled to 48 kHz AFTER it."""
    graph = _chain_graph(MEASURED, 6, 2)
    assert graph.index("aformat=channel_layouts=stereo") < graph.index("loudnorm=") < graph.index("aresample=48000")


def test_chain_upmixes_mono_after_normalising():
    """A mono source is normalised as mono, then spread to stereo (loudness-neutral) for a stereo output."""
    graph = _chain_graph(MEASURED, 1, 2)
    assert graph.index("channel_layouts=mono") < graph.index("loudnorm=") < graph.index("channel_layouts=stereo")


def test_chain_without_measurement_only_resamples():
    """No measurement (silence): no loudnorm at all, so nothing gets amplified."""
    graph = _chain_graph(None, 2, 2)
    assert "loudnorm" not in graph and "aresample=48000" in graph


# --- the output check ----------------------------------------------------------------------------------


def test_check_command_measures_true_peak_and_keeps_the_summary_in_the_tail():
    """ebur128 with true peak; per-frame lines demoted to verbose so the summary ends the info log."""
    args = loudness_check_command(path=Path("/out/a.m4a"))
    assert "ebur128=framelog=verbose:peak=true" in _value(args, "-filter_complex")
    assert _value(args, "-loglevel") == "info" and _value(args, "-f") == "null"


def test_parse_ebur128_summary():
    """Integrated loudness and true peak come from the summary."""
    assert parse_ebur128_summary(EBUR128_LOG) == (-51.8, -47.2)


def test_parse_ebur128_summary_of_silence():
    """Silence: −70 LUFS (the gate) and a true peak of −inf."""
    log = EBUR128_LOG.replace("-51.8 LUFS\n    Threshold: -61.8", "-70.0 LUFS\n    Threshold: 0.0").replace(
        "-47.2 dBFS", "-inf dBFS"
    )
    assert parse_ebur128_summary(log) == (-70.0, float("-inf"))


def test_parse_ebur128_summary_missing_raises():
    """No summary in the log is an error."""
    with pytest.raises(ValueError):
        parse_ebur128_summary("size=N/A time=00:00:03.00")


# --- real runs -----------------------------------------------------------------------------------------


def test_real_measurement_of_a_quiet_tone(quiet_tone):
    """Pass 1 through the runner finds the JSON in its log tail: about −30 LUFS for the quiet tone."""
    measured = loudness_measure(source=quiet_tone, probe=probe_file(quiet_tone), target=LOUDNESS_MOBILE)
    assert measured is not None and abs(measured.input_i + 30) < 0.5
    assert measured.input_tp < -20 and measured.input_thresh < measured.input_i


def test_real_measurement_of_silence_is_none(silent_audio):
    """Digital silence measures −inf: loudness_measure returns None so pass 2 is skipped."""
    assert loudness_measure(source=silent_audio, probe=probe_file(silent_audio), target=LOUDNESS_MOBILE) is None


def test_real_pass_two_is_linear_and_hits_the_target(quiet_tone, tmp_path):
    """With the measured values loudnorm really chooses linear mode, and ebur128 finds −16 ±1 LUFS."""
    probe = probe_file(quiet_tone)
    measured = loudness_measure(source=quiet_tone, probe=probe, target=LOUDNESS_MOBILE)
    kwargs = loudnorm_filter_kwargs(target=LOUDNESS_MOBILE, measured=measured, channels=2)
    out = tmp_path / "normalised.wav"
    log = subprocess.run(
        [settings.FFMPEG_BINARY, "-hide_banner", "-nostats", "-y", "-i", str(quiet_tone)]
        + ["-af", ",".join([f"loudnorm={':'.join(f'{k}={v}' for k, v in kwargs.items())}:print_format=json"])]
        + ["-ar", "48000", str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    assert '"normalization_type" : "linear"' in log
    integrated, true_peak = loudness_check(path=out, duration=probe.duration)
    assert abs(integrated - LOUDNESS_MOBILE.integrated) <= 1.0 and true_peak <= LOUDNESS_MOBILE.true_peak


# --- masters too loud, clipped or near-silent (issue 15, item 1) -----------------------------------------

HOT = LoudnessMeasurement(input_i=6.43, input_tp=10.49, input_lra=0.0, input_thresh=-3.57)
# loudnorm's own words when a measured value is out of its range (ffmpeg 5.1, recorded).
OUT_OF_RANGE_LOG = """\
[Parsed_loudnorm_1 @ 0x55d224104740] Value 6.430000 for parameter 'measured_I' out of range [-99 - 0]
[AVFilterGraph @ 0x55d224104740] Error initializing filter 'loudnorm' with args 'I=-16:measured_I=6.43'
Error reinitializing filters!
Failed to inject frame into filter network: Numerical result out of range
Conversion failed!"""


def test_a_master_above_0_lufs_is_measured_again_turned_down():
    """Above −1 LUFS or 0 dBTP, pass 1 is repeated after a fixed gain putting the true peak at −10 dBTP."""
    assert measuring_pre_gain_db(HOT) == pytest.approx(PRE_GAIN_PEAK_DBTP - 10.49)
    assert measuring_pre_gain_db(MEASURED) == 0.0


def test_pass_two_applies_the_same_pre_gain_before_loudnorm():
    """A pre-gained measurement puts a volume filter with that gain ahead of loudnorm; others get none."""
    turned_down = replace(HOT, input_i=-14.06, input_tp=-10.0, input_thresh=-24.06, pre_gain_db=-20.49)
    chain = loudnorm_chain(target=LOUDNESS_TV, measured=turned_down, channels=2)
    assert [name for name, _options in chain] == ["volume", "loudnorm"]
    assert chain[0][1] == {"volume": "-20.49dB"} and chain[1][1]["measured_I"] == "-14.06"
    assert [name for name, _options in loudnorm_chain(target=LOUDNESS_TV, measured=MEASURED, channels=2)] == [
        "loudnorm"
    ]


def test_measured_values_are_clamped_to_what_loudnorm_accepts():
    """Even an unexpected measurement builds a filter: measured_I/thresh ≤ 0 LUFS, measured_TP ≤ 99 dBTP."""
    kwargs = loudnorm_filter_kwargs(target=LOUDNESS_TV, measured=replace(HOT, input_thresh=0.5), channels=2)
    assert (kwargs["measured_I"], kwargs["measured_thresh"]) == ("0.00", "0.00")


def test_a_filter_that_cannot_be_built_is_not_retried():
    """loudnorm refusing its options fails the same way every time: not transient, so never retried."""
    with pytest.raises(ConversionError) as caught:
        check_run(RunResult(returncode=1, log_tail=OUT_OF_RANGE_LOG, cancelled=False))
    assert not caught.value.transient


@pytest.fixture(scope="module")
def loudness_corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loudness_corpus")
    return {kind: make_corpus_clip(kind, folder / f"{kind}{CORPUS_SUFFIXES[kind]}") for kind in LOUDNESS_KINDS}


@pytest.mark.parametrize("kind", LOUDNESS_KINDS)
@pytest.mark.parametrize("target", [LOUDNESS_AUDIO, LOUDNESS_TV], ids=["audio", "tv"])
def test_loud_clipped_and_near_silent_masters_normalise(loudness_corpus, tmp_path, kind, target):
    """A +6 LUFS float 5.1 master, a clipped one and a −65 LUFS one each come out of the real pass-2 command
    within ±1 LU of the target and under its true-peak ceiling (before: loudnorm refused the hot master)."""
    source = loudness_corpus[kind]
    probe = probe_file(source)
    measured = loudness_measure(source=source, probe=probe, target=target)
    out = tmp_path / "out.m4a"
    profile = replace(AUDIO_M4A, loudness=target)
    args = audio_edition_command(profile=profile, probe=probe, source=source, out_path=out, loudness=measured)
    check_run(run_ffmpeg(args, duration=probe.duration))
    integrated, true_peak = loudness_check(path=out, duration=probe.duration)
    assert abs(integrated - target.integrated) <= LOUDNESS_TOLERANCE_LU, (measured, integrated)
    assert true_peak <= target.true_peak, (measured, true_peak)
