"""The pure parts: ladder planning and ffmpeg arguments, tested by what they return."""

from dataclasses import replace
from pathlib import Path

from media_pipeline.ffmpeg.commands import hls_ladder_command
from media_pipeline.ffmpeg.ladder import plan_variants
from media_pipeline.steps.profiles import HLS_WEB

SOURCE, OUT = Path("/in/source.mp4"), Path("/out/hls")


def _args(probe):
    return hls_ladder_command(profile=HLS_WEB, probe=probe, source=SOURCE, out_dir=OUT)


def _value(args, flag):
    return args[args.index(flag) + 1]


def test_full_hd_source_gets_every_rung_and_an_audio_only_rung(make_probe):
    """A 1080p source gets all five Apple rungs, largest first, plus the 64 kbps audio-only rung."""
    variants = plan_variants(HLS_WEB, make_probe())
    assert [(v.width, v.height, v.video_bitrate) for v in variants if v.has_video] == [
        (1920, 1080, 6_000_000),
        (1280, 720, 3_000_000),
        (960, 540, 2_000_000),
        (640, 360, 730_000),
        (416, 234, 145_000),
    ]
    assert variants[-1].name == "audio" and variants[-1].audio_bitrate == 64_000 and not variants[-1].has_video


def test_rungs_above_the_source_are_skipped(make_probe):
    """A 640×360 source is never upscaled: only the 360p and 234p rungs (and audio) are encoded."""
    args = _args(make_probe(width=640, height=360))
    assert _value(args, "-var_stream_map") == "v:0,a:0,name:360p v:1,a:1,name:234p a:2,name:audio"
    graph = _value(args, "-filter_complex")
    assert "split=2" in graph and "scale=640:360" in graph and "scale=416:234" in graph
    assert "scale=1280" not in graph


def test_tiny_source_keeps_the_smallest_rung_at_its_own_size(make_probe):
    """Smaller than 416×234: one rung with the smallest bitrate, at the source's even size, no upscale."""
    [video, audio] = plan_variants(HLS_WEB, make_probe(width=321, height=181))
    assert (video.width, video.height, video.video_bitrate) == (320, 180, 145_000)
    assert audio.name == "audio"


def test_portrait_source_gets_portrait_rungs(make_probe):
    """A 1080×1920 phone video scales by its short side: 1080×1920, 720×1280 … 234×416, all even."""
    variants = [v for v in plan_variants(HLS_WEB, make_probe(width=1080, height=1920)) if v.has_video]
    assert [(v.width, v.height) for v in variants] == [(1080, 1920), (720, 1280), (540, 960), (360, 640), (234, 416)]


def test_non_16_9_source_keeps_its_shape_with_even_sizes(make_probe):
    """A 4:3 720×540 source gets 720×540, 480×360 and 312×234."""
    variants = [v for v in plan_variants(HLS_WEB, make_probe(width=720, height=540)) if v.has_video]
    assert [(v.width, v.height) for v in variants] == [(720, 540), (480, 360), (312, 234)]


def test_source_without_audio_has_no_audio_anywhere(make_probe):
    """No audio stream: no audio-only rung, no audio in the variants, no audio encoder or filter."""
    args = _args(make_probe(width=640, height=360, has_audio=False))
    assert _value(args, "-var_stream_map") == "v:0,name:360p v:1,name:234p"
    assert "-c:a" not in args and "0:a" not in _value(args, "-filter_complex")


def test_audio_source_gets_only_audio_rungs(make_probe):
    """An audio file (or an MP3 with cover art, probed as has_video=False) gets the audio-only ladder."""
    args = _args(make_probe(has_video=False, width=0, height=0))
    assert _value(args, "-var_stream_map") == "a:0,name:audio"
    assert "-c:v" not in args


