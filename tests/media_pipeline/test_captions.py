"""Captions: SRT/WebVTT in any encoding editors bring → clean WebVTT, HLS subtitle segments and playlists."""

from dataclasses import replace
from pathlib import Path

import m3u8
import pytest
import webvtt

from media_pipeline.errors import BadInputError, Cancelled
from media_pipeline.steps import captions
from media_pipeline.steps.captions import (
    caption_segments,
    clean_vtt,
    decode_captions,
    sanitize_cue_text,
    subtitle_media,
)
from media_pipeline.steps.contract import CaptionTrack, StepContext
from media_pipeline.steps.profiles import CAPTIONS

SRT = (
    "1\r\n00:00:01,000 --> 00:00:04,500\r\n欢迎收看灯塔课堂\r\n\r\n"
    "2\r\n00:00:05,000 --> 00:00:07,000\r\n<i>第二条</i>\r\n第二行\r\n"
)


def _cues(vtt: str) -> list[tuple[str, str, str]]:
    return [(c.start, c.end, c.raw_text) for c in webvtt.from_string(vtt).captions]


def test_utf8_srt_with_bom_and_crlf_becomes_webvtt():
    """A UTF-8 SRT with a BOM and CRLF lines is read by content; times get WebVTT's dot, lines stay."""
    vtt = clean_vtt(b"\xef\xbb\xbf" + SRT.encode("utf-8"))
    assert vtt.startswith("WEBVTT\n") and "\r" not in vtt and "\ufeff" not in vtt
    assert _cues(vtt) == [
        ("00:00:01.000", "00:00:04.500", "欢迎收看灯塔课堂"),
        ("00:00:05.000", "00:00:07.000", "<i>第二条</i>\n第二行"),
    ]


def test_gbk_encoded_srt_reads_the_same_as_utf8():
    """Files from Chinese subtitle tools are often GBK: decoded via GB18030 to the same captions."""
    assert clean_vtt(SRT.encode("gbk")) == clean_vtt(SRT.encode("utf-8"))
    assert decode_captions("字幕".encode("gb18030")) == "字幕"


def test_webvtt_input_keeps_timing_and_settings_but_not_styles_or_regions():
    """A WebVTT file (whatever its name) keeps cue settings; STYLE blocks, ids and region settings go."""
    source = (
        "WEBVTT - lesson\n\nSTYLE\n::cue { color: red }\n\n"
        "intro\n00:01.000 --> 00:02.000 align:start line:0 region:r1\n<v 讲师>大家好\n"
    )
    vtt = clean_vtt(source.encode("utf-8"))
    assert "STYLE" not in vtt and "intro" not in vtt and "region" not in vtt
    (caption,) = webvtt.from_string(vtt).captions
    assert (caption.start, caption.end, caption.raw_text) == ("00:00:01.000", "00:00:02.000", "大家好")
    assert str(caption.settings) == "align:start line:0"


def test_malformed_cues_are_skipped_and_the_rest_kept_in_time_order():
    """A cue with a broken timestamp or no duration is dropped; the good ones survive, sorted by start."""
    source = (
        "1\n00:00:09,000 --> 00:00:10,000\n后\n\n"
        "2\n00:00:0x,000 --> 00:00:03,000\n坏时间\n\n"
        "3\n00:00:05,000 --> 00:00:05,000\n零长度\n\n"
        "4\n00:00:01,000 --> 00:00:02,000\n前\n"
    )
    assert [text for _s, _e, text in _cues(clean_vtt(source.encode()))] == ["前", "后"]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        "这不是字幕文件\n只是一段文字\n".encode(),
        b"WEBVTT\n\nNOTE nothing here\n",
        b"1\n00:00:01,000 --> 00:00:02,000\n<script>x()</script>\n",
    ],
    ids=["empty", "plain-text", "vtt-without-cues", "only-script"],
)
def test_file_without_a_valid_cue_is_bad_input_in_chinese(data):
    """No usable cue → BadInputError whose message (shown to editors) is Chinese."""
    with pytest.raises(BadInputError) as caught:
        clean_vtt(data)
    assert "字幕" in caught.value.message


def test_undecodable_bytes_are_bad_input():
    """Bytes that are neither UTF-8 nor GB18030 get a Chinese message naming the encodings we read."""
    with pytest.raises(BadInputError, match="UTF-8"):
        decode_captions(b"\x81\x20")


def test_markup_is_neutralised_except_b_i_u():
    """Scripts (with their code), images, links and fonts are dropped; b/i/u stay; stray < and & escaped."""
    text = (
        '<script>alert("x")</script><B>粗</B> <i class="x">斜</i> <u>线</u> '
        '<img src=x onerror="steal()"><a href="javascript:go()">链接</a> <font color=red>红</font> '
        "1 < 2 & {\\an8}3"
    )
    assert sanitize_cue_text(text) == "<b>粗</b> <i>斜</i> <u>线</u> 链接 红 1 &lt; 2 &amp; 3"
    assert sanitize_cue_text("&amp; &lt;b&gt;") == "&amp; &lt;b&gt;"  # already escaped: not escaped twice


def test_script_in_a_real_file_never_reaches_the_output():
    """End to end: a cue carrying script keeps its words only."""
    vtt = clean_vtt(b"1\n00:00:01,000 --> 00:00:02,000\n<script>alert(1)</script><b>\xe5\xa5\xbd</b><img onerror=x>\n")
    assert "script" not in vtt and "alert" not in vtt and "onerror" not in vtt
    assert _cues(vtt)[0][2] == "<b>好</b>"


