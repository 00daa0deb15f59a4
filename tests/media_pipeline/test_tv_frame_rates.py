"""The TV frame-rate policy (issue 15, items 4 and 15): the source's rate where a box plays it (≤ 30 fps), halved
above that; checked on real encodes of every common source rate with ``mpdecimate``: no repeated frame."""

import subprocess
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
from django.conf import settings

from media_pipeline.ffmpeg.probe import ffprobe_json, probe_upload
from media_pipeline.ffmpeg.runner import check_run, run_ffmpeg
from media_pipeline.jobs.verify import verify_video_file, video_expectations
from media_pipeline.steps.profiles import TV_1080P
from media_pipeline.steps.tv import tv_frame_rate, tv_mp4_command

# Source rate → the TV edition's rate.
POLICY = {
    "15": "15",
    "18": "18",
    "24000/1001": "24000/1001",
    "25": "25",
    "30000/1001": "30000/1001",
    "50": "25",
    "60": "30",
}
# A small frame keeps each encode to a fraction of a second; the rate logic does not depend on the size.
SMALL_TV = replace(TV_1080P, width=320, height=180, video_bitrate=2_000_000, maxrate=2_000_000, bufsize=1_000_000)


@pytest.mark.parametrize(
    ("fps", "nominal", "expected"),
    [
        (15.0, 15.0, "15"),
        (23.976023976, 23.976023976, "24000/1001"),
        (29.97002997, 29.97002997, "30000/1001"),
        (50.0, 50.0, "25"),
        (59.94005994, 59.94005994, "30000/1001"),
        (60.0, 60.0, "30"),
        (16.8, 25.0, "25"),  # a variable-rate clip: its nominal rate, not its average
        (0.0, 0.0, "25"),  # no rate stated: the profile's
    ],
)
def test_policy_table(make_probe, fps, nominal, expected):
    """Every source rate maps to its TV rate exactly (as a fraction): kept up to 30 fps, halved above."""
    assert tv_frame_rate(TV_1080P, make_probe(fps=fps, nominal_fps=nominal)) == Fraction(expected)


def _graph(args):
    return args[args.index("-filter_complex") + 1]


def test_command_uses_the_exact_rate_and_a_one_second_gop(make_probe):
    """A 23.976 fps source: fps=24000/1001 in the graph and a 24-frame GOP (1 s), not fps=25."""
    probe = make_probe(fps=23.976023976, nominal_fps=23.976023976)
    args = tv_mp4_command(
        profile=TV_1080P, probe=probe, source=Path("/in/film.mp4"), out_path=Path("/o.mp4"), loudness=None
    )
    assert "fps=24000/1001" in _graph(args) and args[args.index("-g") + 1] == "24"


def _frames(path: Path, *filters: str) -> int:
    """Decoded frames, after ``filters`` (mpdecimate drops a frame that repeats the one before)."""
    args = [settings.FFMPEG_BINARY, "-v", "error", "-i", str(path), "-map", "0:v:0"]
    if filters:
        args += ["-vf", ",".join(filters), "-fps_mode", "passthrough"]
    out = subprocess.run([*args, "-f", "framemd5", "-"], capture_output=True, text=True, check=True).stdout
    return sum(1 for line in out.splitlines() if line and not line.startswith("#"))


@pytest.mark.parametrize("rate", sorted(POLICY, key=lambda r: float(Fraction(r))))
def test_no_repeated_frames_at_any_source_rate(tmp_path, rate):
    """1 s of grain at each source rate (every frame differs from the last) through the real TV command:
    the file has the policy's rate and mpdecimate finds no repeated frame (before: 15, 18 and 23.976 were
    made 25 by repeating frames; 29.97 and 60 lost frames unevenly)."""
    source = tmp_path / "source.mp4"
    subprocess.run(
        [settings.FFMPEG_BINARY, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size=160x90:rate={rate}:d=1"]
        + ["-vf", "noise=alls=40:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", str(source)],
        check=True,
    )
    probe = probe_upload(source)
    out = tmp_path / "tv.mp4"
    args = tv_mp4_command(profile=SMALL_TV, probe=probe, source=source, out_path=out, loudness=None)
    check_run(run_ffmpeg(args, duration=probe.duration))
    video = ffprobe_json(out)["streams"][0]
    assert Fraction(video["r_frame_rate"]) == Fraction(POLICY[rate])
    total = _frames(out)
    assert abs(total - float(Fraction(POLICY[rate]))) <= 1  # 1 s at that rate, a part-frame either way
    assert _frames(out, "mpdecimate") == total
    expect = video_expectations(profile=SMALL_TV, duration=probe.duration, audio=False)
    verify_video_file(path=out, expect={**expect, "frame_rate": float(Fraction(POLICY[rate]))})
