"""The output check: a good rendition passes; a wrong one raises VerifyError naming what is wrong."""

import io
import re
import shutil
import subprocess
from pathlib import Path

import m3u8
import pytest

from media_pipeline.errors import MediaPipelineError
from media_pipeline.ffmpeg.commands import hls_ladder_command
from media_pipeline.ffmpeg.ladder import plan_variants
from media_pipeline.ffmpeg.probe import probe_file
from media_pipeline.ffmpeg.runner import check_run, run_ffmpeg
from media_pipeline.jobs.verify import (
    VerifyError,
    audio_expectations,
    compare_facts,
    ebur128_summary,
    iframe_rate_problems,
    iframe_timing_problems,
    loudness_problems,
    playlist_problems,
    top_level_boxes,
    verify_audio_file,
    verify_hls,
    verify_loudness,
    verify_video_file,
    video_expectations,
    video_facts,
)
from media_pipeline.steps.master_playlist import MASTER_NAME, write_master
from media_pipeline.steps.profiles import AUDIO_M4A, AUDIO_MP3, HLS_WEB, TV_1080P
from media_pipeline.synthetic.media import make_clip, make_corpus_clip

# ffprobe's JSON for a 1 s 320×180 25 fps High@4.0 MP4 with 48 kHz stereo AAC (trimmed to what is read).
RECORDED_MP4 = {
    "streams": [
        {
            "codec_name": "h264",
            "profile": "High",
            "codec_type": "video",
            "width": 320,
            "height": 180,
            "sample_aspect_ratio": "1:1",
            "pix_fmt": "yuv420p",
            "level": 40,
            "field_order": "progressive",
            "r_frame_rate": "25/1",
            "avg_frame_rate": "25/1",
            "duration": "1.000000",
        },
        {"codec_name": "aac", "codec_type": "audio", "sample_rate": "48000", "channels": 2, "bit_rate": "127973"},
    ],
    "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "1.000000"},
}
GOOD_EXPECT = {
    "video_codec": "h264",
    "profile": "high",
    "level": "4.0",
    "width": 320,
    "height": 180,
    "frame_rate": 25,
    "pixel_format": "yuv420p",
    "square_pixels": True,
    "progressive": True,
    "rotation": 0,
    "audio": True,
    "audio_codec": "aac",
    "audio_sample_rate": 48000,
    "audio_channels": 2,
    "duration": 1.0,
}
EBUR128_LOG = """[Parsed_ebur128_0 @ 0x55] Summary:
  Integrated loudness:
    I:         -70.0 LUFS
  True peak:
    Peak:       -inf dBFS
Stream mapping:
  Stream #0:1 (aac) -> ebur128:default
video:0kB audio:564kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown
[Parsed_ebur128_0 @ 0x55] Summary:

  Integrated loudness:
    I:         -16.2 LUFS
    Threshold: -26.2 LUFS

  Loudness range:
    LRA:         3.1 LU

  True peak:
    Peak:       -1.4 dBFS
"""


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def verify_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("verify")


@pytest.fixture(scope="session")
def good_mp4(verify_dir) -> Path:
    """1 s 320×180 25 fps H.264 High@4.0 yuv420p, AAC 48 kHz stereo, moov first: what a TV-like step writes."""
    path = verify_dir / "good.mp4"
    _ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=1"),
        *("-f", "lavfi", "-i", "sine=frequency=997:sample_rate=44100:duration=1"),
        *("-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-level", "4.0", "-pix_fmt", "yuv420p"),
        *("-c:a", "aac", "-ar", "48000", "-ac", "2", "-movflags", "+faststart", str(path)),
    )
    return path


