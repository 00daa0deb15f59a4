"""Verification per stream (issue 15, items 2 and 14): each output stream decodes and covers its own source
stream's span, audio keeps its offset to the picture (the MP3 edition too), a nominal bitrate is a ceiling,
and the master declares the frame rate its segments really have."""

import subprocess
from pathlib import Path

import m3u8
import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from media_pipeline.errors import VerifyError
from media_pipeline.ffmpeg.loudness import loudness_measure
from media_pipeline.ffmpeg.probe import ffprobe_json, probe_upload
from media_pipeline.jobs.producers import PRODUCERS
from media_pipeline.jobs.verify import compare_facts, verify_hls, verify_output
from media_pipeline.steps.audio_edition import leading_silence_ms
from media_pipeline.steps.contract import StepContext
from media_pipeline.steps.profiles import AUDIO_M4A, AUDIO_MP3, LOUDNESS_MOBILE, PROFILES
from media_pipeline.synthetic.media import CORPUS_SUFFIXES, make_corpus_clip

# What each corpus kind is run through: the outputs that failed verification before.
RUNS = {
    "late_audio": ("hls_web", "audio_m4a", "audio_mp3", "tv_1080p"),
    "vfr_short_video": ("hls_web",),
    "speech_narrowband": ("audio_m4a", "audio_mp3"),
}


@pytest.fixture(scope="module")
def produced(tmp_path_factory):
    """Each kind encoded once by the real steps; the tests below read the same outputs."""
    folder = tmp_path_factory.mktemp("spans")
    results = {}
    for kind, profiles in RUNS.items():
        source = make_corpus_clip(kind, folder / f"{kind}{CORPUS_SUFFIXES[kind]}")
        probe = probe_upload(source)
        loudness = loudness_measure(source=source, probe=probe, target=LOUDNESS_MOBILE)
        ctx = StepContext(
            source=source, probe=probe, out_dir=folder / kind, work_dir=folder / f"{kind}-work", loudness=loudness
        )
        outputs = []
        for name in profiles:
            profile = PROFILES[name]
            outputs += import_string(PRODUCERS[type(profile)])(ctx, profile)
        results[kind] = (ctx, outputs)
    return results


def _verdicts(ctx, outputs) -> dict[str, str]:
    verdicts = {}
    for output in outputs:
        try:
            verify_output(output=output, ctx=ctx)
            verdicts[output.path] = "ok"
        except VerifyError as exc:
            verdicts[output.path] = exc.reason
    return verdicts


@pytest.mark.parametrize("kind", sorted(RUNS))
def test_every_output_of_an_odd_source_verifies(produced, kind):
    """Late audio (ladder, audio-only rung, M4A, MP3, TV), a VFR clip whose picture ends first, and narrow-band
    speech whose AAC is far under 128k: every output passes its checks (before: durations against the container
    and the bitrate as a target failed them)."""
    ctx, outputs = produced[kind]
    verdicts = _verdicts(ctx, outputs)
    assert set(verdicts.values()) == {"ok"}, verdicts


def _duration(path: Path) -> float:
    return float(ffprobe_json(path)["format"]["duration"])


def _sound_starts(path: Path) -> float:
    """When the first sound is heard: the end of the leading silence (silencedetect), 0 if none."""
    args = [settings.FFMPEG_BINARY, "-hide_banner", "-nostats", "-i", str(path), "-af", "silencedetect=n=-50dB:d=0.3"]
    log = subprocess.run([*args, "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    ends = [float(line.split("silence_end:")[1].split("|")[0]) for line in log.splitlines() if "silence_end:" in line]
    return ends[0] if ends and "silence_start: 0" in log else 0.0


def test_late_audio_keeps_its_offset_in_every_edition(produced):
    """The source's sound starts 1.48 s after the picture; so does the MP3's (silence in front) and the M4A's
    (its edit list), both lasting the programme's 3 s; the TV file and the ladder keep the offset too."""
    ctx, _outputs = produced["late_audio"]
    out = ctx.out_dir
    assert ctx.probe.av_offset == pytest.approx(1.478, abs=0.01)
    assert leading_silence_ms(AUDIO_MP3, ctx.probe) == 1478 and leading_silence_ms(AUDIO_M4A, ctx.probe) == 0
    mp3, m4a = out / "audio_mp3/audio_mp3.mp3", out / "audio_m4a/audio_m4a.m4a"
    assert _sound_starts(mp3) == pytest.approx(1.48, abs=0.05) and _duration(mp3) == pytest.approx(3.0, abs=0.1)
    assert float(ffprobe_json(m4a)["streams"][0]["start_time"]) == pytest.approx(1.478, abs=0.05)
    tv = {s["codec_type"]: float(s["start_time"]) for s in ffprobe_json(out / "tv_1080p/tv_1080p.mp4")["streams"]}
    assert tv["audio"] - tv["video"] == pytest.approx(1.478, abs=0.1)


def test_a_lost_offset_is_caught(produced):
    """The same late-audio ladder checked as if its sound should start with the picture fails on av_offset:
    the check measures, it does not just accept."""
    ctx, _outputs = produced["late_audio"]
    with pytest.raises(VerifyError) as caught:
        verify_hls(
            master_path=ctx.out_dir / "hls_web/master.m3u8",
            expect_duration=3.0,
            audio_duration=ctx.probe.audio_span,
            av_offset=0.0,
        )
    assert caught.value.reason.startswith("av_offset")


def test_master_declares_the_frame_rate_the_segments_have(produced):
    """The VFR clip averages 22.9 fps but the ladder writes constant 30 fps: the master says 30.000."""
    ctx, _outputs = produced["vfr_short_video"]
    master = m3u8.loads((ctx.out_dir / "hls_web/master.m3u8").read_text())
    assert ctx.probe.fps == pytest.approx(22.88, abs=0.01)
    assert {p.stream_info.frame_rate for p in master.playlists if p.stream_info.resolution} == {30.0}


def test_a_nominal_bitrate_is_a_ceiling():
    """Far under the nominal rate passes (narrow-band speech: 54.6k of 128k); more than 20 % over fails."""
    assert compare_facts({"bitrate": 128_000}, {"bitrate": 54_556}, duration_tolerance=0.1) == []
    assert compare_facts({"bitrate": 128_000}, {"bitrate": 160_000}, duration_tolerance=0.1)
    assert compare_facts({"bitrate": 128_000}, {"bitrate": 0}, duration_tolerance=0.1)


def test_an_audio_file_may_run_a_little_long_but_never_short():
    """An MP3's encoder delay and padding may add up to 0.25 s; a file short of its source fails."""
    assert compare_facts({"duration": 3.0}, {"duration": 3.11}, duration_tolerance=0.1, overhang=0.25) == []
    assert compare_facts({"duration": 3.0}, {"duration": 2.8}, duration_tolerance=0.1, overhang=0.25)
    assert compare_facts({"duration": 3.0}, {"duration": 3.11}, duration_tolerance=0.1)  # video: ±0.1 only
