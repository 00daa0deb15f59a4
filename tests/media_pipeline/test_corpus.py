"""The corpus of awkward inputs: each kind probes to what the pipeline must plan for, bad ones are refused."""

import json
import subprocess
from pathlib import Path

import pytest

from media_pipeline.errors import ProbeError
from media_pipeline.ffmpeg.commands import hls_ladder_command
from media_pipeline.ffmpeg.ladder import plan_variants
from media_pipeline.ffmpeg.probe import probe_file, probe_upload
from media_pipeline.ffmpeg.runner import check_run, run_ffmpeg
from media_pipeline.jobs.verify import verify_hls
from media_pipeline.steps.master_playlist import MASTER_NAME, write_master
from media_pipeline.steps.profiles import HLS_WEB
from media_pipeline.synthetic.media import BAD_KINDS, CORPUS_KINDS, CORPUS_SUFFIXES, make_corpus_clip

# What probe_file must report for each good kind (only the properties that kind is about, plus the basics).
EXPECTED = {
    "portrait_rotated": {"width": 180, "height": 320, "rotation": 90, "duration": 1.0},
    "vfr": {"width": 320, "height": 180, "duration": 2.0, "has_audio": True},
    "interlaced": {"width": 320, "height": 240, "interlaced": True, "pixel_format": "yuv420p"},
    "yuv422p10": {"pixel_format": "yuv422p10le", "has_audio": False, "interlaced": False},
    "no_audio": {"has_video": True, "has_audio": False, "audio_streams": 0},
    "multi_audio": {"audio_streams": 2, "audio_sample_rate": 48000, "audio_channels": 1, "main_audio": 0},
    # The default flag on the second track: it is the main one (its rate and channels are what is planned for).
    "audio_languages": {"audio_streams": 3, "main_audio": 1, "audio_channels": 1, "audio_sample_rate": 48000},
    "surround_51": {"audio_channels": 6, "audio_sample_rate": 48000, "audio_codec": "aac"},
    "mono_8k": {"audio_channels": 1, "audio_sample_rate": 8000},
    "one_second": {"duration": 1.0, "fps": 25.0, "width": 320, "height": 180},
    "long_lowres": {"duration": 30.0, "width": 160, "height": 90},
    "odd_size": {"width": 1281, "height": 721, "duration": 0.5, "video_codec": "mpeg4"},
    "non_square": {"width": 1047, "height": 576, "duration": 0.5},  # 720 × 16/11 = 1047.3 display pixels
    "audio_only_m4a": {"has_video": False, "audio_codec": "aac", "duration": 2.0},
    "audio_only_mp3": {"has_video": False, "audio_codec": "mp3", "audio_sample_rate": 44100, "duration": 2.0},
    "still_image": {"is_still": True, "video_codec": "png", "width": 320, "height": 180, "duration": 0.0},
    "still_jpeg": {"is_still": True, "video_codec": "mjpeg", "duration": 0.0, "fps": 0.0},
    "loud_51": {"has_video": False, "audio_channels": 6, "audio_codec": "pcm_f32le", "duration": 2.0},
    "clipped": {"has_video": False, "audio_channels": 2, "audio_codec": "pcm_s16le", "duration": 2.0},
    "near_silent": {"has_video": False, "audio_channels": 2, "audio_codec": "aac", "duration": 2.0},
    "late_audio": {"duration": 3.0, "video_duration": 3.0, "has_audio": True},
    "vfr_short_video": {"duration": 3.0, "audio_duration": 3.0, "fps": 1350 / 59},
    "speech_narrowband": {"has_video": False, "audio_sample_rate": 8000, "audio_channels": 1},
    "mp3_cover_art": {"has_video": False, "audio_codec": "mp3", "cover_width": 300, "cover_height": 300},
    "m4a_cover_art": {"has_video": False, "audio_codec": "aac", "cover_width": 300, "cover_height": 300},
    "flac_cover_art": {"has_video": False, "audio_codec": "flac", "cover_width": 300, "cover_height": 300},
    "mkv_subtitles": {"width": 160, "height": 90, "has_audio": True, "duration": 1.5},
    "mp4_mov_text": {"width": 160, "height": 90, "has_audio": True, "duration": 1.5},
    "hdr_pq": {"video_codec": "hevc", "colour_transfer": "smpte2084", "colour_primaries": "bt2020", "bit_depth": 10},
    "hdr_hlg": {
        "video_codec": "hevc",
        "colour_transfer": "arib-std-b67",
        "colour_primaries": "bt2020",
        "bit_depth": 10,
    },
}
KIND_OF_ASSET = {
    "audio_only_m4a": "audio",
    "audio_only_mp3": "audio",
    "loud_51": "audio",
    "clipped": "audio",
    "near_silent": "audio",
    "speech_narrowband": "audio",
    "mp3_cover_art": "audio",
    "m4a_cover_art": "audio",
    "flac_cover_art": "audio",
}
REFUSALS = {
    "truncated": "文件不完整",
    "truncated_faststart": "文件不完整，请重新上传",
    "zero_byte": "文件为空",
    "text_as_mp4": "不是可识别的音视频文件",
}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """Make a corpus file the first time a test asks for its kind; later tests in the session reuse it."""
    folder = tmp_path_factory.mktemp("corpus")
    made: dict[str, Path] = {}

    def get(kind: str) -> Path:
        if kind not in made:
            made[kind] = make_corpus_clip(kind, folder / f"{kind}{CORPUS_SUFFIXES[kind]}")
        return made[kind]

    return get