def test_two_second_closed_gop_aligned_across_rungs(make_probe):
    """Keyframes forced every 2 s by time on every rung, GOP of 50 frames at 25 fps, closed, no scene cuts."""
    args = _args(make_probe())
    assert _value(args, "-force_key_frames") == "expr:gte(t,n_forced*2)"
    assert _value(args, "-g") == "50" and _value(args, "-keyint_min") == "50"
    assert _value(args, "-sc_threshold") == "0" and _value(args, "-flags") == "+cgop"
    assert _value(args, "-profile:v") == "high" and _value(args, "-c:v") == "libx264"


def test_gop_follows_the_frame_rate(make_probe):
    """At 30 fps the 2 s GOP is 60 frames."""
    assert _value(_args(make_probe(fps=30.0)), "-g") == "60"


def test_fmp4_segments_of_six_seconds(make_probe):
    """HLS with fMP4 (CMAF) segments of 6 s, VOD playlists, one folder per variant."""
    args = _args(make_probe())
    assert _value(args, "-f") == "hls" and _value(args, "-hls_segment_type") == "fmp4"
    assert _value(args, "-hls_time") == "6" and _value(args, "-hls_playlist_type") == "vod"
    assert _value(args, "-hls_segment_filename") == "/out/hls/%v/seg_%05d.m4s"
    assert args[-2:] == ["/out/hls/%v/index.m3u8", "-y"]


def test_one_process_decodes_once_with_progress(make_probe):
    """One input, one split filter feeding every encoder, machine-readable progress on stdout."""
    args = _args(make_probe())
    assert args.count("-i") == 1 and "split=5" in _value(args, "-filter_complex")
    assert _value(args, "-progress") == "pipe:1" and "-nostats" in args
    assert _value(args, "-b:v:0") == "6000000" and _value(args, "-maxrate:v:0") == "6600000"
    assert _value(args, "-ar") == "48000" and _value(args, "-c:a") == "aac"


def test_high_frame_rate_is_capped(make_probe):
    """A 120 fps source is brought down to the profile's 60 fps before splitting."""
    assert "fps=60" in _value(_args(make_probe(fps=120.0)), "-filter_complex")


def test_interlaced_source_is_deinterlaced_once_before_the_split(make_probe):
    """1080i: bwdif (one frame per frame) runs once, before the split, so every rung is progressive."""
    graph = _value(_args(make_probe(interlaced=True)), "-filter_complex")
    assert graph.count("bwdif=mode=send_frame") == 1 and graph.index("bwdif") < graph.index("split")
    assert "bwdif" not in _value(_args(make_probe()), "-filter_complex")


def test_whole_source_run_has_no_slice_options(make_probe):
    """Without chunk options the ladder reads the whole source on ffmpeg's usual timeline, as before."""
    args = _args(make_probe())
    for flag in ("-ss", "-t", "-start_number", "-output_ts_offset", "-avoid_negative_ts", "-hls_segment_options"):
        assert flag not in args


def test_audio_filters_run_before_resampling(make_probe):
    """Extra audio filters (loudnorm outputs 192 kHz) come before the resampler that sets the profile's rate."""
    args = hls_ladder_command(
        profile=HLS_WEB,
        probe=make_probe(),
        source=SOURCE,
        out_dir=OUT,
        audio_filters=[("loudnorm", {"I": "-16", "TP": "-1"})],
    )
    graph = _value(args, "-filter_complex")
    assert graph.index("[0:a:0]loudnorm=I=-16:TP=-1") < graph.index("aresample=48000")


def test_variants_can_be_chosen(make_probe):
    """An explicit variant list (a chunk's video-only rungs) replaces the profile's plan."""
    [video] = [v for v in plan_variants(HLS_WEB, make_probe(width=640, height=360)) if v.name == "234p"]
    args = hls_ladder_command(
        profile=HLS_WEB, probe=make_probe(), source=SOURCE, out_dir=OUT, variants=[replace(video, audio_bitrate=0)]
    )
    assert _value(args, "-var_stream_map") == "v:0,name:234p" and "-c:a" not in args