@pytest.fixture(scope="session")
def tone_m4a(verify_dir) -> Path:
    """2 s stereo 997 Hz tone, AAC 128 kb/s 48 kHz in an M4A with moov first (ebur128 reads it at ≈ −21 LUFS)."""
    path = verify_dir / "tone.m4a"
    _ffmpeg(
        *("-f", "lavfi", "-i", "sine=frequency=997:sample_rate=48000:duration=2"),
        *("-ac", "2", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", "-f", "ipod", str(path)),
    )
    return path


@pytest.fixture(scope="session")
def hls_dir(verify_dir) -> Path:
    """The real ladder on a 2 s 320×180 clip with sound: one video variant, one audio-only, our master."""
    source = make_clip(verify_dir / "hls_source.mp4", size="320x180", seconds=2)
    probe = probe_file(source)
    out = verify_dir / "hls"
    out.mkdir()
    check_run(run_ffmpeg(hls_ladder_command(profile=HLS_WEB, probe=probe, source=source, out_dir=out), duration=2))
    write_master(out, plan_variants(HLS_WEB, probe), frame_rate=probe.fps, iframes=True)
    return out


@pytest.fixture
def hls_copy(hls_dir, tmp_path) -> Path:
    """A private copy of the ladder output, for a test to break."""
    return Path(shutil.copytree(hls_dir, tmp_path / "hls"))


# --- Pure --------------------------------------------------------------------------------------------------


def test_verify_error_is_a_permanent_pipeline_error():
    """VerifyError is not retried: the same commands would make the same wrong output."""
    assert issubclass(VerifyError, MediaPipelineError) and VerifyError.transient is False


def test_recorded_probe_matches_its_expectations():
    """Profile in any case and level as "4.0" or 40 match what ffprobe reports; nothing is flagged."""
    assert compare_facts(GOOD_EXPECT, video_facts(RECORDED_MP4), duration_tolerance=0.1) == []
    assert compare_facts({"level": 40}, video_facts(RECORDED_MP4), duration_tolerance=0.1) == []


def test_each_mismatch_names_the_property_expected_and_found():
    """A wrong size and a short duration give one line each with the property, the expected and found value."""
    expect = {**GOOD_EXPECT, "width": 640, "duration": 2.0}
    problems = compare_facts(expect, video_facts(RECORDED_MP4), duration_tolerance=0.1)
    assert problems == ["width：期望 640，实际 320", "duration：期望 2.0，实际 1.0"]


def test_variable_frame_rate_fails_a_constant_rate_expectation():
    """r_frame_rate 25 with an average of 16.84 is not constant 25 fps."""
    data = {**RECORDED_MP4, "streams": [{**RECORDED_MP4["streams"][0], "avg_frame_rate": "825/49"}]}
    (problem,) = compare_facts({"frame_rate": 25}, video_facts(data), duration_tolerance=0.1)
    assert problem.startswith("frame_rate") and "avg=16.8367" in problem


def test_interlaced_anamorphic_rotated_output_is_flagged():
    """Field order, non-square pixels and a display matrix are each reported."""
    stream = {
        **RECORDED_MP4["streams"][0],
        "field_order": "tt",
        "sample_aspect_ratio": "16:11",
        "side_data_list": [{"rotation": 90}],
    }
    facts = video_facts({**RECORDED_MP4, "streams": [stream]})
    expect = {"progressive": True, "square_pixels": True, "rotation": 0}
    names = [line.split("：")[0] for line in compare_facts(expect, facts, duration_tolerance=0.1)]
    assert names == ["progressive", "square_pixels", "rotation"]


def test_unknown_expectation_is_a_programming_error(good_mp4):
    """A misspelt key raises ValueError instead of silently skipping the check."""
    with pytest.raises(ValueError, match="widht"):
        verify_video_file(path=good_mp4, expect={"widht": 320})


def test_expectations_from_profiles():
    """TV_1080P promises 1920×1080 H.264 High@4.0 25 fps with stereo AAC and faststart; MP3 edition promises mp3."""
    tv = video_expectations(profile=TV_1080P, duration=60.0, audio=True)
    assert (tv["video_codec"], tv["width"], tv["height"], tv["frame_rate"], tv["level"]) == (
        "h264",
        1920,
        1080,
        25,
        "4.0",
    )
    assert tv["faststart"] and tv["audio_channels"] == 2 and tv["audio_codec"] == "aac"
    assert "audio_codec" not in video_expectations(profile=TV_1080P, duration=60.0, audio=False)
    mp3 = audio_expectations(profile=AUDIO_MP3, duration=60.0, channels=1)
    assert (mp3["codec"], mp3["sample_rate"], mp3["channels"], mp3["video"]) == ("mp3", 44100, 1, False)
    assert "faststart" not in mp3 and audio_expectations(profile=AUDIO_M4A, duration=1, channels=2)["faststart"]


def test_top_level_boxes_reads_only_headers():
    """Box order from sizes alone, including a 64-bit size and a last box that runs to the end of the file."""
    data = (
        (16).to_bytes(4, "big") + b"ftyp" + b"\0" * 8
        + (1).to_bytes(4, "big") + b"moov" + (24).to_bytes(8, "big") + b"\0" * 8
        + (0).to_bytes(4, "big") + b"mdat" + b"\0" * 100
    )  # fmt: skip
    assert top_level_boxes(io.BytesIO(data)) == ["ftyp", "moov", "mdat"]


def test_media_playlist_problems():
    """Not VOD, no ENDLIST, a total 2 s short and an EXTINF above the target duration are each reported."""
    text = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:6.0,\na.m4s\n#EXTINF:2.0,\nb.m4s\n"
    problems = playlist_problems(m3u8.loads(text), expect_duration=10.0, tolerance=0.1)
    assert [line.split("：")[0] for line in problems] == ["playlist_type", "endlist", "duration", "target_duration"]
    fixed = "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\na.m4s\n#EXT-X-ENDLIST\n"
    assert playlist_problems(m3u8.loads(fixed), expect_duration=6.0, tolerance=0.1) == []


def test_ebur128_summary_is_the_last_one():
    """The integrated loudness and true peak come from the final Summary, not the empty one logged at setup."""
    assert ebur128_summary(EBUR128_LOG) == (-16.2, -1.4)


def test_ebur128_log_without_summary_is_a_verify_error():
    """If ebur128 printed no Summary the check fails rather than passing unmeasured audio."""
    with pytest.raises(VerifyError) as caught:
        ebur128_summary("Stream mapping:\nsomething went wrong\n")
    assert "ebur128" in caught.value.reason and "something went wrong" in caught.value.reason


def test_loudness_problems():
    """Within ±1 LU and under the peak ceiling passes; too quiet or too hot is named."""
    assert loudness_problems(-16.4, -1.5, -16.0, -1.0, 1.0) == []
    (quiet,) = loudness_problems(-18.0, -3.0, -16.0, -1.0, 1.0)
    assert quiet.startswith("integrated_loudness") and "-18 LUFS" in quiet
    (hot,) = loudness_problems(-16.0, -0.2, -16.0, -1.0, 1.0)
    assert hot.startswith("true_peak")


# --- Real files --------------------------------------------------------------------------------------------


def test_good_mp4_passes(good_mp4):
    """The TV-like file meets every video, audio, duration and faststart expectation."""
    verify_video_file(path=good_mp4, expect={**GOOD_EXPECT, "faststart": True})


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"width": 640, "height": 360}, "width"),
        ({"frame_rate": 30}, "frame_rate"),
        ({"duration": 2.0}, "duration"),
        ({"audio": False}, "audio"),
        ({"audio_channels": 1}, "audio_channels"),
    ],
)
def test_wrong_expectations_raise_naming_the_property(good_mp4, changes, named):
    """Wrong size, frame rate, duration or audio layout raises VerifyError in Chinese naming the property."""
    with pytest.raises(VerifyError) as caught:
        verify_video_file(path=good_mp4, expect={**GOOD_EXPECT, **changes})
    assert caught.value.message == "转码结果未通过检查，请联系管理员"
    assert caught.value.reason.startswith(named + "：期望")


