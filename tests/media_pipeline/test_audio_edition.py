"""The audio edition: M4A/MP3 arguments, and real files that land on the loudness target."""

import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from media_pipeline.errors import BadInputError
from media_pipeline.ffmpeg.loudness import loudness_check, loudness_measure
from media_pipeline.ffmpeg.probe import ffprobe_json, probe_file
from media_pipeline.jobs.verify import top_level_boxes
from media_pipeline.steps.audio_edition import audio_edition_command, produce
from media_pipeline.steps.contract import LoudnessMeasurement, StepContext
from media_pipeline.steps.profiles import AUDIO_M4A, AUDIO_MP3, LOUDNESS_AUDIO, LOUDNESS_TOLERANCE_LU

SOURCE, OUT = Path("/in/source.mp4"), Path("/out/audio_m4a/audio_m4a.m4a")
MEASURED = LoudnessMeasurement(input_i=-29.98, input_tp=-25.25, input_lra=3.5, input_thresh=-39.98, target_offset=0.01)


def _value(args, flag):
    return args[args.index(flag) + 1]


def _args(make_probe, profile=AUDIO_M4A, loudness=MEASURED, **probe_changes):
    probe = make_probe(**probe_changes)
    return audio_edition_command(profile=profile, probe=probe, source=SOURCE, out_path=OUT, loudness=loudness)


def _ffprobe(path: Path) -> dict:
    return ffprobe_json(path)


def _top_level_boxes(path: Path) -> list[str]:
    with path.open("rb") as handle:
        return top_level_boxes(handle)


def _make_source(path: Path, *, layout: str, video: bool, seconds: float = 3) -> Path:
    """A 440 Hz tone at about −30 LUFS (ffmpeg's sine is −21.8 LUFS; −8.2 dB), optionally with a picture."""
    args = [settings.FFMPEG_BINARY, "-v", "error", "-y"]
    if video:
        args += ["-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=10:duration={seconds}"]
    args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    args += ["-af", f"volume=-8.2dB,aformat=channel_layouts={layout}"]
    if video:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    subprocess.run([*args, "-c:a", "aac", "-shortest", str(path)], check=True)
    return path


@pytest.fixture(scope="session")
def quiet_stereo_video(clips_dir) -> Path:
    """3 s video with a stereo tone at about −30 LUFS: the edition must drop the picture and raise the sound."""
    return _make_source(clips_dir / "edition_stereo.mp4", layout="stereo", video=True)


@pytest.fixture(scope="session")
def quiet_mono_audio(clips_dir) -> Path:
    """3 s mono AAC tone at about −30 LUFS."""
    return _make_source(clips_dir / "edition_mono.m4a", layout="mono", video=False)


@pytest.fixture(scope="session")
def surround_audio(clips_dir) -> Path:
    """2 s 5.1 AAC tone."""
    return _make_source(clips_dir / "edition_51.m4a", layout="5.1", video=False, seconds=2)


def _produce(source: Path, tmp_path: Path, profile):
    probe = probe_file(source)
    loudness = loudness_measure(source=source, probe=probe, target=profile.loudness)
    seen = []
    ctx = StepContext(
        source=source,
        probe=probe,
        out_dir=tmp_path,
        work_dir=tmp_path / "work",
        loudness=loudness,
        on_progress=lambda f: seen.append(f) or True,
    )
    [output] = produce(ctx, profile)
    return output, tmp_path / output.path, seen


# --- arguments -----------------------------------------------------------------------------------------


def test_m4a_is_aac_lc_faststart_without_video(make_probe):
    """M4A: first audio stream only, no video/cover, AAC-LC 128k 48 kHz stereo, ipod muxer, faststart."""
    args = _args(make_probe)
    graph = _value(args, "-filter_complex")
    assert graph.startswith("[0:a:0]") and "0:v" not in graph and "-vn" in args
    assert _value(args, "-c:a") == "aac" and _value(args, "-profile:a") == "aac_low"
    assert _value(args, "-b:a") == "128000" and _value(args, "-ar") == "48000" and _value(args, "-ac") == "2"
    assert _value(args, "-f") == "ipod" and _value(args, "-movflags") == "+faststart"
    assert args[-2:] == [str(OUT), "-y"]


def test_mp3_is_cbr_lame_with_id3v2_at_44k1(make_probe):
    """MP3: libmp3lame at a constant 128k (no VBR quality flag), 44.1 kHz, ID3v2.3 tags."""
    args = _args(make_probe, profile=AUDIO_MP3)
    assert _value(args, "-c:a") == "libmp3lame" and _value(args, "-b:a") == "128000" and "-q:a" not in args
    assert _value(args, "-ar") == "44100" and "aresample=44100" in _value(args, "-filter_complex")
    assert _value(args, "-f") == "mp3" and _value(args, "-id3v2_version") == "3" and "-vn" in args


