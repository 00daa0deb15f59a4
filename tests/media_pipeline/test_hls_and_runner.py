"""Master playlist writing, playlist rewriting and the ffmpeg runner."""

from pathlib import Path

import m3u8
import pytest

from media_pipeline.delivery.playlists import (
    audio_only_master,
    media_segments,
    playlist_seconds,
    resolve_inside,
    rewrite_master,
    rewrite_media,
    subtitle_key,
    subtitle_uri,
)
from media_pipeline.ffmpeg.ladder import Variant
from media_pipeline.ffmpeg.runner import progress_fraction, run_ffmpeg
from media_pipeline.steps.iframes import IFrameStats
from media_pipeline.steps.master_playlist import (
    SubtitleMedia,
    VariantStats,
    avc1_codec,
    master_playlist,
    measure_variant,
    parse_media_playlist,
)

MEDIA_PLAYLIST = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:6
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="init_0.mp4"
#EXTINF:6.000000,
seg_00000.m4s
#EXTINF:2.000000,
seg_00001.m4s
#EXT-X-ENDLIST
"""


def test_measured_peak_and_average_bandwidth(tmp_path):
    """Peak is the busiest segment's bits per second; average is all bytes over all seconds."""
    (tmp_path / "index.m3u8").write_text(MEDIA_PLAYLIST)
    (tmp_path / "init_0.mp4").write_bytes(b"\0\0\0\x10avcC\x01\x64\x00\x1e" + b"\0" * 8)
    (tmp_path / "seg_00000.m4s").write_bytes(b"x" * 6000)  # 48 000 bits over 6 s = 8000 bit/s
    (tmp_path / "seg_00001.m4s").write_bytes(b"x" * 3000)  # 24 000 bits over 2 s = 12 000 bit/s
    stats = measure_variant(tmp_path, Variant("360p", 640, 360, 730_000, 96_000), frame_rate=25.0)
    assert (stats.peak_bandwidth, stats.average_bandwidth) == (12_000, 9_000)
    assert stats.codecs == "avc1.64001e,mp4a.40.2"


def test_master_playlist_has_every_attribute_apple_asks_for():
    """BANDWIDTH, AVERAGE-BANDWIDTH, CODECS, RESOLUTION, FRAME-RATE, VIDEO-RANGE; the audio-only rung has no
    RESOLUTION (nor VIDEO-RANGE)."""
    video = VariantStats(Variant("360p", 640, 360, 730_000, 96_000), 900_000, 800_000, "avc1.64001e,mp4a.40.2", 25.0)
    audio = VariantStats(Variant("audio", 0, 0, 0, 64_000), 70_000, 66_000, "mp4a.40.2", 25.0)
    text = master_playlist([video, audio])
    assert (
        '#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=800000,CODECS="avc1.64001e,mp4a.40.2",'
        "RESOLUTION=640x360,FRAME-RATE=25.000,VIDEO-RANGE=SDR\n360p/index.m3u8" in text
    )
    assert '#EXT-X-STREAM-INF:BANDWIDTH=70000,AVERAGE-BANDWIDTH=66000,CODECS="mp4a.40.2"\naudio/index.m3u8' in text


def test_avc1_codec_string_from_avcc():
    """High profile (0x64), level 3.1 (0x1f) → avc1.64001f."""
    assert avc1_codec(b"....avcC\x01\x64\x00\x1f\xff") == "avc1.64001f"


def test_rewrite_master_and_media_playlists():
    """Variant URIs go to our views; segment and EXT-X-MAP URIs go to storage URLs."""
    master = rewrite_master("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n360p/index.m3u8\n", lambda v: f"/v/{v}")
    assert master.splitlines()[-1] == "/v/360p"
    media = rewrite_media(MEDIA_PLAYLIST, lambda name: f"https://s3/{name}?sig=1")
    assert '#EXT-X-MAP:URI="https://s3/init_0.mp4?sig=1"' in media
    assert "https://s3/seg_00001.m4s?sig=1" in media.splitlines()
    assert parse_media_playlist(media).segments[0] == ("https://s3/seg_00000.m4s?sig=1", 6.0)


VIDEO_360 = Variant("360p", 640, 360, 730_000, 96_000)
AUDIO_ONLY = Variant("audio", 0, 0, 0, 64_000)
SUBTITLES = [
    SubtitleMedia(name='中文 "简体"', language="zh-Hans", uri="../captions/zh-Hans/index.m3u8", default=True),
    SubtitleMedia(name="English", language="en", uri="../captions/en/index.m3u8", default=True),
]


