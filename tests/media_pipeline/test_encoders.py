"""The video encoder choice: x264 (default) or NVENC options for the ladder, TV and screens, and the fallback.

This machine has no GPU: the NVENC path is tested by its arguments, by ffmpeg accepting them up to opening the
device, and by the capability probe answering "no" (a GPU machine runs ``manage.py media_encoder_check``).
"""

import logging
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from media_pipeline.ffmpeg import encoders
from media_pipeline.ffmpeg.commands import hls_ladder_command
from media_pipeline.ffmpeg.encoders import NVENC, X264, encoder_in_force, nvenc_available, video_encoder_options
from media_pipeline.steps import screens, tv
from media_pipeline.steps.contract import StepContext
from media_pipeline.steps.profiles import HLS_WEB, SCREEN_PORTRAIT, TV_1080P
from media_pipeline.synthetic.media import make_clip

SOURCE = Path("/in/source.mp4")
# Options only one encoder understands: none of them may leak into the other's command.
X264_ONLY = ("-keyint_min", "-sc_threshold", "-flags", "-x264opts", "-x264-params")
NVENC_ONLY = ("-rc", "-tune", "-forced-idr", "-strict_gop", "-no-scenecut", "-bf")
# What ffmpeg says when NVENC options were accepted but there is no GPU (or no NVENC on it) to open.
NO_DEVICE_MARKERS = ("Cannot load libcuda", "Cannot init CUDA", "No NVENC capable devices", "No capable devices")
# The driver's device nodes: where they exist the probe may rightly say yes, so "no" is not asserted.
NVIDIA_PRESENT = Path("/dev/nvidiactl").exists()


@pytest.fixture(autouse=True)
def _fresh_probe():
    """Every test starts with no cached probe answer and no warning already logged."""
    encoders.clear_cache()
    yield
    encoders.clear_cache()


def _value(args, flag):
    return args[args.index(flag) + 1]


def _ladder(make_probe, encoder=X264):
    return hls_ladder_command(profile=HLS_WEB, probe=make_probe(), source=SOURCE, out_dir=Path("/out"), encoder=encoder)


def _tv(make_probe, encoder=X264, out=Path("/out/tv.mp4"), source=SOURCE, probe=None):
    probe = probe or make_probe()
    return tv.tv_mp4_command(profile=TV_1080P, probe=probe, source=source, out_path=out, loudness=None, encoder=encoder)


def _screen(make_probe, encoder=X264, out=Path("/out/screen.mp4"), source=SOURCE, probe=None):
    probe = probe or make_probe()
    return screens.screen_command(
        profile=SCREEN_PORTRAIT,
        probe=probe,
        source=source,
        out_path=out,
        captions=None,
        fill="crop",
        focal_x=0.5,
        encoder=encoder,
    )


def _without_video_encoder_options(args):
    """The argument list minus every option the encoders module sets (what both encoders must share)."""
    keys = {f"-{key}" for encoder in (X264, NVENC) for key in _sample_options(encoder)}
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in keys:
            skip = True
        else:
            kept.append(arg)
    return kept


def _sample_options(encoder, **changes):
    arguments = {
        "encoder": encoder,
        "video_profile": "high",
        "level": "4.0",
        "preset": "veryfast",
        "gop_frames": 50,
        "closed_gop": True,
        "keyframe_expr": "expr:gte(t,n_forced*2)",
    }
    return video_encoder_options(**{**arguments, **changes})


# --- The option sets (pure) ------------------------------------------------------------------------------


def test_x264_options_are_todays_exactly():
    """x264 gets exactly the options the profiles used before the NVENC variant existed."""
    assert _sample_options(X264) == {
        "c:v": "libx264",
        "profile:v": "high",
        "level:v": "4.0",
        "preset": "veryfast",
        "g": 50,
        "keyint_min": 50,
        "sc_threshold": 0,
        "flags": "+cgop",
        "force_key_frames": "expr:gte(t,n_forced*2)",
    }


