"""ffprobe: what a file is, and clear refusals for what it is not."""

import pytest

from media_pipeline.errors import ProbeError
from media_pipeline.ffmpeg.probe import missing_tail, parse_probe, probe_file


def test_probe_reads_a_real_clip(clip_landscape):
    """Duration, size, frame rate and codecs of the generated 4 s 640×360 clip."""
    probe = probe_file(clip_landscape)
    assert probe.has_video and probe.has_audio and probe.kind == "video"
    assert (probe.width, probe.height, probe.fps) == (640, 360, 25.0)
    assert probe.duration == pytest.approx(4.0, abs=0.1)
    assert (probe.video_codec, probe.audio_codec) == ("h264", "aac")


def test_probe_of_a_silent_clip(clip_silent):
    """A clip without an audio stream says so."""
    probe = probe_file(clip_silent)
    assert probe.has_video and not probe.has_audio


def test_zero_byte_file_is_refused(tmp_path):
    """An empty file is refused before ffprobe runs, in Chinese."""
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(ProbeError) as caught:
        probe_file(empty)
    assert "文件为空" in caught.value.message


def test_text_file_renamed_mp4_is_refused_with_ffprobes_reason(tmp_path):
    """A text file named .mp4 is 'not a media file', with ffprobe's own reason attached."""
    text = tmp_path / "notes.mp4"
    text.write_text("这不是视频\n" * 20)
    with pytest.raises(ProbeError) as caught:
        probe_file(text)
    assert "不是可识别的音视频文件" in caught.value.message
    assert "Invalid data" in caught.value.reason


def test_truncated_mp4_is_reported_as_incomplete(clip_truncated):
    """An MP4 cut off before its index is reported as an incomplete upload, not as a wrong file type."""
    with pytest.raises(ProbeError) as caught:
        probe_file(clip_truncated)
    assert "文件不完整" in caught.value.message
    assert caught.value.reason


def test_rotated_phone_video_is_planned_as_displayed():
    """A 1920×1080 stream with a -90° display matrix is portrait 1080×1920 as shown."""
    data = {
        "format": {"duration": "3.0", "format_name": "mov"},
        "streams": [
            {
                "codec_type": "video",
                "codec_name": "h264",
                "width": 1920,
                "height": 1080,
                "avg_frame_rate": "30000/1001",
                "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}],
            }
        ],
    }
    probe = parse_probe(data)
    assert (probe.width, probe.height, probe.rotation) == (1080, 1920, 270)
    assert probe.fps == pytest.approx(29.97, abs=0.01)


def test_mp3_with_cover_art_is_audio():
    """An attached picture is not video: an MP3 with cover art is an audio asset."""
    data = {
        "format": {"duration": "180.0", "format_name": "mp3"},
        "streams": [
            {"codec_type": "audio", "codec_name": "mp3", "channels": 2, "sample_rate": "44100"},
            {
                "codec_type": "video",
                "codec_name": "mjpeg",
                "width": 600,
                "height": 600,
                "disposition": {"attached_pic": 1},
            },
        ],
    }
    probe = parse_probe(data)
    assert probe.kind == "audio" and not probe.has_video


def test_non_square_pixels_are_planned_in_display_size():
    """720×576 with 16:15 sample aspect ratio is planned as 768×576 display pixels."""
    data = {
        "format": {"duration": "1.0"},
        "streams": [
            {"codec_type": "video", "width": 720, "height": 576, "sample_aspect_ratio": "16:15", "r_frame_rate": "25/1"}
        ],
    }
    assert (parse_probe(data).width, parse_probe(data).height) == (768, 576)


def _video_stream(**fields) -> dict:
    return {"codec_type": "video", "codec_name": "h264", "width": 320, "height": 180, "r_frame_rate": "25/1", **fields}


@pytest.mark.parametrize(("field_order", "interlaced"), [("tt", True), ("bb", True), ("tb", True), ("bt", True)])
def test_interlaced_field_orders(field_order, interlaced):
    """Top/bottom field first, coded either way round, all mean interlaced."""
    data = {"format": {"duration": "1.0"}, "streams": [_video_stream(field_order=field_order)]}
    assert parse_probe(data).interlaced is interlaced


@pytest.mark.parametrize("stream", [_video_stream(field_order="progressive"), _video_stream(field_order="unknown"), {}])
def test_progressive_unknown_or_missing_field_order_is_progressive(stream):
    """'progressive', 'unknown' and no field_order are all planned as progressive (the documented limit)."""
    data = {"format": {"duration": "1.0"}, "streams": [stream or _video_stream()]}
    assert parse_probe(data).interlaced is False