def test_ultrafast_file_without_faststart_fails_profile_and_faststart(verify_dir):
    """x264 ultrafast signals Constrained Baseline, not High, and the default MP4 puts moov last: both named."""
    path = make_clip(verify_dir / "plain.mp4", size="320x180", seconds=1, audio=False)
    with pytest.raises(VerifyError) as caught:
        verify_video_file(path=path, expect={"profile": "high", "faststart": True})
    assert "profile：期望 high，实际 Constrained Baseline" in caught.value.reason
    assert "faststart：期望 True，实际 False" in caught.value.reason


def test_variable_frame_rate_file_fails_constant_rate(verify_dir):
    """A real VFR encode is caught by the constant frame rate check."""
    path = make_corpus_clip("vfr", verify_dir / "vfr.mp4")
    with pytest.raises(VerifyError, match="frame_rate"):
        verify_video_file(path=path, expect={"frame_rate": 25})


def test_unreadable_output_is_a_verify_error(tmp_path):
    """An output ffprobe cannot read fails the check (not a ProbeError about the upload)."""
    broken = tmp_path / "out.mp4"
    broken.write_text("not a video")
    with pytest.raises(VerifyError, match=r"out\.mp4"):
        verify_video_file(path=broken, expect={"width": 320})


def test_audio_file_checks(tone_m4a):
    """The M4A passes codec, rate, channels, bitrate ±20 %, duration and faststart; a wrong rate is named."""
    expect = {"codec": "aac", "sample_rate": 48000, "channels": 2, "bitrate": 128_000, "duration": 2.0}
    verify_audio_file(path=tone_m4a, expect={**expect, "faststart": True, "video": False})
    with pytest.raises(VerifyError) as caught:
        verify_audio_file(path=tone_m4a, expect={**expect, "sample_rate": 44100, "bitrate": 64_000})
    assert "sample_rate：期望 44100，实际 48000" in caught.value.reason and "bitrate" in caught.value.reason


