"""The TV profile: 1080p25 MP4 arguments (frame fitting, GOP, level, loudness), HLS packaging, real outputs."""

import subprocess
from dataclasses import replace
from pathlib import Path

import m3u8
import pytest
from django.conf import settings

from media_pipeline.errors import BadInputError
from media_pipeline.ffmpeg.loudness import loudness_check, loudness_measure
from media_pipeline.ffmpeg.probe import ffprobe_json, probe_file
from media_pipeline.jobs.verify import top_level_boxes, verify_hls
from media_pipeline.steps.contract import LoudnessMeasurement, StepContext
from media_pipeline.steps.profiles import LOUDNESS_TOLERANCE_LU, LOUDNESS_TV, TV_1080P
from media_pipeline.steps.tv import fitted_size, produce, tv_hls_command, tv_mp4_command
from tests.media_pipeline.iframe_checks import decode_each_entry, variant_frames

SOURCE, OUT = Path("/in/source.mp4"), Path("/out/tv_1080p/tv_1080p.mp4")
MEASURED = LoudnessMeasurement(input_i=-29.98, input_tp=-25.25, input_lra=3.5, input_thresh=-39.98, target_offset=0.01)


def _value(args, flag):
    return args[args.index(flag) + 1]


def _args(make_probe, loudness=MEASURED, profile=TV_1080P, **probe_changes):
    probe = make_probe(**probe_changes)
    return tv_mp4_command(profile=profile, probe=probe, source=SOURCE, out_path=OUT, loudness=loudness)


def _graph(make_probe, **probe_changes):
    return _value(_args(make_probe, **probe_changes), "-filter_complex")


def _ffprobe(path: Path) -> dict:
    return ffprobe_json(path)


def _top_level_boxes(path: Path) -> list[str]:
    with path.open("rb") as handle:
        return top_level_boxes(handle)