def test_pixel_format_and_audio_track_count():
    """The video's pix_fmt is kept, and every audio track is counted while the first one is described."""
    data = {
        "format": {"duration": "1.0"},
        "streams": [
            _video_stream(pix_fmt="yuv422p10le"),
            {"codec_type": "audio", "codec_name": "aac", "channels": 6, "sample_rate": "48000"},
            {"codec_type": "audio", "codec_name": "ac3", "channels": 2, "sample_rate": "44100"},
        ],
    }
    probe = parse_probe(data)
    assert (probe.pixel_format, probe.audio_streams) == ("yuv422p10le", 2)
    assert (probe.audio_codec, probe.audio_channels, probe.audio_sample_rate) == ("aac", 6, 48000)


def test_variable_frame_rate_uses_the_average():
    """VFR: avg_frame_rate (what the viewer sees on average) wins over r_frame_rate (the timebase guess)."""
    data = {"format": {"duration": "2.0"}, "streams": [_video_stream(avg_frame_rate="825/49")]}
    assert parse_probe(data).fps == pytest.approx(16.84, abs=0.01)


@pytest.mark.parametrize(
    ("format_name", "stream"),
    [
        ("png_pipe", _video_stream(codec_name="png")),  # PNG: no duration at all
        ("image2", _video_stream(codec_name="mjpeg", duration="0.040000")),  # JPEG: one 1/25 s frame
        ("mov,mp4,m4a,3gp,3g2,mj2", _video_stream(nb_frames="1")),  # a one-frame video file
        ("matroska,webm", _video_stream(codec_name="webp")),  # a picture codec with no duration
    ],
)
def test_still_images_are_video_with_no_duration(format_name, stream):
    """A single picture is video with is_still=True, duration 0 and frame rate 0 — not a damaged file."""
    probe = parse_probe({"format": {"format_name": format_name}, "streams": [stream]})
    assert probe.is_still and probe.kind == "video"
    assert (probe.duration, probe.fps) == (0.0, 0.0)


def test_moving_video_and_motion_jpeg_are_not_stills():
    """Motion JPEG with a duration is video, and one frame over a soundtrack keeps its sound and duration."""
    mjpeg = {"format": {"format_name": "avi", "duration": "3.0"}, "streams": [_video_stream(codec_name="mjpeg")]}
    assert not parse_probe(mjpeg).is_still
    one_frame = {
        "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "60.0"},
        "streams": [_video_stream(nb_frames="1"), {"codec_type": "audio", "codec_name": "aac"}],
    }
    probe = parse_probe(one_frame)
    assert not probe.is_still and probe.duration == 60.0


def test_old_recorded_probe_dicts_still_load():
    """A ProbeResult saved before the new fields existed loads with their defaults."""
    from media_pipeline.ffmpeg.probe import ProbeResult

    saved = parse_probe({"format": {"duration": "1.0"}, "streams": [_video_stream()]}).to_dict()
    for new_field in ("interlaced", "pixel_format", "audio_streams", "is_still"):
        saved.pop(new_field)
    assert ProbeResult(**saved).is_still is False


# --- completeness: a fast-start MP4 cut off still declares its whole duration (issue 15, item 6) ----------

# ffprobe's tail packets (stream, pts, duration) as tail_packets_command lists them, recorded from a 2 s clip.
WHOLE_TAIL = "1,1.950476,0.023220\n0,1.960000,0.040000\n1,1.973696,0.023220\n1,1.996916,0.003084\n"
CUT_TAIL = "0,0.920000,0.040000\n"
CUT_STDERR = "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x1] stream 1, offset 0x14d0e: partial file"


def test_a_tail_that_reaches_the_declared_end_is_complete():
    """Packets up to the declared 2 s: complete (no reason)."""
    assert missing_tail(WHOLE_TAIL, "", start_time=0.0, duration=2.0) == ""


def test_a_tail_that_stops_halfway_is_missing():
    """Packets stopping at 0.96 s of a declared 2 s, or the demuxer's "partial file": incomplete, with why."""
    assert "0.96" in missing_tail(CUT_TAIL, "", start_time=0.0, duration=2.0)
    assert "partial file" in missing_tail(WHOLE_TAIL, CUT_STDERR, start_time=0.0, duration=2.0)


def test_the_tail_is_measured_from_the_start_time():
    """An MPEG-TS whose clock starts at 1.4 s ends at 3.4 s for a 2 s programme: complete."""
    shifted = "0,3.360000,0.040000\n"
    assert missing_tail(shifted, "", start_time=1.4, duration=2.0) == ""