def test_loudness_measured_on_a_real_file(tone_m4a):
    """ebur128 reads the tone at about −21 LUFS: that target passes, −16 and a −25 dBTP ceiling fail."""
    progress = []
    verify_loudness(path=tone_m4a, target_lufs=-21.0, max_true_peak=-1.0, duration=2.0, on_progress=progress.append)
    assert progress[-1] == 1.0
    with pytest.raises(VerifyError) as caught:
        verify_loudness(path=tone_m4a, target_lufs=-16.0, max_true_peak=-25.0)
    assert "integrated_loudness" in caught.value.reason and "true_peak" in caught.value.reason


def test_real_hls_ladder_passes(hls_dir):
    """The ladder's own output with our master: every playlist complete, every file there, segment decodes, the
    I-frame stream true to its ranges."""
    verify_hls(master_path=hls_dir / MASTER_NAME, expect_duration=2.0, expect_iframes=True)


def test_missing_segment_is_named(hls_copy):
    """A segment deleted from one variant fails the check, naming the variant and the file."""
    segment = next(hls_copy.glob("audio/seg_*.m4s"))
    segment.unlink()
    with pytest.raises(VerifyError) as caught:
        verify_hls(master_path=hls_copy / MASTER_NAME, expect_duration=2.0)
    assert f"audio/index.m3u8 {segment.name}：期望 非空文件" in caught.value.reason


def test_unfinished_or_short_playlist_fails(hls_copy):
    """A playlist without ENDLIST, or a ladder shorter than the source, fails."""
    playlist = next(hls_copy.glob("*p/index.m3u8"))
    playlist.write_text(playlist.read_text().replace("#EXT-X-ENDLIST", ""))
    with pytest.raises(VerifyError, match="endlist"):
        verify_hls(master_path=hls_copy / MASTER_NAME, expect_duration=2.0)
    with pytest.raises(VerifyError, match=r"duration：期望 4\.000，实际 2\.0"):
        verify_hls(master_path=hls_copy / MASTER_NAME, expect_duration=4.0)


def test_iframe_and_subtitle_playlists_are_checked_too(hls_copy):
    """I-frame playlists (byte ranges inside their file) and WebVTT subtitle playlists listed are verified."""
    variant = next(p.parent for p in hls_copy.glob("*p/index.m3u8"))
    (hls_copy / "zh").mkdir()
    (hls_copy / "zh" / "seg_0.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.500\n你好\n")
    (hls_copy / "zh" / "index.m3u8").write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2.0,\nseg_0.vtt\n#EXT-X-ENDLIST\n"
    )
    master = hls_copy / MASTER_NAME
    master.write_text(
        master.read_text()
        + '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="中文",LANGUAGE="zh-Hans",URI="zh/index.m3u8"\n'
    )
    verify_hls(master_path=master, expect_duration=2.0)

    (hls_copy / "zh" / "seg_0.vtt").unlink()
    iframes = variant / "iframes.m3u8"
    size = (variant / "iframes.mp4").stat().st_size
    iframes.write_text(re.sub(r"BYTERANGE:(\d+)@\d+", rf"BYTERANGE:\1@{size}", iframes.read_text()))
    with pytest.raises(VerifyError) as caught:
        verify_hls(master_path=master, expect_duration=2.0)
    assert "zh/index.m3u8 seg_0.vtt" in caught.value.reason and "byterange" in caught.value.reason


def test_iframe_rate_not_measured_from_its_ranges_fails(hls_copy):
    """An I-frame stream declaring another BANDWIDTH than its ranges measure is caught, naming both numbers."""
    master = hls_copy / MASTER_NAME
    text = master.read_text()
    declared = int(re.search(r"I-FRAME-STREAM-INF:BANDWIDTH=(\d+)", text).group(1))
    master.write_text(text.replace(f"I-FRAME-STREAM-INF:BANDWIDTH={declared}", "I-FRAME-STREAM-INF:BANDWIDTH=9"))
    with pytest.raises(VerifyError) as caught:
        verify_hls(master_path=master, expect_duration=2.0)
    assert f"iframes.m3u8 bandwidth：期望 {declared}，实际 9" in caught.value.reason


def test_iframe_entry_starting_mid_segment_fails(hls_copy):
    """The old layout, entries pointing into the variant's own segments (a range starting at a moof shared by
    several keyframes), is refused: the entry would not be one fragment of its own."""
    variant = next(p.parent for p in hls_copy.glob("*p/index.m3u8"))
    (variant / "iframes.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-I-FRAMES-ONLY\n"
        '#EXT-X-MAP:URI="init_0.mp4"\n#EXTINF:2.0,\n#EXT-X-BYTERANGE:1000@0\nseg_00000.m4s\n#EXT-X-ENDLIST\n'
    )
    with pytest.raises(VerifyError, match="layout"):
        verify_hls(master_path=hls_copy / MASTER_NAME, expect_duration=2.0)