def test_nvenc_options_keep_the_same_stream_contract():
    """NVENC: High at the level asked, VBR, p4/hq, the same GOP and forced keyframes made IDR (closed GOPs)."""
    assert _sample_options(NVENC) == {
        "c:v": "h264_nvenc",
        "preset": "p4",
        "tune": "hq",
        "profile:v": "high",
        "level:v": "4.0",
        "rc": "vbr",
        "strict_gop": 1,
        "g": 50,
        "bf": 3,
        "no-scenecut": 1,
        "forced-idr": 1,
        "force_key_frames": "expr:gte(t,n_forced*2)",
    }


def test_optional_parts_are_left_out_for_both_encoders():
    """No level, no closed-GOP request and no forced keyframes: neither encoder writes those options."""
    for encoder, closed_key in ((X264, "flags"), (NVENC, "forced-idr")):
        options = _sample_options(encoder, level=None, closed_gop=False, keyframe_expr=None)
        assert not {"level:v", closed_key, "force_key_frames"} & set(options)


def test_x264_presets_map_to_nvenc_presets():
    """x264's fast presets map to NVENC's middle p4, slower ones to p5..p7, an unknown one to p4."""
    assert _sample_options(NVENC, preset="veryfast")["preset"] == "p4"
    assert _sample_options(NVENC, preset="medium")["preset"] == "p5"
    assert _sample_options(NVENC, preset="veryslow")["preset"] == "p7"
    assert _sample_options(NVENC, preset="whatever")["preset"] == "p4"


def test_unknown_encoder_is_refused():
    """A codec name other than the two known encoders is a programming error, not a silent default."""
    with pytest.raises(ValueError, match="unknown video encoder"):
        _sample_options("libx265")


def test_keyframe_times_expression():
    """The forced-keyframe expression counts whole GOPs of presentation time."""
    assert encoders.keyframe_times(2.0) == "expr:gte(t,n_forced*2)"
    assert encoders.keyframe_times(0.5) == "expr:gte(t,n_forced*0.5)"


# --- The ladder, TV and screens commands (pure) ----------------------------------------------------------


def test_commands_default_to_x264(make_probe):
    """Without ``encoder`` the three commands are exactly their x264 form (today's commands)."""
    probe = make_probe()
    assert hls_ladder_command(profile=HLS_WEB, probe=probe, source=SOURCE, out_dir=Path("/out")) == _ladder(make_probe)
    default_tv = tv.tv_mp4_command(
        profile=TV_1080P, probe=probe, source=SOURCE, out_path=Path("/out/tv.mp4"), loudness=None
    )
    assert default_tv == _tv(make_probe)


def test_x264_ladder_keeps_todays_video_options(make_probe):
    """Ladder on x264: libx264 High veryfast, 2 s closed GOP forced by time, no scene cuts, no level."""
    args = _ladder(make_probe)
    assert _value(args, "-c:v") == "libx264" and _value(args, "-preset") == "veryfast"
    assert _value(args, "-g") == "50" and _value(args, "-keyint_min") == "50"
    assert _value(args, "-sc_threshold") == "0" and _value(args, "-flags") == "+cgop"
    assert _value(args, "-force_key_frames") == "expr:gte(t,n_forced*2)"
    assert "-level:v" not in args and not set(NVENC_ONLY) & set(args)


def test_nvenc_ladder(make_probe):
    """Ladder on NVENC: h264_nvenc for every rung, VBR at each rung's rates, IDR keyframes, no x264 options."""
    args = _ladder(make_probe, NVENC)
    assert _value(args, "-c:v") == "h264_nvenc" and _value(args, "-profile:v") == "high"
    assert _value(args, "-rc") == "vbr" and _value(args, "-forced-idr") == "1" and _value(args, "-strict_gop") == "1"
    assert _value(args, "-g") == "50" and _value(args, "-force_key_frames") == "expr:gte(t,n_forced*2)"
    assert _value(args, "-b:v:0") == "6000000" and _value(args, "-maxrate:v:0") == "6600000"
    assert _value(args, "-bufsize:v:4") == "290000"
    assert not set(X264_ONLY) & set(args)