@pytest.fixture(scope="session")
def tv_source(clips_dir) -> Path:
    """2 s, 320×240 (4:3), 25 fps, with a stereo tone at about −30 LUFS (far below the TV's −24)."""
    path = clips_dir / "tv_quiet_4x3.mp4"
    subprocess.run(
        [settings.FFMPEG_BINARY, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2"]
        + ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2"]
        + ["-af", "volume=-8.2dB,aformat=channel_layouts=stereo", "-c:v", "libx264", "-preset", "ultrafast"]
        + ["-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )
    return path


def _produce(source: Path, tmp_path: Path):
    probe = probe_file(source)
    loudness = loudness_measure(source=source, probe=probe, target=LOUDNESS_TV)
    seen = []
    ctx = StepContext(
        source=source,
        probe=probe,
        out_dir=tmp_path,
        work_dir=tmp_path / "work",
        loudness=loudness,
        on_progress=lambda f: seen.append(f) or True,
    )
    return produce(ctx, TV_1080P), seen


# --- the picture ---------------------------------------------------------------------------------------


def test_fitted_size_keeps_the_shape():
    """16:9 fills the frame, 4:3 is 1440×1080, portrait 9:16 is 608×1080, wide 2.39:1 is letterboxed."""
    assert fitted_size(1920, 1080, 1920, 1080) == (1920, 1080)
    assert fitted_size(320, 240, 1920, 1080) == (1440, 1080)
    assert fitted_size(1080, 1920, 1920, 1080) == (608, 1080)
    assert fitted_size(1920, 804, 1920, 1080) == (1920, 804)


def test_picture_is_fitted_padded_centred_square_at_its_own_rate(make_probe):
    """4:3 29.97 fps source: kept at exactly 30000/1001 fps (the TV policy: no frame repeated or dropped),
    scaled to 1440×1080 (not stretched), padded centred to 1920×1080, square pixels."""
    graph = _graph(make_probe, width=640, height=480, fps=29.97)
    assert "fps=30000/1001" in graph and "scale=1440:1080" in graph
    assert "pad=1920:1080:(ow-iw)/2:(oh-ih)/2:color=black" in graph and "setsar=1" in graph
    assert graph.index("fps=30000/1001") < graph.index("scale=") < graph.index("pad=") < graph.index("setsar=1")


def test_anamorphic_source_is_fitted_by_its_displayed_shape(make_probe):
    """A 720×576 PAL 16:9 source probes as 1024 wide (display pixels): it fills 1920×1080, not 1350×1080."""
    assert "scale=1920:1080" in _graph(make_probe, width=1024, height=576)


def test_unknown_shape_is_fitted_by_ffmpeg_not_stretched(make_probe):
    """Without a probed size, scale keeps the source's own shape (force_original_aspect_ratio) and pads."""
    graph = _graph(make_probe, width=0, height=0)
    assert "scale=1920:1080:force_divisible_by=2:force_original_aspect_ratio=decrease" in graph and "pad=" in graph


def test_portrait_source_is_pillarboxed(make_probe):
    """A 1080×1920 phone video sits upright in the middle of the landscape frame (608 wide, bars each side)."""
    graph = _graph(make_probe, width=1080, height=1920)
    assert "scale=608:1080" in graph and "pad=1920:1080:(ow-iw)/2:(oh-ih)/2" in graph


def test_sd_colours_are_converted_to_bt709_and_tagged(make_probe):
    """SD (BT.601) is converted to the BT.709 matrix HD boxes assume; HD is left alone; both tagged BT.709."""
    assert "out_color_matrix=bt709" in _graph(make_probe, width=720, height=576)
    args = _args(make_probe)
    assert "out_color_matrix" not in _value(args, "-filter_complex")
    assert _value(args, "-colorspace") == _value(args, "-color_primaries") == _value(args, "-color_trc") == "bt709"


def test_bwdif_only_for_interlaced_sources(make_probe):
    """Deinterlacing (bwdif, one frame per frame) runs only when the probe says interlaced, and before fps."""
    assert "bwdif" not in _graph(make_probe)
    graph = _graph(make_probe, interlaced=True)
    assert "bwdif=mode=send_frame" in graph and graph.index("bwdif") < graph.index("fps=25")
    no_deinterlace = replace(TV_1080P, deinterlace=False)
    assert "bwdif" not in _value(_args(make_probe, profile=no_deinterlace, interlaced=True), "-filter_complex")


def test_h264_high_level_4_with_capped_rate(make_probe):
    """H.264 High level 4.0 yuv420p at 6.9 Mb/s average and cap, a 0.5 s (3.45 Mb) buffer, faststart MP4: the
    whole stream's peak, audio and container included, stays under the box's 8 Mb/s."""
    args = _args(make_probe)
    assert _value(args, "-c:v") == "libx264" and _value(args, "-profile:v") == "high"
    assert _value(args, "-level:v") == "4.0" and _value(args, "-pix_fmt") == "yuv420p"
    assert _value(args, "-b:v") == "6900000" and _value(args, "-maxrate") == "6900000"
    assert _value(args, "-bufsize") == "3450000"
    assert _value(args, "-f") == "mp4" and _value(args, "-movflags") == "+faststart"


def test_one_second_closed_gop(make_probe):
    """Keyframes every second by time (25 frames), closed GOPs, no scene-cut keyframes."""
    args = _args(make_probe, fps=50.0)
    assert _value(args, "-g") == "25" and _value(args, "-keyint_min") == "25"
    assert _value(args, "-sc_threshold") == "0" and _value(args, "-flags") == "+cgop"
    assert _value(args, "-force_key_frames") == "expr:gte(t,n_forced*1)"


# --- the sound -----------------------------------------------------------------------------------------


def test_audio_is_aac_lc_48k_stereo_at_tv_loudness(make_probe):
    """AAC-LC 192k 48 kHz stereo; loudnorm pass 2 at −24 LKFS / −2 dBTP, linear, with the measured values."""
    args = _args(make_probe)
    assert _value(args, "-c:a") == "aac" and _value(args, "-profile:a") == "aac_low"
    assert _value(args, "-b:a") == "192000" and _value(args, "-ar") == "48000" and _value(args, "-ac") == "2"
    graph = _value(args, "-filter_complex")
    assert "loudnorm=I=-24:LRA=11:TP=-2.5:linear=true:measured_I=-29.98:measured_LRA=3.50:measured_TP=-25.25" in graph
    assert graph.index("loudnorm") < graph.index("aresample=48000")


def test_surround_is_downmixed_and_mono_spread_to_stereo(make_probe):
    """5.1 is downmixed to stereo before loudnorm; mono is normalised as mono, then made stereo."""
    surround = _graph(make_probe, audio_channels=6)
    assert surround.index("channel_layouts=stereo") < surround.index("loudnorm")
    mono = _graph(make_probe, audio_channels=1)
    assert mono.index("channel_layouts=mono") < mono.index("loudnorm=I=-24") < mono.index("channel_layouts=stereo")


def test_no_audio_means_no_audio_track(make_probe):
    """A source without audio gets no audio track: no audio filter, encoder or invented silence."""
    args = _args(make_probe, has_audio=False, audio_channels=0)
    assert "-c:a" not in args and "0:a" not in _value(args, "-filter_complex") and "anullsrc" not in " ".join(args)


def test_audio_only_source_is_refused(make_probe):
    """Audio files are not for TV: BadInputError with a Chinese message."""
    with pytest.raises(BadInputError) as caught:
        _args(make_probe, has_video=False, width=0, height=0)
    assert "电视" in caught.value.message


# --- HLS packaging -------------------------------------------------------------------------------------


def test_hls_is_packaged_by_copy_in_six_second_fmp4_segments():
    """The HLS copy is packaged from the MP4 with -c copy: fMP4, 6 s segments, VOD, 1080p/index.m3u8."""
    args = tv_hls_command(profile=TV_1080P, mp4_path=OUT, out_dir=Path("/out/tv_1080p/hls"))
    assert _value(args, "-i") == str(OUT) and _value(args, "-c") == "copy" and _value(args, "-map") == "0"
    assert _value(args, "-f") == "hls" and _value(args, "-hls_time") == "6"
    assert _value(args, "-hls_segment_type") == "fmp4" and _value(args, "-hls_playlist_type") == "vod"
    assert _value(args, "-hls_segment_filename") == "/out/tv_1080p/hls/1080p/seg_%05d.m4s"
    assert "/out/tv_1080p/hls/1080p/index.m3u8" in args


# --- real runs (1080p encoding is slow here: 2 s clips only) ------------------------------------------------


@pytest.fixture(scope="module")
def tv_produced(tv_source, tmp_path_factory):
    """The TV step run once on ``tv_source`` for the tests that read its real outputs: (outputs, progress, out dir)."""
    out_dir = tmp_path_factory.mktemp("tv")
    outputs, seen = _produce(tv_source, out_dir)
    return outputs, seen, out_dir


def test_real_tv_outputs(tv_produced):
    """A quiet 320×240 clip → 1080p25 High@4.0 MP4 (moov first), AAC 48k stereo at −24 ±1 LKFS, and HLS."""
    [mp4, hls], seen, tmp_path = tv_produced
    assert (mp4.profile, mp4.kind, mp4.path) == ("tv_1080p", "mp4", "tv_1080p/tv_1080p.mp4")
    assert (mp4.width, mp4.height) == (1920, 1080) and mp4.bandwidth > 0
    info = _ffprobe(tmp_path / mp4.path)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["width"], video["height"], video["r_frame_rate"]) == (1920, 1080, "25/1")
    assert (video["codec_name"], video["profile"], video["level"]) == ("h264", "High", 40)
    assert video.get("sample_aspect_ratio", "1:1") == "1:1" and video["pix_fmt"] == "yuv420p"
    assert (audio["codec_name"], audio["profile"], audio["sample_rate"], audio["channels"]) == ("aac", "LC", "48000", 2)
    boxes = _top_level_boxes(tmp_path / mp4.path)
    assert boxes[0] == "ftyp" and boxes.index("moov") < boxes.index("mdat")
    integrated, true_peak = loudness_check(path=tmp_path / mp4.path, duration=mp4.duration)
    assert abs(integrated - LOUDNESS_TV.integrated) <= LOUDNESS_TOLERANCE_LU and true_peak <= LOUDNESS_TV.true_peak

    assert (hls.profile, hls.kind, hls.path) == ("tv_1080p_hls", "hls", "tv_1080p/hls/master.m3u8")
    assert all((tmp_path / name).is_file() for name in hls.files) and hls.path in hls.files
    master = m3u8.load(str(tmp_path / hls.path))
    assert master.is_variant and len(master.playlists) == 1
    stream = master.playlists[0].stream_info
    assert stream.resolution == (1920, 1080) and stream.frame_rate == 25.0
    assert stream.bandwidth > 0 and stream.average_bandwidth > 0
    assert stream.codecs.startswith("avc1.64") and "mp4a.40.2" in stream.codecs
    media = m3u8.load(str(tmp_path / "tv_1080p/hls" / master.playlists[0].uri))
    assert media.segments and media.segment_map
    assert seen[-1] == 1.0 and any(0 < f <= 0.95 for f in seen) and seen == sorted(seen)


def test_real_tv_hls_has_an_iframe_playlist_whose_entries_decode_alone(tv_produced, tmp_path):
    """The TV HLS master names an I-frame stream (1-s GOP: one entry per second) below the variant's rates; each
    entry fetched alone with its init range decodes to one frame at its time, the variant's own picture; the
    files are part of the output, and the whole package passes verification (before: no I-frame playlist)."""
    [_mp4, hls], _seen, out_dir = tv_produced
    master = m3u8.load(str(out_dir / hls.path))
    (iframe,) = master.iframe_playlists
    assert iframe.uri == "1080p/iframes.m3u8" and iframe.iframe_stream_info.resolution == (1920, 1080)
    assert {"tv_1080p/hls/1080p/iframes.m3u8", "tv_1080p/hls/1080p/iframes.mp4"} <= set(hls.files)
    stream = master.playlists[0].stream_info
    assert iframe.iframe_stream_info.bandwidth < stream.bandwidth
    assert iframe.iframe_stream_info.average_bandwidth < stream.average_bandwidth
    variant_dir = out_dir / "tv_1080p/hls/1080p"
    reference = variant_frames(variant_dir, tmp_path)
    by_time = {round(frame.seconds, 3): frame.md5 for frame in reference}
    entries = decode_each_entry(variant_dir, tmp_path)
    assert [round(start, 3) for start, _frames in entries] == [0.0, 1.0]
    for start, frames in entries:
        assert len(frames) == 1 and abs(frames[0].seconds - (start + reference[0].seconds)) <= 1 / 25 + 1e-6
        assert by_time[round(frames[0].seconds, 3)] == frames[0].md5
    verify_hls(master_path=out_dir / hls.path, expect_duration=2.0, expect_iframes=True)


def test_real_tv_without_audio(clip_silent, tmp_path):
    """A clip with no audio gives a video-only MP4 and a master whose CODECS name no audio."""
    [mp4, hls], _seen = _produce(clip_silent, tmp_path)
    assert [s["codec_type"] for s in _ffprobe(tmp_path / mp4.path)["streams"]] == ["video"]
    stream = m3u8.load(str(tmp_path / hls.path)).playlists[0].stream_info
    assert "mp4a" not in stream.codecs and stream.resolution == (1920, 1080)