def _ffprobe(path: Path, *options: str) -> dict:
    args = ["ffprobe", "-v", "error", "-print_format", "json", *options, str(path)]
    return json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)


def test_every_kind_has_an_expectation_or_a_refusal():
    """The corpus and these tests list the same kinds: a new kind cannot go untested."""
    assert set(CORPUS_KINDS) == set(EXPECTED) | set(REFUSALS)
    assert set(BAD_KINDS) == set(REFUSALS)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_corpus_kind_probes_as_expected(corpus, kind):
    """Each awkward input probes to the properties the pipeline plans with (size as displayed, tracks, …),
    and passes the completeness check an upload gets (no good file is taken for a truncated one)."""
    probe = probe_upload(corpus(kind))
    for name, value in EXPECTED[kind].items():
        found = getattr(probe, name)
        approximate = name.endswith("duration") or name == "fps"
        assert found == (pytest.approx(value, abs=0.06) if approximate else value), name
    assert probe.kind == KIND_OF_ASSET.get(kind, "video")


@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_bad_inputs_are_refused_in_chinese(corpus, kind):
    """Truncated (index last or first), empty and text-as-MP4 uploads raise ProbeError with their own clear
    message and a reason; a fast-start MP4 cut in half probes fine and is caught by the tail check."""
    with pytest.raises(ProbeError) as caught:
        probe_upload(corpus(kind))
    assert REFUSALS[kind] in caught.value.message
    assert caught.value.reason
    assert not caught.value.transient


def test_variable_frame_rate_clip_really_is_variable(corpus):
    """The vfr clip's average rate differs from its nominal rate, as a phone's VFR recording does."""
    video = _ffprobe(corpus("vfr"), "-show_streams")["streams"][0]
    assert video["r_frame_rate"] == "25/1" and video["avg_frame_rate"] != "25/1"


def test_rotated_clip_decodes_in_its_displayed_shape(corpus, tmp_path):
    """ffmpeg autorotates when decoding: a frame taken from the rotated clip is the 180×320 probe_file reports."""
    frame = tmp_path / "frame.png"
    args = ["ffmpeg", "-v", "error", "-i", str(corpus("portrait_rotated")), "-frames:v", "1", str(frame)]
    subprocess.run(args, check=True)
    picture = _ffprobe(frame, "-show_streams")["streams"][0]
    assert (picture["width"], picture["height"]) == (180, 320)


def test_ten_bit_422_source_comes_out_8_bit_420_high(corpus, tmp_path):
    """The ladder converts a 10-bit 4:2:2 master to yuv420p High profile, which every phone decodes."""
    source = corpus("yuv422p10")
    probe = probe_file(source)
    args = hls_ladder_command(profile=HLS_WEB, probe=probe, source=source, out_dir=tmp_path)
    assert "format=yuv420p" in " ".join(args)
    check_run(run_ffmpeg(args, duration=probe.duration))
    variant = next(tmp_path.glob("*/index.m3u8"))
    video = _ffprobe(variant, "-show_streams")["streams"][0]
    assert (video["pix_fmt"], video["profile"]) == ("yuv420p", "High")


@pytest.mark.parametrize(
    ("kind", "resolution"),
    [("portrait_rotated", "180x320"), ("vfr", "320x180"), ("surround_51", "320x180"), ("mono_8k", "320x180")],
)
def test_awkward_sources_make_a_ladder_that_verifies(corpus, tmp_path, kind, resolution):
    """Rotated, variable-rate, 5.1 and 8 kHz mono sources all become a complete ladder of the displayed shape."""
    source = corpus(kind)
    probe = probe_file(source)
    check_run(run_ffmpeg(hls_ladder_command(profile=HLS_WEB, probe=probe, source=source, out_dir=tmp_path), duration=1))
    write_master(tmp_path, plan_variants(HLS_WEB, probe), frame_rate=probe.fps)
    assert f"RESOLUTION={resolution}" in (tmp_path / MASTER_NAME).read_text()
    verify_hls(master_path=tmp_path / MASTER_NAME, expect_duration=probe.duration)
