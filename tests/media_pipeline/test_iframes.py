"""I-frame playlists: keyframe byte ranges indexed from fMP4 segments, checked on a real ladder output."""

import json
import struct
import subprocess
from pathlib import Path

import m3u8
import pytest
from django.conf import settings

from media_pipeline.ffmpeg.commands import hls_ladder_command
from media_pipeline.ffmpeg.ladder import Variant, plan_variants
from media_pipeline.ffmpeg.probe import probe_file
from media_pipeline.ffmpeg.runner import check_run, run_ffmpeg
from media_pipeline.steps import master_playlist
from media_pipeline.steps.iframes import (
    IFRAME_PLAYLIST_NAME,
    Fragment,
    IFrame,
    Sample,
    SegmentIndex,
    TrackDefaults,
    iframe_bandwidths,
    iframe_entries,
    iframe_playlist,
    index_segment,
    video_track,
    write_iframe_playlists,
)
from media_pipeline.steps.profiles import HLS_WEB
from media_pipeline.synthetic.media import make_clip


def _sample(offset, size, decode_time, sync, duration=10):
    return Sample(offset=offset, size=size, decode_time=decode_time, duration=duration, sync=sync)


# Two segments: the first has one moof (at byte 100) holding two GOPs, the second one moof with one GOP.
SEGMENTS = [
    SegmentIndex(
        "seg_00000.m4s",
        (
            Fragment(
                100,
                (
                    _sample(1000, 50, 0, True),
                    _sample(1050, 10, 10, False),
                    _sample(1060, 40, 20, True),
                    _sample(1100, 10, 30, False),
                ),
            ),
        ),
    ),
    SegmentIndex("seg_00001.m4s", (Fragment(0, (_sample(500, 30, 40, True), _sample(530, 5, 50, False))),)),
]


def test_keyframe_ranges_start_at_the_moof_and_end_with_the_keyframe():
    """Each keyframe's range runs from its moof to the end of its sample; it lasts until the next keyframe."""
    frames = iframe_entries(segments=SEGMENTS, timescale=10)
    assert frames == [
        IFrame("seg_00000.m4s", 100, 950, 2.0),
        IFrame("seg_00000.m4s", 100, 1000, 2.0),  # mid-moof keyframe: the range still starts at the moof
        IFrame("seg_00001.m4s", 0, 530, 2.0),  # the last lasts until the end of the track (50 + 10)
    ]


def test_iframe_playlist_parses_as_i_frames_only_with_byte_ranges():
    """The m3u8 package reads it as an I-frames-only VOD playlist with the init map and byte ranges."""
    playlist = m3u8.loads(iframe_playlist(segments=SEGMENTS, init_uri="init_0.mp4", timescale=10))
    assert playlist.is_i_frames_only and playlist.playlist_type == "vod" and playlist.is_endlist
    assert playlist.version == 7 and playlist.target_duration == 2
    assert playlist.segments[0].init_section.uri == "init_0.mp4"
    assert [(s.uri, s.byterange, s.duration) for s in playlist.segments] == [
        ("seg_00000.m4s", "950@100", 2.0),
        ("seg_00000.m4s", "1000@100", 2.0),
        ("seg_00001.m4s", "530@0", 2.0),
    ]


def test_bandwidths_count_the_bytes_a_player_fetches():
    """Peak is the busiest range over its duration; average is all range bytes over all seconds."""
    frames = [IFrame("a", 0, 1000, 2.0), IFrame("a", 0, 3000, 2.0), IFrame("b", 0, 500, 1.0)]
    assert iframe_bandwidths(frames) == (12_000, 7_200)


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _full_box(kind: bytes, flags: int, body: bytes, version: int = 0) -> bytes:
    return _box(kind, bytes([version]) + flags.to_bytes(3, "big") + body)


def test_reader_follows_first_sample_flags_and_track_defaults(tmp_path):
    """A muxer other than ffmpeg (first-sample-flags, sizes only, trex defaults, two runs) is read correctly."""
    sync, non_sync = 0x02000000, 0x01010000
    trak = _box(
        b"trak",
        _full_box(b"tkhd", 3, b"\0" * 8 + struct.pack(">I", 7) + b"\0" * 68)
        + _box(
            b"mdia",
            _full_box(b"mdhd", 0, b"\0" * 8 + struct.pack(">II", 1000, 0) + b"\0" * 4)
            + _full_box(b"hdlr", 0, b"\0" * 4 + b"vide" + b"\0" * 13),
        ),
    )
    trex = _full_box(b"trex", 0, struct.pack(">5I", 7, 1, 40, 0, non_sync))
    init = _box(b"ftyp", b"iso6\0\0\0\0") + _box(b"moov", trak + _box(b"mvex", trex))
    track = video_track(init)
    assert track == TrackDefaults(track_id=7, timescale=1000, duration=40, size=0, flags=non_sync)

    tfhd = _full_box(b"tfhd", 0x20000, struct.pack(">I", 7))  # default-base-is-moof, nothing else
    tfdt = _full_box(b"tfdt", 0, struct.pack(">I", 4000))

    def moof_with(data_offset: int) -> bytes:
        # data-offset + first-sample-flags + per-sample sizes; durations and other flags from trex.
        trun = _full_box(b"trun", 0x1 | 0x4 | 0x200, struct.pack(">IiI3I", 3, data_offset, sync, 100, 20, 30))
        follow_on = _full_box(b"trun", 0x200, struct.pack(">II", 1, 7))  # no data offset: after the 1st run
        return _box(b"moof", _full_box(b"mfhd", 0, b"\0" * 4) + _box(b"traf", tfhd + tfdt + trun + follow_on))

    moof = moof_with(len(moof_with(0)) + 8)  # the samples start right after the mdat header
    segment = tmp_path / "seg.m4s"
    segment.write_bytes(_box(b"styp", b"msdh\0\0\0\0") + moof + _box(b"mdat", b"\0" * 150))

    index = index_segment(segment, uri="seg.m4s", track=track)
    moof_at = 16
    data_at = moof_at + len(moof) + 8
    assert index.fragments[0].moof_offset == moof_at
    assert [(s.offset, s.size, s.decode_time, s.sync) for s in index.fragments[0].samples] == [
        (data_at, 100, 4000, True),
        (data_at + 100, 20, 4040, False),
        (data_at + 120, 30, 4080, False),
        (data_at + 150, 7, 4120, False),
    ]