def test_promised_iframe_stream_must_be_listed(hls_copy):
    """With expect_iframes, a video variant without an EXT-X-I-FRAME-STREAM-INF fails; without, it passes."""
    master = hls_copy / MASTER_NAME
    master.write_text("".join(line for line in master.read_text().splitlines(True) if "I-FRAME" not in line))
    verify_hls(master_path=master, expect_duration=2.0)
    with pytest.raises(VerifyError, match="EXT-X-I-FRAME-STREAM-INF"):
        verify_hls(master_path=master, expect_duration=2.0, expect_iframes=True)


def test_iframe_entries_must_decode_to_their_own_keyframe():
    """Recorded decodes: entries at 0, 2, 4 s from a 0.08 s start; a repeat of the first keyframe (what the old
    shared-moof ranges gave), a missing frame or a non-keyframe is named (pure)."""
    playlist = m3u8.loads(
        "#EXTM3U\n#EXT-X-I-FRAMES-ONLY\n#EXT-X-TARGETDURATION:2\n"
        + "".join(f"#EXTINF:2.0,\n#EXT-X-BYTERANGE:100@{100 * n}\ni.mp4\n" for n in range(1, 4))
    )
    good = [(0.08, True), (2.08, True), (4.12, True)]  # the last one frame late: within ±1 frame at 25 fps
    assert iframe_timing_problems(playlist, good, start=0.08, frame_seconds=0.04) == []
    repeated = [(0.08, True), (0.08, True), (0.08, True)]
    assert "#1 frame：期望 2.080 s，实际 0.080 s" in iframe_timing_problems(
        playlist, repeated, start=0.08, frame_seconds=0.04
    )
    assert iframe_timing_problems(playlist, good[:2], start=0.08, frame_seconds=0.04) == ["frames：期望 3，实际 2"]
    assert iframe_timing_problems(playlist, [*good[:2], (4.08, False)], start=0.08, frame_seconds=0.04)


def test_iframe_rates_must_be_true_and_average_below_the_variants():
    """Recorded playlist: measured rates equal to what is declared pass; a variant whose average is slower fails;
    a peak above the variant's passes (a still slide's keyframe against 6-s segments) but a false one does not."""
    playlist = m3u8.loads(
        "#EXTM3U\n#EXT-X-I-FRAMES-ONLY\n#EXT-X-TARGETDURATION:2\n"
        "#EXTINF:2.0,\n#EXT-X-BYTERANGE:5000@800\ni.mp4\n#EXTINF:2.0,\n#EXT-X-BYTERANGE:3000@5800\ni.mp4\n"
    )
    assert iframe_rate_problems((20_000, 16_000), playlist, (300_000, 250_000)) == []
    assert iframe_rate_problems((20_000, 16_000), playlist, (20_000, 15_000)) == [
        "average_bandwidth：期望 < 15000，实际 16000",
    ]
    assert iframe_rate_problems((20_000, 16_000), playlist, (19_000, 17_000)) == []
    assert iframe_rate_problems((40_000, 16_000), playlist, (300_000, 250_000)) == ["bandwidth：期望 20000，实际 40000"]


def test_master_without_variants_fails(tmp_path):
    """A media playlist where the master should be is not a ladder."""
    master = tmp_path / MASTER_NAME
    master.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\na.m4s\n#EXT-X-ENDLIST\n")
    with pytest.raises(VerifyError, match="master"):
        verify_hls(master_path=master, expect_duration=6.0)


def test_first_segment_of_wrong_size_is_caught(hls_copy):
    """A master that announces another RESOLUTION than the encoded segment has fails the decode-level check."""
    master = hls_copy / MASTER_NAME
    master.write_text(master.read_text().replace("RESOLUTION=320x180", "RESOLUTION=640x360"))
    with pytest.raises(VerifyError, match="width：期望 640，实际 320"):
        verify_hls(master_path=master, expect_duration=2.0)


def test_segment_outside_the_variant_folder_is_refused(hls_copy):
    """A segment URI that is not a plain file name beside its playlist would not be served: it fails."""
    playlist = next(hls_copy.glob("audio/index.m3u8"))
    playlist.write_text(playlist.read_text().replace("seg_00000.m4s", "../234p/seg_00000.m4s"))
    with pytest.raises(VerifyError, match="播放列表同目录下的文件名"):
        verify_hls(master_path=hls_copy / MASTER_NAME, expect_duration=2.0)