def test_nvenc_tv(make_probe):
    """TV on NVENC: High 4.0, capped 6.9 Mb/s VBR, 1 s GOP with IDR keyframes, BT.709 tags, no x264 options."""
    args = _tv(make_probe, NVENC)
    assert _value(args, "-c:v") == "h264_nvenc" and _value(args, "-level:v") == "4.0"
    assert _value(args, "-rc") == "vbr" and _value(args, "-b:v") == _value(args, "-maxrate") == "6900000"
    assert _value(args, "-g") == "25" and _value(args, "-forced-idr") == "1"
    assert _value(args, "-force_key_frames") == "expr:gte(t,n_forced*1)"
    assert _value(args, "-colorspace") == "bt709" and _value(args, "-pix_fmt") == "yuv420p"
    assert not set(X264_ONLY) & set(args)


def test_nvenc_screen(make_probe):
    """Screens on NVENC: High 4.0, CFR 25, 2 s GOP with IDR keyframes, no audio, faststart, no x264 options."""
    args = _screen(make_probe, NVENC)
    assert _value(args, "-c:v") == "h264_nvenc" and _value(args, "-level:v") == "4.0"
    assert _value(args, "-rc") == "vbr" and _value(args, "-forced-idr") == "1" and _value(args, "-g") == "50"
    assert _value(args, "-fps_mode") == "cfr" and "-an" in args and _value(args, "-movflags") == "+faststart"
    assert not set(X264_ONLY) & set(args)


def test_only_the_encoder_options_differ(make_probe):
    """Same graph (decode, filters, yuv420p on the CPU), maps, rates and muxer for both encoders."""
    for build in (_ladder, _tv, _screen):
        x264, nvenc = build(make_probe, X264), build(make_probe, NVENC)
        assert x264 != nvenc
        assert _without_video_encoder_options(x264) == _without_video_encoder_options(nvenc)


# --- Which encoder is in force ---------------------------------------------------------------------------


def test_default_is_x264_without_probing(settings, monkeypatch):
    """Setting unset or empty: libx264, and no probe encode is run at all."""
    monkeypatch.setattr(encoders.subprocess, "run", lambda *a, **k: pytest.fail("probed although x264 was asked"))
    if hasattr(settings, "MEDIA_VIDEO_ENCODER"):
        del settings.MEDIA_VIDEO_ENCODER
    assert encoder_in_force() == X264
    settings.MEDIA_VIDEO_ENCODER = ""
    assert encoder_in_force() == X264


def test_unknown_setting_is_a_configuration_error(settings):
    """A misspelt encoder name stops the step loudly rather than encoding with something unexpected."""
    settings.MEDIA_VIDEO_ENCODER = "nvenc"
    with pytest.raises(ImproperlyConfigured, match="MEDIA_VIDEO_ENCODER"):
        encoder_in_force()


def test_nvenc_is_used_where_the_probe_succeeds(settings, monkeypatch):
    """Asked for NVENC and the probe encode works: h264_nvenc is in force."""
    settings.MEDIA_VIDEO_ENCODER = NVENC
    monkeypatch.setattr(encoders, "nvenc_available", lambda: True)
    assert encoder_in_force() == NVENC