def _master_with_extras() -> str:
    stats = [
        VariantStats(VIDEO_360, 900_000, 800_000, "avc1.64001e,mp4a.40.2", 25.0),
        VariantStats(AUDIO_ONLY, 70_000, 66_000, "mp4a.40.2", 25.0),
    ]
    return master_playlist(stats, subtitles=SUBTITLES, iframe_stats=[IFrameStats(VIDEO_360, 300_000, 120_000)])


def test_master_with_subtitles_and_iframe_streams_parses_with_m3u8():
    """SUBTITLES media (one DEFAULT=YES), SUBTITLES="subs" on every variant, a video-only I-frame stream."""
    master = m3u8.loads(_master_with_extras())
    assert [(m.type, m.group_id, m.language, m.default, m.autoselect, m.uri) for m in master.media] == [
        ("SUBTITLES", "subs", "zh-Hans", "YES", "YES", "../captions/zh-Hans/index.m3u8"),
        ("SUBTITLES", "subs", "en", "NO", "YES", "../captions/en/index.m3u8"),
    ]
    assert master.media[0].name == "中文 '简体'"  # a double quote would end the quoted-string
    assert [p.stream_info.subtitles for p in master.playlists] == ["subs", "subs"]
    (iframe,) = master.iframe_playlists
    info = iframe.iframe_stream_info
    assert iframe.uri == "360p/iframes.m3u8"
    assert (info.bandwidth, info.average_bandwidth, info.codecs, info.resolution) == (
        300_000,
        120_000,
        "avc1.64001e",
        (640, 360),
    )


def test_master_without_extras_is_unchanged():
    """Callers that pass neither subtitles nor I-frames get no EXT-X-MEDIA, SUBTITLES or I-frame lines."""
    text = master_playlist([VariantStats(VIDEO_360, 1, 1, "avc1.64001e", 25.0)])
    assert "EXT-X-MEDIA" not in text and "SUBTITLES" not in text and "I-FRAME" not in text


def test_rewrite_master_points_subtitles_and_iframes_at_views():
    """URI="…" of SUBTITLES media and of I-frame streams go through their callbacks; variants as before."""
    text = rewrite_master(
        _master_with_extras(),
        lambda variant: f"/v/{variant}",
        subtitles_url=lambda uri: f"/subs/{subtitle_key(uri)}",
        iframe_url=lambda variant: f"/iframes/{variant}",
    )
    master = m3u8.loads(text)
    assert [m.uri for m in master.media] == ["/subs/zh-Hans", "/subs/en"]
    assert master.iframe_playlists[0].uri == "/iframes/360p"
    assert [p.uri for p in master.playlists] == ["/v/360p", "/v/audio"]


def test_rewrite_master_sends_demuxed_audio_media_to_the_variant_view():
    """An EXT-X-MEDIA TYPE=AUDIO rendition sits in the master's folder: its URI goes to the variant view."""
    line = '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="audio",DEFAULT=YES,URI="audio_128k/index.m3u8"'
    assert rewrite_master(line, lambda v: f"/v/{v}").splitlines()[0].endswith('URI="/v/audio_128k"')


def test_subtitle_uri_only_finds_what_the_master_names_and_stays_inside():
    """A key maps back to the master's own URI; resolving refuses absolute paths and climbing out of the job."""
    master = _master_with_extras()
    assert subtitle_uri(master, "en") == "../captions/en/index.m3u8"
    assert subtitle_uri(master, "fr") is None
    root = "renditions/1/2"
    assert resolve_inside(f"{root}/hls", "../captions/en/index.m3u8", root=root) == f"{root}/captions/en/index.m3u8"
    assert resolve_inside(f"{root}/hls", "../../../3/captions/index.m3u8", root=root) is None
    assert resolve_inside(f"{root}/hls", "/etc/passwd", root=root) is None
    assert resolve_inside(f"{root}/hls", "https://evil.example/x.m3u8", root=root) is None


