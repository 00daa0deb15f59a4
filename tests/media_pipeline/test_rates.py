"""Bitrate ceilings and frame rates (issue 15, item 9): the TV stream's measured peak stays under the box's
8 Mb/s, and a 50/60 fps source keeps its rate only on rungs of 720p and up (Apple's HLS authoring spec)."""

import subprocess
from dataclasses import replace
from pathlib import Path

import m3u8
import pytest
from django.conf import settings

from media_pipeline.ffmpeg.commands import hls_ladder_command, rung_frame_rate
from media_pipeline.ffmpeg.ladder import plan_variants
from media_pipeline.ffmpeg.probe import probe_upload
from media_pipeline.ffmpeg.runner import check_run, run_ffmpeg
from media_pipeline.jobs.verify import peak_problems, verify_hls
from media_pipeline.steps import tv
from media_pipeline.steps.contract import Output, StepContext
from media_pipeline.steps.master_playlist import MASTER_NAME, write_master
from media_pipeline.steps.profiles import HLS_WEB, TV_1080P, tv_peak_bound
from media_pipeline.synthetic.media import make_clip


def _value(args, flag):
    return args[args.index(flag) + 1]


# --- TV: the ceiling -------------------------------------------------------------------------------------


def test_the_tv_profile_cannot_exceed_its_ceiling():
    """The VBV bound on a 6 s segment (maxrate × 6 + bufsize, plus audio and 3 % container) is under 8 Mb/s;
    the old 8 Mb/s cap with a 16 Mb buffer allowed 10.8 (and 8.25–9.37 was measured)."""
    assert tv_peak_bound(TV_1080P) <= TV_1080P.peak_bitrate == 8_000_000
    assert tv_peak_bound(replace(TV_1080P, maxrate=8_000_000, bufsize=16_000_000)) > 10_000_000


def test_a_measured_peak_over_the_ceiling_fails_verification():
    """An MP4 whose busiest HLS segment measured 8.4 Mb/s is named in the check; 7.9 passes."""
    output = Output(profile="tv_1080p", kind="mp4", path="tv_1080p/tv_1080p.mp4", bandwidth=8_400_000)
    assert peak_problems(output, TV_1080P) == ["peak_bandwidth：期望 ≤ 8000000，实际 8400000"]
    assert peak_problems(replace(output, bandwidth=7_900_000), TV_1080P) == []


@pytest.fixture(scope="module")
def noisy_clip(tmp_path_factory) -> Path:
    """13 s of 320×180 full of grain (nothing an encoder can save bits on): two 6 s segments and a 1 s one."""
    path = tmp_path_factory.mktemp("rates") / "noisy.mp4"
    subprocess.run(
        [settings.FFMPEG_BINARY, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=13"]
        + ["-f", "lavfi", "-i", "sine=duration=13", "-vf", "noise=alls=60:allf=t", "-c:v", "libx264"]
        + ["-preset", "ultrafast", "-crf", "5", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)],
        check=True,
    )
    return path


def _quarter(profile):
    """The TV profile at a quarter of its rates and a small frame: the VBV bound is linear in the rates."""
    return replace(
        profile,
        width=320,
        height=180,
        video_bitrate=profile.video_bitrate // 4,
        maxrate=profile.maxrate // 4,
        bufsize=profile.bufsize // 4,
        audio_bitrate=48_000,
        peak_bitrate=2_000_000,
    )


@pytest.mark.parametrize(
    ("rates", "fits"),
    [({}, True), ({"video_bitrate": 8_000_000, "maxrate": 8_000_000, "bufsize": 16_000_000}, False)],
    ids=["now", "before"],
)
def test_the_measured_tv_peak_fits_the_ceiling(noisy_clip, tmp_path, rates, fits):
    """On grain the encoder cannot compress, the TV stream's busiest segment measures under the (scaled) 2 Mb/s
    ceiling with today's rates, and over it with the old ones (scaled alike): the ceiling is enforced."""
    profile = _quarter(replace(TV_1080P, **rates))
    ctx = StepContext(source=noisy_clip, probe=probe_upload(noisy_clip), out_dir=tmp_path, work_dir=tmp_path / "w")
    mp4 = tv.produce(ctx, profile)[0]
    assert (mp4.bandwidth <= profile.peak_bitrate) is fits, mp4.bandwidth
    assert (peak_problems(mp4, profile) == []) is fits


# --- Web ladder: high frame rates ------------------------------------------------------------------------


def test_high_frame_rate_rungs_are_halved_below_720p(make_probe):
    """A 60 fps 1080p source: 1080p and 720p stay at 60, 540p/360p/234p get fps=30 and a 60-frame GOP (2 s);
    a 25 fps source gets no fps filter on any rung."""
    probe = make_probe(fps=60.0)
    rates = {v.name: rung_frame_rate(HLS_WEB, probe, v) for v in plan_variants(HLS_WEB, probe) if v.has_video}
    assert rates == {"1080p": 60.0, "720p": 60.0, "540p": 30.0, "360p": 30.0, "234p": 30.0}
    args = hls_ladder_command(profile=HLS_WEB, probe=probe, source=Path("/in/s.mp4"), out_dir=Path("/out"))
    graph = _value(args, "-filter_complex")
    assert graph.count("fps=30") == 3 and _value(args, "-g") == "120" and _value(args, "-g:v:2") == "60"
    assert "-g:v:1" not in args and _value(args, "-keyint_min:v:4") == "60"
    plain = hls_ladder_command(profile=HLS_WEB, probe=make_probe(), source=Path("/in/s.mp4"), out_dir=Path("/out"))
    assert "fps=" not in _value(plain, "-filter_complex")


def test_real_high_frame_rate_ladder_declares_each_rungs_rate(tmp_path):
    """640×360 at 60 fps with the full-rate line moved to 360p: the 360p rung is 60 fps, the 234p rung 30 fps,
    the master says so per rung (FRAME-RATE read from the segments) and the ladder verifies."""
    source = make_clip(tmp_path / "sixty.mp4", size="640x360", seconds=2, rate=60)
    probe = probe_upload(source)
    profile = replace(HLS_WEB, high_frame_rate_min_short_side=360)
    out = tmp_path / "hls"
    check_run(run_ffmpeg(hls_ladder_command(profile=profile, probe=probe, source=source, out_dir=out), duration=2))
    write_master(out, plan_variants(profile, probe), frame_rate=probe.fps)
    master = m3u8.loads((out / MASTER_NAME).read_text())
    rates = {p.uri.split("/")[0]: p.stream_info.frame_rate for p in master.playlists if p.stream_info.resolution}
    assert rates == {"360p": 60.0, "234p": 30.0}
    verify_hls(master_path=out / MASTER_NAME, expect_duration=probe.duration)