def test_loudnorm_pass_two_with_the_measured_values(make_probe):
    """A measurement gives loudnorm pass 2 at −16 LUFS / −1 dBTP, linear, with all measured values."""
    graph = _value(_args(make_probe), "-filter_complex")
    assert "loudnorm=I=-16:LRA=11:TP=-1.5:linear=true:measured_I=-29.98:measured_LRA=3.50:measured_TP=-25.25" in graph
    assert "measured_thresh=-39.98:offset=0.01" in graph
    assert graph.index("loudnorm") < graph.index("aresample=48000")


def test_mono_source_stays_mono_at_minus_19(make_probe):
    """A mono source is delivered mono, normalised to the mono target of −19 LUFS."""
    args = _args(make_probe, audio_channels=1)
    assert _value(args, "-ac") == "1" and "I=-19" in _value(args, "-filter_complex")


def test_surround_source_is_downmixed_to_stereo(make_probe):
    """5.1 becomes stereo before loudnorm, and the stereo target applies."""
    args = _args(make_probe, audio_channels=6)
    graph = _value(args, "-filter_complex")
    assert _value(args, "-ac") == "2" and graph.index("channel_layouts=stereo") < graph.index("loudnorm=I=-16")


def test_no_measurement_no_loudnorm(make_probe):
    """Silence (no measurement): the edition is encoded without loudnorm, never amplified."""
    assert "loudnorm" not in _value(_args(make_probe, loudness=None), "-filter_complex")


def test_source_without_audio_is_refused(make_probe, tmp_path):
    """No audio stream: produce raises BadInputError (with a Chinese message) and runs nothing."""
    probe = make_probe(has_audio=False, audio_channels=0)
    ctx = StepContext(source=SOURCE, probe=probe, out_dir=tmp_path, work_dir=tmp_path)
    with pytest.raises(BadInputError) as caught:
        produce(ctx, AUDIO_M4A)
    assert "音频" in caught.value.message and not any(tmp_path.iterdir())


# --- real runs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", [AUDIO_M4A, AUDIO_MP3], ids=["m4a", "mp3"])
def test_real_edition_lands_on_minus_16(profile, quiet_stereo_video, tmp_path):
    """A −30 LUFS stereo video becomes an audio-only file at −16 ±1 LUFS, true peak ≤ −1 dBTP."""
    output, path, seen = _produce(quiet_stereo_video, tmp_path, profile)
    assert output.path == f"{profile.name}/{profile.name}.{profile.container}" and output.kind == "audio"
    assert output.meta["loudness_target"] == -16.0 and output.duration == pytest.approx(3.0, abs=0.1)
    streams = _ffprobe(path)["streams"]
    assert [s["codec_type"] for s in streams] == ["audio"]
    assert streams[0]["codec_name"] == {"m4a": "aac", "mp3": "mp3"}[profile.container]
    assert int(streams[0]["sample_rate"]) == profile.audio_sample_rate and streams[0]["channels"] == 2
    integrated, true_peak = loudness_check(path=path, duration=output.duration)
    assert abs(integrated - LOUDNESS_AUDIO.integrated) <= LOUDNESS_TOLERANCE_LU
    assert true_peak <= LOUDNESS_AUDIO.true_peak
    assert seen and seen[-1] == 1.0


def test_real_mono_edition_lands_on_minus_19(quiet_mono_audio, tmp_path):
    """A mono source gives a mono M4A at −19 ±1 LUFS (AES TD1004's mono figure)."""
    output, path, _seen = _produce(quiet_mono_audio, tmp_path, AUDIO_M4A)
    assert _ffprobe(path)["streams"][0]["channels"] == 1 and output.meta["loudness_target"] == -19.0
    integrated, true_peak = loudness_check(path=path, duration=output.duration)
    assert abs(integrated - LOUDNESS_AUDIO.mono_integrated) <= LOUDNESS_TOLERANCE_LU
    assert true_peak <= LOUDNESS_AUDIO.true_peak


def test_real_m4a_is_faststart_and_mp3_has_id3v2(quiet_mono_audio, tmp_path):
    """The M4A's moov box comes before mdat; the MP3 starts with an ID3v2.3 tag."""
    _output, m4a, _seen = _produce(quiet_mono_audio, tmp_path / "a", AUDIO_M4A)
    boxes = _top_level_boxes(m4a)
    assert boxes[0] == "ftyp" and boxes.index("moov") < boxes.index("mdat")
    _output, mp3, _seen = _produce(quiet_mono_audio, tmp_path / "b", AUDIO_MP3)
    assert mp3.read_bytes()[:4] == b"ID3\x03"


def test_real_surround_edition_is_stereo(surround_audio, tmp_path):
    """A 5.1 source gives a stereo MP3 at the stereo target."""
    output, path, _seen = _produce(surround_audio, tmp_path, AUDIO_MP3)
    assert _ffprobe(path)["streams"][0]["channels"] == 2 and output.meta["channels"] == 2
    integrated, _peak = loudness_check(path=path, duration=output.duration)
    assert abs(integrated - LOUDNESS_AUDIO.integrated) <= LOUDNESS_TOLERANCE_LU