def test_rewrite_media_keeps_byte_ranges():
    """An I-frame playlist keeps its EXT-X-BYTERANGE lines; only the URIs change."""
    text = (
        '#EXTM3U\n#EXT-X-I-FRAMES-ONLY\n#EXT-X-MAP:URI="init_0.mp4"\n'
        "#EXTINF:2.000000,\n#EXT-X-BYTERANGE:5934@128\nseg_00000.m4s\n#EXT-X-ENDLIST\n"
    )
    playlist = m3u8.loads(rewrite_media(text, lambda name: f"https://s3/{name}"))
    assert playlist.segments[0].byterange == "5934@128"
    assert playlist.segments[0].uri == "https://s3/seg_00000.m4s"
    assert playlist.segments[0].init_section.uri == "https://s3/init_0.mp4"


def test_progress_fraction_from_out_time():
    """out_time_us against the source duration, clamped to 0..1."""
    assert progress_fraction({"out_time_us": "2000000"}, 4.0) == 0.5
    assert progress_fraction({"out_time_us": "9000000"}, 4.0) == 1.0
    assert progress_fraction({"out_time_us": "N/A"}, 4.0) == 0.0


def _slow_encode_args(out: Path) -> list[str]:
    # -re reads the input at its native rate, so this takes ~30 s unless stopped.
    source = "testsrc2=size=320x180:rate=25:duration=30"
    return ["-nostats", "-progress", "pipe:1", "-re", "-f", "lavfi", "-i", source, "-c:v", "libx264", str(out), "-y"]


def test_runner_reports_progress_and_cancels_without_leaving_a_process(tmp_path):
    """The callback sees rising progress; returning False stops ffmpeg, which is reaped (no zombie)."""
    seen = []

    def on_progress(fraction):
        seen.append(fraction)
        return len(seen) < 3

    result = run_ffmpeg(_slow_encode_args(tmp_path / "out.mp4"), duration=30.0, on_progress=on_progress)
    assert result.cancelled and len(seen) == 3
    assert 0 <= seen[0] <= seen[-1] < 0.5
    assert result.returncode is not None  # waited for: the kernel has nothing left to reap


def test_runner_keeps_the_log_tail_on_failure(tmp_path):
    """A failing ffmpeg returns non-zero and the last lines of its stderr."""
    result = run_ffmpeg(["-i", str(tmp_path / "missing.mp4"), str(tmp_path / "x.mp4")], duration=1.0)
    assert result.returncode != 0 and not result.cancelled
    assert "No such file or directory" in result.log_tail


def test_audio_only_master_keeps_the_audio_variant_of_a_demuxed_ladder():
    """A chunked ladder's master (video-only rungs naming an AUDIO group, and an audio-only variant): 仅声音 keeps
    the audio-only variant and the header, drops every video variant and I-frame stream."""
    master = (
        "#EXTM3U\n#EXT-X-VERSION:7\n"
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac-128k",NAME="AAC 128k",DEFAULT=YES,URI="audio/index.m3u8"\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,AUDIO="aac-128k"\n'
        "360p/index.m3u8\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=70000,CODECS="mp4a.40.2"\naudio/index.m3u8\n'
        '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,CODECS="avc1.64001e",URI="iframes/360p.m3u8"\n'
    )
    only = m3u8.loads(audio_only_master(master))
    assert [variant.uri for variant in only.playlists] == ["audio/index.m3u8"]
    assert not only.iframe_playlists and only.version == 7
    assert (
        audio_only_master(
            master.replace('#EXT-X-STREAM-INF:BANDWIDTH=70000,CODECS="mp4a.40.2"\naudio/index.m3u8\n', "")
        )
        is None
    )


def test_playlist_seconds_sums_its_segments():
    """What a media playlist lasts decides how long its segment URLs live (views._media_playlist_response)."""
    assert playlist_seconds("#EXTM3U\n#EXTINF:6.000000,\na.m4s\n#EXTINF:2.5,\nb.m4s\n#EXT-X-ENDLIST\n") == 8.5


def test_media_segments_lists_the_init_and_each_segment_with_its_seconds_and_refuses_other_paths():
    """What the linear channel stitches (selectors.hls_variant_files): only files beside the playlist."""
    text = '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:6.000000,\nseg_00000.m4s\n#EXTINF:2.480000,\nseg_00001.m4s\n'
    assert media_segments(text) == ("init.mp4", ((6.0, "seg_00000.m4s"), (2.48, "seg_00001.m4s")))
    with pytest.raises(ValueError):
        media_segments("#EXTM3U\n#EXTINF:6.0,\n../other/seg_00000.m4s\n")
    with pytest.raises(ValueError):
        media_segments('#EXTM3U\n#EXT-X-MAP:URI="/etc/init.mp4"\n#EXTINF:6.0,\nseg.m4s\n')