# --- A real ladder output ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ladder_8s(tmp_path_factory) -> tuple[Path, list[Variant]]:
    """8 s at 320×180 with audio through the real web ladder: 2-s GOPs in 6-s fMP4 segments (6 s + 2 s)."""
    root = tmp_path_factory.mktemp("iframes")
    source = make_clip(root / "source.mp4", size="320x180", seconds=8, audio=True)
    probe = probe_file(source)
    out_dir = root / "hls"
    check_run(run_ffmpeg(hls_ladder_command(profile=HLS_WEB, probe=probe, source=source, out_dir=out_dir), duration=8))
    return out_dir, plan_variants(HLS_WEB, probe)


def test_real_ladder_gets_one_iframe_per_gop(ladder_8s):
    """ffmpeg's one-moof-per-segment output yields four 2-s I-frames; the audio-only variant gets none."""
    hls_dir, variants = ladder_8s
    stats = write_iframe_playlists(hls_dir, variants)
    assert [item.variant.name for item in stats] == [v.name for v in variants if v.has_video]
    assert not (hls_dir / "audio" / IFRAME_PLAYLIST_NAME).exists()
    playlist = m3u8.load(str(hls_dir / stats[0].uri))
    assert playlist.is_i_frames_only and len(playlist.segments) == 4
    assert [round(s.duration, 2) for s in playlist.segments] == [2.0, 2.0, 2.0, 2.0]
    assert [s.uri for s in playlist.segments] == ["seg_00000.m4s"] * 3 + ["seg_00001.m4s"]
    assert 0 < stats[0].average_bandwidth <= stats[0].peak_bandwidth


def _keyframe_times(path: Path) -> list[float]:
    result = subprocess.run(
        [settings.FFPROBE_BINARY, "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey"]
        + ["-show_entries", "frame=pts_time,pict_type", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [float(f["pts_time"]) for f in json.loads(result.stdout)["frames"] if f["pict_type"] == "I"]


def test_every_byte_range_decodes_to_its_keyframe(ladder_8s, tmp_path):
    """init + the range's bytes alone is decodable, and its last keyframe is the one the entry stands for."""
    hls_dir, variants = ladder_8s
    write_iframe_playlists(hls_dir, variants)
    variant_dir = hls_dir / variants[0].name
    playlist = m3u8.load(str(variant_dir / IFRAME_PLAYLIST_NAME))
    init = (variant_dir / playlist.segments[0].init_section.uri).read_bytes()
    start = 0.0
    for number, segment in enumerate(playlist.segments):
        length, offset = (int(part) for part in segment.byterange.split("@"))
        data = (variant_dir / segment.uri).read_bytes()[offset : offset + length]
        assert data[4:8] == b"moof"
        piece = tmp_path / f"iframe_{number}.mp4"
        piece.write_bytes(init + data)
        keyframes = _keyframe_times(piece)
        # x264's B-frame delay shifts presentation by a couple of frames: within 0.2 s of the I-frame's time.
        assert keyframes and abs(keyframes[-1] - start) < 0.2
        start += segment.duration


def test_master_names_iframe_streams_and_subtitles(ladder_8s):
    """write_master(iframes=True, subtitles=…) gives a master m3u8 reads with both kinds of extra entries."""
    hls_dir, variants = ladder_8s
    media = master_playlist.SubtitleMedia(
        name="中文", language="zh-Hans", uri="../captions/zh-Hans/index.m3u8", default=True
    )
    master_playlist.write_master(hls_dir, variants, frame_rate=25.0, subtitles=[media], iframes=True)
    master = m3u8.load(str(hls_dir / master_playlist.MASTER_NAME))
    (iframe,) = master.iframe_playlists
    assert iframe.uri == f"{variants[0].name}/{IFRAME_PLAYLIST_NAME}"
    assert iframe.iframe_stream_info.codecs.startswith("avc1.") and "mp4a" not in iframe.iframe_stream_info.codecs
    assert iframe.iframe_stream_info.resolution == (variants[0].width, variants[0].height)
    assert [m.type for m in master.media] == ["SUBTITLES"]
    assert all(p.stream_info.subtitles == "subs" for p in master.playlists)