VTT = clean_vtt(
    b"1\n00:00:01,000 --> 00:00:02,000\nA\n\n"
    b"2\n00:00:05,000 --> 00:00:07,000\nB\n\n"
    b"3\n00:00:13,000 --> 00:00:14,000\nC\n\n"
    b"4\n00:00:20,000 --> 00:00:21,000\nD\n"
)


def test_segments_follow_the_video_segments_with_timestamp_map():
    """14 s in 6-s segments → 6, 6, 2 s; every segment has WEBVTT + X-TIMESTAMP-MAP (MPEGTS:0 ↔ LOCAL 0)."""
    segments = caption_segments(vtt=VTT, segment_seconds=6.0, duration=14.0)
    assert [seconds for _text, seconds in segments] == [6.0, 6.0, 2.0]
    for text, _seconds in segments:
        assert text.splitlines()[:2] == ["WEBVTT", "X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000"]
    cues = [[raw for _s, _e, raw in _cues(text)] for text, _seconds in segments]
    # B spans the 6-s boundary: in both segments. D starts after the video ends: nowhere.
    assert cues == [["A", "B"], ["B"], ["C"]]
    assert _cues(segments[1][0])[0][:2] == ("00:00:05.000", "00:00:07.000")  # times stay absolute


def test_segment_without_cues_is_still_a_valid_webvtt_file():
    """An empty stretch still gets a segment (players expect one per video segment), header only."""
    segments = caption_segments(vtt=VTT, segment_seconds=2.0, duration=6.0, mpegts=7200)
    assert len(segments) == 3 and webvtt.from_string(segments[1][0]).captions == []
    assert "X-TIMESTAMP-MAP=MPEGTS:7200,LOCAL:00:00:00.000" in segments[1][0]


# --- The step ----------------------------------------------------------------------------------------------


@pytest.fixture
def caption_ctx(tmp_path, make_probe):
    """Two tracks (Chinese GBK SRT, default; English WebVTT) for an 8-s programme."""
    zh = tmp_path / "zh.srt"
    zh.write_bytes(SRT.encode("gbk"))
    en = tmp_path / "en.txt"  # the name says nothing: the content does
    en.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:07.000\nWelcome\n", encoding="utf-8")
    tracks = (CaptionTrack("zh-Hans", "中文", zh, default=True), CaptionTrack("en", "English", en))
    out = tmp_path / "out"
    return StepContext(
        source=Path("unused.mp4"), probe=make_probe(duration=8.0), out_dir=out, work_dir=tmp_path, captions=tracks
    )


def test_produce_writes_vtt_playlist_and_segments_per_track(caption_ctx):
    """Per track: captions.vtt, index.m3u8 and sub_NNNNN.vtt under captions/<lang>/; one Output each."""
    seen = []
    ctx = replace(caption_ctx, on_progress=lambda fraction: seen.append(fraction) or True)
    outputs = captions.produce(ctx, CAPTIONS)
    assert [o.path for o in outputs] == ["captions/zh-Hans/index.m3u8", "captions/en/index.m3u8"]
    zh = outputs[0]
    assert zh.kind == "captions" and zh.profile == "captions"
    assert zh.files == (
        "captions/zh-Hans/index.m3u8",
        "captions/zh-Hans/captions.vtt",
        "captions/zh-Hans/sub_00000.vtt",
        "captions/zh-Hans/sub_00001.vtt",
    )
    assert all((ctx.out_dir / name).is_file() for o in outputs for name in o.files)
    assert zh.meta == {"language": "zh-Hans", "label": "中文", "default": True, "vtt": "captions/zh-Hans/captions.vtt"}
    assert outputs[1].meta["default"] is False
    playlist = m3u8.load(str(ctx.out_dir / zh.path))
    assert [(s.uri, s.duration) for s in playlist.segments] == [("sub_00000.vtt", 6.0), ("sub_00001.vtt", 2.0)]
    assert playlist.is_endlist and playlist.playlist_type == "vod"
    assert "欢迎收看灯塔课堂" in (ctx.out_dir / zh.meta["vtt"]).read_text(encoding="utf-8")
    assert seen == [0.5, 1.0]


def test_produce_stops_when_cancelled(caption_ctx):
    """on_progress returning False stops the step with Cancelled."""
    with pytest.raises(Cancelled):
        captions.produce(replace(caption_ctx, on_progress=lambda fraction: False), CAPTIONS)


def test_two_files_for_one_language_or_a_bad_tag_are_refused(caption_ctx):
    """Two tracks would share a folder; a language that is not a BCP 47 tag would name a path."""
    zh = caption_ctx.captions[0]
    with pytest.raises(BadInputError, match="同一种语言"):
        captions.produce(replace(caption_ctx, captions=(zh, replace(zh, default=False))), CAPTIONS)
    with pytest.raises(BadInputError, match="语言代码"):
        captions.produce(replace(caption_ctx, captions=(replace(zh, language="../x"),)), CAPTIONS)


def test_bad_track_error_names_the_track(caption_ctx, tmp_path):
    """An unreadable file's error tells the editor which track it was."""
    broken = tmp_path / "broken.srt"
    broken.write_bytes(b"nothing useful")
    track = CaptionTrack("en", "English", broken)
    with pytest.raises(BadInputError, match="English"):
        captions.produce(replace(caption_ctx, captions=(track,)), CAPTIONS)


def test_subtitle_media_points_from_the_master_folder(caption_ctx):
    """Outputs become master entries whose URI is relative to the master's folder."""
    outputs = captions.produce(caption_ctx, CAPTIONS)
    media = subtitle_media(outputs, master_dir="hls")
    assert [(m.name, m.language, m.uri, m.default) for m in media] == [
        ("中文", "zh-Hans", "../captions/zh-Hans/index.m3u8", True),
        ("English", "en", "../captions/en/index.m3u8", False),
    ]
