"""I-frame playlists: a keyframe-only rendition per variant, one fragment per keyframe, checked on a real ladder."""

import struct
from pathlib import Path

import m3u8
import pytest

from media_pipeline.ffmpeg.commands import hls_ladder_command
from media_pipeline.ffmpeg.ladder import Variant, plan_variants
from media_pipeline.ffmpeg.probe import probe_file
from media_pipeline.ffmpeg.runner import check_run, run_ffmpeg
from media_pipeline.steps import master_playlist
from media_pipeline.steps.iframes import (
    IFRAME_MEDIA_NAME,
    IFRAME_PLAYLIST_NAME,
    Fragment,
    IFrame,
    Sample,
    SegmentIndex,
    TrackDefaults,
    iframe_bandwidths,
    iframe_entries,
    iframe_playlist,
    iframe_rendition_command,
    index_segment,
    range_bandwidths,
    video_track,
    write_iframe_playlists,
)
from media_pipeline.steps.profiles import HLS_WEB
from media_pipeline.synthetic.media import make_clip
from tests.media_pipeline.iframe_checks import decode_each_entry, entry_bytes, variant_frames


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


def test_rendition_command_copies_only_keyframes_into_one_fragment_each(tmp_path):
    """The I-frame rendition is the variant's keyframes copied (no encoder), one moof per keyframe."""
    args = iframe_rendition_command(variant_dir=tmp_path / "360p")
    assert args[args.index("-i") + 1] == str(tmp_path / "360p" / "index.m3u8")
    assert args[args.index("-c") + 1] == "copy" and "-c:v" not in args and "-copyts" in args
    assert args[args.index("-bsf:v") + 1] == "noise=drop=not(key)"
    assert set(args[args.index("-movflags") + 1].strip("+").split("+")) == {
        "frag_keyframe",
        "empty_moov",
        "delay_moov",
        "default_base_moof",
    }
    assert args[-1] == str(tmp_path / "360p" / IFRAME_MEDIA_NAME)


def test_real_ladder_gets_one_iframe_per_gop(ladder_8s):
    """Four 2-s I-frames per video variant, each its own fragment of iframes.mp4; the audio-only variant gets none."""
    hls_dir, variants = ladder_8s
    stats = write_iframe_playlists(hls_dir, variants)
    assert [item.variant.name for item in stats] == [v.name for v in variants if v.has_video]
    assert not (hls_dir / "audio" / IFRAME_PLAYLIST_NAME).exists()
    playlist = m3u8.load(str(hls_dir / stats[0].uri))
    assert playlist.is_i_frames_only and len(playlist.segments) == 4
    assert [round(s.duration, 2) for s in playlist.segments] == [2.0, 2.0, 2.0, 2.0]
    assert [s.uri for s in playlist.segments] == [IFRAME_MEDIA_NAME] * 4
    init = playlist.segments[0].init_section
    assert init.uri == IFRAME_MEDIA_NAME and init.byterange.endswith("@0")
    # The ranges tile the file after its init: no byte fetched twice, none belonging to another keyframe.
    ends = [int(init.byterange.split("@")[0])]
    for segment in playlist.segments:
        length, offset = (int(part) for part in segment.byterange.split("@"))
        assert offset == ends[-1]
        ends.append(offset + length)


def test_each_entry_alone_decodes_to_one_frame_at_its_time_showing_the_variants_picture(ladder_8s, tmp_path):
    """init range + one entry's range → exactly one frame, at the entry's time (±1 frame, after the variant's
    own start offset), pixel-identical to the variant's frame at that time. Before: every entry of a segment
    started at its moof, so entries 2 and 3 decoded the segment's first keyframe again."""
    hls_dir, variants = ladder_8s
    write_iframe_playlists(hls_dir, variants)
    for variant in (v for v in variants if v.has_video):
        reference = variant_frames(hls_dir / variant.name, tmp_path)
        by_time = {round(frame.seconds, 3): frame.md5 for frame in reference}
        offset = reference[0].seconds  # x264's B-frame delay: the variant's own first picture time
        entries = decode_each_entry(hls_dir / variant.name, tmp_path)
        assert len(entries) == 4
        for start, frames in entries:
            assert len(frames) == 1
            assert abs(frames[0].seconds - (start + offset)) <= 1 / 25 + 1e-6
            assert by_time[round(frames[0].seconds, 3)] == frames[0].md5


def test_declared_rates_are_measured_from_the_ranges_and_below_the_variants(ladder_8s):
    """The master's I-frame BANDWIDTH/AVERAGE-BANDWIDTH equal the ranges' bytes over their EXTINFs, and each is
    below its variant's (before: the I-frame stream declared twice the variant's rate)."""
    hls_dir, variants = ladder_8s
    master_playlist.write_master(hls_dir, variants, frame_rate=25.0, iframes=True)
    master = m3u8.load(str(hls_dir / master_playlist.MASTER_NAME))
    variant_info = {p.uri.split("/")[0]: p.stream_info for p in master.playlists}
    assert len(master.iframe_playlists) == len([v for v in variants if v.has_video])
    for iframe in master.iframe_playlists:
        playlist, pieces = entry_bytes(hls_dir / iframe.uri.split("/")[0])
        init_length = int(playlist.segments[0].init_section.byterange.split("@")[0])
        ranges = [(len(data) - init_length, s.duration) for data, s in zip(pieces, playlist.segments, strict=True)]
        info, variant = iframe.iframe_stream_info, variant_info[iframe.uri.split("/")[0]]
        assert (info.bandwidth, info.average_bandwidth) == range_bandwidths(ranges)
        assert info.bandwidth < variant.bandwidth and info.average_bandwidth < variant.average_bandwidth


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