@pytest.mark.skipif(NVIDIA_PRESENT, reason="an NVIDIA driver is present: NVENC may rightly work here")
def test_nvenc_setting_falls_back_to_x264_with_one_warning(settings, caplog):
    """Real probe on this GPU-less machine: h264_nvenc asked for → libx264, warned once with ffmpeg's reason."""
    settings.MEDIA_VIDEO_ENCODER = NVENC
    with caplog.at_level(logging.WARNING, logger="media_pipeline.encoders"):
        assert encoder_in_force() == X264
        assert encoder_in_force() == X264
    warnings = [r for r in caplog.records if r.name == "media_pipeline.encoders"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "h264_nvenc" in warnings[0].getMessage() and encoders.nvenc_failure() in warnings[0].getMessage()


@pytest.mark.skipif(NVIDIA_PRESENT, reason="an NVIDIA driver is present: NVENC may rightly work here")
def test_real_probe_says_no_here():
    """The capability probe really runs ffmpeg; without a GPU it answers False and keeps ffmpeg's reason."""
    assert nvenc_available() is False
    reason = encoders.nvenc_failure()
    assert reason and any(marker in reason for marker in NO_DEVICE_MARKERS)


def test_probe_without_ffmpeg_says_no(settings):
    """No ffmpeg binary at all is "not available", not a crash."""
    settings.FFMPEG_BINARY = "/nonexistent/ffmpeg"
    assert nvenc_available() is False
    assert encoders.nvenc_failure().startswith("FileNotFoundError")


def test_probe_command_is_a_tiny_null_encode():
    """The probe encodes 0.1 s of a 256×256 colour to the null muxer with h264_nvenc."""
    args = encoders.probe_command()
    assert _value(args, "-f") == "lavfi" and _value(args, "-i") == "color=s=256x256:d=0.1"
    assert _value(args, "-c:v") == "h264_nvenc" and "null" in args and args[-1] == "-"


def test_produce_steps_pass_the_encoder_in_force(make_probe, monkeypatch, tmp_path):
    """tv.produce and screens.produce build their command with ``encoder_in_force()``'s answer."""
    seen = []

    class Stop(Exception):
        pass

    def fake_run(args, **_kwargs):
        seen.append(args)
        raise Stop

    ctx = StepContext(source=SOURCE, probe=make_probe(), out_dir=tmp_path, work_dir=tmp_path)
    for module, profile in ((tv, TV_1080P), (screens, SCREEN_PORTRAIT)):
        monkeypatch.setattr(module, "encoder_in_force", lambda: NVENC)
        monkeypatch.setattr(module, "run_ffmpeg", fake_run)
        with pytest.raises(Stop):
            module.produce(ctx, profile)
    assert [_value(args, "-c:v") for args in seen] == [NVENC, NVENC]


# --- ffmpeg 5.1 accepts the NVENC options (real runs up to opening the device) ---------------------------


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory) -> Path:
    """1 s, 160×90 with a tone: only needs to get ffmpeg as far as opening the encoder."""
    return make_clip(tmp_path_factory.mktemp("encoders") / "tiny.mp4", size="160x90", seconds=1, audio=True)


@pytest.mark.skipif(NVIDIA_PRESENT, reason="an NVIDIA driver is present: the encode may really start")
def test_ffmpeg_accepts_every_nvenc_option(tiny_clip, tmp_path, make_probe):
    """Each NVENC command gets past option parsing (names and values valid) and stops only at the missing GPU."""
    probe = make_probe(duration=1.0, width=160, height=90)
    commands = [
        hls_ladder_command(profile=HLS_WEB, probe=probe, source=tiny_clip, out_dir=tmp_path / "hls", encoder=NVENC),
        _tv(make_probe, NVENC, out=tmp_path / "tv.mp4", source=tiny_clip, probe=probe),
        _screen(make_probe, NVENC, out=tmp_path / "screen.mp4", source=tiny_clip, probe=probe),
    ]
    for args in commands:
        done = subprocess.run([settings.FFMPEG_BINARY, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode != 0
        assert "Error setting option" not in done.stderr and "Unrecognized option" not in done.stderr
        assert "Unable to parse option" not in done.stderr
        assert any(marker in done.stderr for marker in NO_DEVICE_MARKERS), done.stderr


# --- The check someone runs on a GPU machine -------------------------------------------------------------


@pytest.mark.skipif(NVIDIA_PRESENT, reason="an NVIDIA driver is present: the check would go on to encode")
def test_encoder_check_command_reports_no_nvenc_here():
    """``media_encoder_check`` prints the setting, the probe's reason and x264 in force, and encodes nothing."""
    out = StringIO()
    call_command("media_encoder_check", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "MEDIA_VIDEO_ENCODER: libx264"
    assert lines[1].startswith("NVENC probe: unavailable (") and lines[2] == "encoder in force: libx264"
    assert len(lines) == 3


def test_encoder_check_command_compares_encodes(monkeypatch):
    """Where the probe works, each encoder's TV encode is timed and summarised (x264 alone here: no GPU)."""
    monkeypatch.setattr(encoders, "clear_cache", lambda: None)
    monkeypatch.setattr(encoders, "nvenc_failure", lambda: None)
    monkeypatch.setattr(encoders, "VIDEO_ENCODERS", (X264,))
    out = StringIO()
    call_command("media_encoder_check", "--seconds", "0.4", stdout=out)
    [line] = [line for line in out.getvalue().splitlines() if line.startswith("libx264:")]
    assert "s wall;" in line and "profile=High" in line and "level=40" in line and "pix_fmt=yuv420p" in line
    assert "keyframes at 0" in line
