"""Subtitle streams inside a master (issue 15, item 3): text streams (SRT, ASS, mov_text) become caption tracks
with their language in the ladder's master and the player's menu; picture subtitles are reported to the editor."""

import m3u8
import pytest

from media_pipeline.ffmpeg.loudness import loudness_measure
from media_pipeline.ffmpeg.probe import parse_probe, probe_upload
from media_pipeline.jobs.verify import verify_output
from media_pipeline.models import MediaAsset
from media_pipeline.selectors import asset_notices
from media_pipeline.steps import web_hls
from media_pipeline.steps.captions import embedded_tracks, image_subtitle_notices, stream_language
from media_pipeline.steps.contract import CaptionTrack, StepContext
from media_pipeline.steps.profiles import CAPTIONS, HLS_WEB, LOUDNESS_MOBILE
from media_pipeline.synthetic.media import CORPUS_SUFFIXES, make_corpus_clip

from .test_editor_messages import assert_plain_chinese

# ffprobe's streams of a Blu-ray remux (recorded shape): video, audio, a PGS subtitle in Chinese.
PGS_PROBE = {
    "format": {"format_name": "matroska,webm", "duration": "2.0"},
    "streams": [
        {"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080, "avg_frame_rate": "24000/1001"},
        {"codec_type": "audio", "codec_name": "ac3", "channels": 6, "sample_rate": "48000"},
        {"codec_type": "subtitle", "codec_name": "hdmv_pgs_subtitle", "tags": {"language": "chi"}},
    ],
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("subs")
    return lambda kind: make_corpus_clip(kind, folder / f"{kind}{CORPUS_SUFFIXES[kind]}")


def test_languages_map_to_bcp47_and_menu_labels():
    """chi/zho → zh-Hans 中文, eng → en 英语; a title wins as the label; no language → the profile's default."""
    assert stream_language({"language": "chi"}, "zh-Hans") == ("zh-Hans", "中文")
    assert stream_language({"language": "eng", "title": "English SDH"}, "zh-Hans") == ("en", "English SDH")
    assert stream_language({}, "zh-Hans") == ("zh-Hans", "zh-Hans")


def test_probe_lists_subtitle_streams_and_picture_ones_are_reported():
    """ffprobe's subtitle streams are kept in order; a PGS stream gives the editor one plain Chinese sentence."""
    probe = parse_probe(PGS_PROBE)
    assert [s["codec"] for s in probe.subtitle_streams] == ["hdmv_pgs_subtitle"]
    [notice] = image_subtitle_notices(probe.subtitle_streams)
    assert "（中文）" in notice
    assert_plain_chinese(notice)


@pytest.mark.django_db
def test_the_editor_sees_the_notice_with_the_asset_status():
    """asset_notices (what the item's edit page shows) names the picture subtitle it could not publish."""
    asset = MediaAsset.objects.create(file="uploads/x.mkv", kind="video", probe=parse_probe(PGS_PROBE).to_dict())
    assert len(asset_notices(asset=asset)) == 1


def test_mov_text_in_an_mp4_is_extracted_as_webvtt(corpus, tmp_path):
    """An MP4's mov_text stream (Chinese) is written as WebVTT with its cue text."""
    source = corpus("mp4_mov_text")
    ctx = StepContext(source=source, probe=probe_upload(source), out_dir=tmp_path, work_dir=tmp_path / "w")
    [track] = embedded_tracks(ctx, CAPTIONS)
    assert (track.language, track.label) == ("zh-Hans", "中文")
    assert "学习贯彻" in track.path.read_text(encoding="utf-8")


def test_an_attached_file_wins_over_an_embedded_stream_of_its_language(corpus, tmp_path):
    """The editor attached Chinese captions: only the embedded English stream is added."""
    source = corpus("mkv_subtitles")
    attached = CaptionTrack("zh-Hans", "中文（校对版）", tmp_path / "zh.srt")
    ctx = StepContext(
        source=source, probe=probe_upload(source), out_dir=tmp_path, work_dir=tmp_path / "w", captions=(attached,)
    )
    assert [track.language for track in embedded_tracks(ctx, CAPTIONS)] == ["en"]


def test_mkv_with_srt_and_ass_gets_two_caption_tracks_in_the_master(corpus, tmp_path):
    """An MKV with a Chinese SRT and an English ASS stream: the ladder publishes both as subtitle renditions
    with their languages and names (before: no caption track at all), and everything verifies."""
    source = corpus("mkv_subtitles")
    probe = probe_upload(source)
    loudness = loudness_measure(source=source, probe=probe, target=LOUDNESS_MOBILE)
    ctx = StepContext(source=source, probe=probe, out_dir=tmp_path / "out", work_dir=tmp_path / "w", loudness=loudness)
    outputs = web_hls.produce(ctx, HLS_WEB)
    for output in outputs:
        verify_output(output=output, ctx=ctx)
    assert sorted(o.profile for o in outputs if o.kind == "captions") == ["captions_en", "captions_zh-Hans"]
    master = m3u8.loads((ctx.out_dir / outputs[0].path).read_text())
    menu = {(m.language, m.name) for m in master.media if m.type == "SUBTITLES"}
    assert menu == {("zh-Hans", "中文"), ("en", "英语")}
    chinese = next(o for o in outputs if o.profile == "captions_zh-Hans")
    assert "学习贯彻" in (ctx.out_dir / chinese.meta["vtt"]).read_text(encoding="utf-8")
