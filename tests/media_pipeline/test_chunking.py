"""Chunked parallel encoding: the plan, the commands, the join, and one real run against the one-process ladder."""

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import m3u8
import pytest
from django.conf import settings

from media_pipeline.errors import Cancelled, EncodeError
from media_pipeline.ffmpeg.commands import PLAYLIST_NAME, hls_ladder_command
from media_pipeline.ffmpeg.ladder import Variant, audio_renditions, plan_variants, video_only
from media_pipeline.ffmpeg.probe import probe_file
from media_pipeline.jobs.verify import verify_hls
from media_pipeline.steps import chunked_ladder, iframes, master_playlist
from media_pipeline.steps.chunked_ladder import (
    Chunk,
    audio_command,
    chunk_commands,
    chunk_plan,
    chunked_speedup,
    encode_chunked,
    join_media_playlists,
    should_chunk,
)
from media_pipeline.steps.profiles import CHUNKING, HLS_WEB, ChunkPolicy, VideoRung
from media_pipeline.synthetic.media import make_clip
from tests.media_pipeline.iframe_checks import decode_each_entry, variant_frames

SOURCE, WORK, OUT = Path("/in/long.mp4"), Path("/work"), Path("/out/hls")
TWELVE = ChunkPolicy(min_source_seconds=10, chunk_seconds=12)
# Two cheap rungs with different audio rates, so the demuxed layout needs two audio groups.
SMALL = replace(
    HLS_WEB,
    video_rungs=(VideoRung("180p", 320, 180, 300_000, 96_000), VideoRung("90p", 160, 90, 100_000, 64_000)),
)
FRAME = 1 / 25
AAC_FRAME = 1024 / 48_000


def _value(args, flag):
    return args[args.index(flag) + 1]


def _spans(chunks):
    return [(c.start, c.end, c.first_segment) for c in chunks]


# --- chunk_plan ------------------------------------------------------------------------------------------


def test_exact_multiple_gives_equal_chunks():
    """24 s in 12 s chunks of 6 s segments: two chunks, the second starting at segment 2."""
    assert _spans(chunk_plan(duration=24.0, policy=TWELVE, segment_seconds=6)) == [(0, 12, 0), (12, 24.0, 2)]


def test_chunk_length_is_rounded_to_whole_segments():
    """A 10 s chunk length with 6 s segments becomes 12 s, so every boundary is a segment boundary."""
    plan = chunk_plan(duration=30.0, policy=ChunkPolicy(0, 10), segment_seconds=6)
    assert _spans(plan) == [(0, 12, 0), (12, 24, 2), (24, 30.0, 4)]


def test_tail_shorter_than_a_segment_joins_the_previous_chunk():
    """24.5 s: the 0.5 s tail is not a chunk of its own; the last chunk runs 12 → 24.5."""
    assert _spans(chunk_plan(duration=24.5, policy=TWELVE, segment_seconds=6)) == [(0, 12, 0), (12, 24.5, 2)]


def test_tail_of_a_segment_or_more_stays_a_chunk():
    """31 s: the 7 s remainder is at least one segment, so it is a third (shorter) chunk."""
    assert _spans(chunk_plan(duration=31.0, policy=TWELVE, segment_seconds=6))[-1] == (24, 31.0, 4)


def test_short_source_is_one_chunk():
    """Sources shorter than one chunk (or than one segment) are a single chunk covering everything."""
    assert _spans(chunk_plan(duration=11.9, policy=TWELVE, segment_seconds=6)) == [(0, 11.9, 0)]
    assert _spans(chunk_plan(duration=2.0, policy=TWELVE, segment_seconds=6)) == [(0, 2.0, 0)]


def test_real_policy_on_an_hour():
    """One hour with the shipped policy: twelve 300 s chunks, each starting 50 segments after the last."""
    plan = chunk_plan(duration=3600.0, policy=CHUNKING, segment_seconds=HLS_WEB.segment_seconds)
    assert len(plan) == 12 and plan[5] == Chunk(5, 1500, 1800, 250) and plan[-1].end == 3600.0


def test_only_long_video_is_chunked(make_probe):
    """Chunking starts above min_source_seconds and never applies to audio-only sources."""
    assert should_chunk(probe=make_probe(duration=1201.0), policy=CHUNKING)
    assert not should_chunk(probe=make_probe(duration=1200.0), policy=CHUNKING)
    assert not should_chunk(probe=make_probe(duration=7200.0, has_video=False), policy=CHUNKING)


# --- demuxed variants ------------------------------------------------------------------------------------


def test_audio_renditions_one_per_bitrate(make_probe):
    """A 1080p plan's audio rates 128k/96k/64k become three renditions; 64k is named after the audio rung."""
    variants = plan_variants(HLS_WEB, make_probe())
    assert [(a.name, a.audio_bitrate) for a in audio_renditions(variants)] == [
        ("audio_128k", 128_000),
        ("audio_96k", 96_000),
        ("audio", 64_000),
    ]
    assert all(not v.has_audio and v.has_video for v in video_only(variants))


# --- commands ----------------------------------------------------------------------------------------------


def _chunk_args(make_probe, duration=30.0):
    probe = make_probe(width=640, height=360, duration=duration)
    return chunk_commands(source=SOURCE, probe=probe, profile=HLS_WEB, work_dir=WORK, policy=TWELVE)


def test_chunk_seeks_on_the_input_side_for_its_length(make_probe):
    """A middle chunk seeks to its start before -i (frame-accurate, no decoding from 0) and reads 12 s."""
    _chunk, args = _chunk_args(make_probe)[1]
    assert args.index("-ss") < args.index("-i") and args.index("-t") < args.index("-i")
    assert (_value(args, "-ss"), _value(args, "-t")) == ("12.000", "12.000")


def test_chunk_continues_numbering_and_timeline(make_probe):
    """Segments numbered from the chunk's first segment; timestamps shifted back onto the source's timeline."""
    _chunk, args = _chunk_args(make_probe)[1]
    assert _value(args, "-start_number") == "2"
    assert _value(args, "-output_ts_offset") == "12.000"
    assert _value(args, "-avoid_negative_ts") == "disabled"
    assert _value(args, "-hls_segment_options") == "movflags=+frag_discont"
    assert _value(args, "-hls_segment_filename") == "/work/chunks/chunk_001/%v/seg_%05d.m4s"


def test_chunk_keyframes_at_the_same_instants(make_probe):
    """The same time-based forced keyframes as the one-process run (a chunk starts on a GOP boundary)."""
    _chunk, args = _chunk_args(make_probe)[1]
    assert _value(args, "-force_key_frames") == "expr:gte(t,n_forced*2)" and _value(args, "-g") == "50"


def test_chunk_is_video_only(make_probe):
    """No audio in a chunk: no audio encoder, no audio filter, video-only variants in the stream map."""
    _chunk, args = _chunk_args(make_probe)[1]
    assert "-c:a" not in args and "0:a" not in _value(args, "-filter_complex")
    assert _value(args, "-var_stream_map") == "v:0,name:360p v:1,name:234p"


def test_first_chunk_does_not_seek_and_last_runs_to_the_end(make_probe):
    """Chunk 0 has no -ss, offset or start number; the last chunk has no -t (the source's end is the end)."""
    commands = _chunk_args(make_probe)
    first, last = commands[0][1], commands[-1][1]
    assert "-ss" not in first and "-output_ts_offset" not in first and "-start_number" not in first
    assert _value(first, "-t") == "12.000"
    assert _value(last, "-ss") == "24.000" and "-t" not in last


def test_slice_must_start_on_a_keyframe(make_probe):
    """A slice starting between two forced keyframes would break GOP alignment: refused."""
    with pytest.raises(ValueError, match="keyframe"):
        hls_ladder_command(profile=HLS_WEB, probe=make_probe(), source=SOURCE, out_dir=OUT, start=3.0)


def test_audio_is_one_command_for_the_whole_source(make_probe):
    """The audio renditions in one process, whole source (no seek), no video, on the same timeline."""
    args = audio_command(source=SOURCE, probe=make_probe(width=640, height=360), profile=HLS_WEB, out_dir=OUT)
    assert "-ss" not in args and "-t" not in args and "-c:v" not in args
    assert _value(args, "-var_stream_map") == "a:0,name:audio_96k a:1,name:audio"
    assert _value(args, "-b:a:0") == "96000" and _value(args, "-avoid_negative_ts") == "disabled"
    assert audio_command(source=SOURCE, probe=make_probe(has_audio=False), profile=HLS_WEB, out_dir=OUT) is None


def test_audio_filters_come_before_the_resampler(make_probe):
    """Extra audio filters (e.g. loudnorm, which outputs 192 kHz) run before aresample to the profile's rate."""
    filters = [("loudnorm", {"I": "-16", "linear": "true"})]
    args = audio_command(source=SOURCE, probe=make_probe(), profile=HLS_WEB, out_dir=OUT, audio_filters=filters)
    graph = _value(args, "-filter_complex")
    assert graph.index("loudnorm=I=-16:linear=true") < graph.index("aresample=48000")


# --- join_media_playlists --------------------------------------------------------------------------------

CHUNK_0 = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init_0.mp4"
#EXTINF:6.000000,
seg_00000.m4s
#EXTINF:6.000000,
seg_00001.m4s
#EXT-X-ENDLIST
"""
CHUNK_1 = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:7
#EXT-X-MEDIA-SEQUENCE:2
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init_0.mp4"
#EXTINF:6.000000,
seg_00002.m4s
#EXTINF:0.520000,
seg_00003.m4s
#EXT-X-ENDLIST
"""


def test_join_keeps_one_header_one_map_and_one_endlist():
    """Two chunk playlists (as ffmpeg wrote them) become one: all segments in order, headers once."""
    joined = join_media_playlists([CHUNK_0, CHUNK_1])
    assert joined.count("#EXTM3U") == joined.count("#EXT-X-MAP") == joined.count("#EXT-X-ENDLIST") == 1
    assert "#EXT-X-TARGETDURATION:7" in joined and "#EXT-X-INDEPENDENT-SEGMENTS" in joined
    playlist = m3u8.loads(joined)
    assert [(s.uri, s.duration) for s in playlist.segments] == [
        ("seg_00000.m4s", 6.0),
        ("seg_00001.m4s", 6.0),
        ("seg_00002.m4s", 6.0),
        ("seg_00003.m4s", 0.52),
    ]
    assert playlist.media_sequence == 0 and playlist.playlist_type == "vod" and playlist.is_endlist


def test_join_refuses_a_gap_in_segment_numbers():
    """A chunk that does not start where the previous one ended (wrong -start_number) is refused."""
    with pytest.raises(ValueError, match="expected 2"):
        join_media_playlists([CHUNK_0, CHUNK_1.replace("MEDIA-SEQUENCE:2", "MEDIA-SEQUENCE:0")])


def test_join_refuses_chunks_with_different_init_segments(tmp_path):
    """Chunks whose init segments differ (another encoder build) cannot share one EXT-X-MAP: refused."""
    chunks = [Chunk(0, 0, 12, 0), Chunk(1, 12, 24.52, 2)]
    for chunk, text, init in zip(chunks, (CHUNK_0, CHUNK_1), (b"avcC-A", b"avcC-B"), strict=True):
        folder = chunked_ladder.chunk_dir(tmp_path, chunk) / "180p"
        folder.mkdir(parents=True)
        (folder / PLAYLIST_NAME).write_text(text)
        (folder / "init_0.mp4").write_bytes(init)
    with pytest.raises(EncodeError, match="180p: chunk 1"):
        chunked_ladder.join_chunks(
            chunks=chunks, variants=[Variant("180p", 320, 180, 300_000, 0)], work_dir=tmp_path, out_dir=tmp_path
        )


# --- master playlist -------------------------------------------------------------------------------------


def _stats(variant, peak, codecs):
    return master_playlist.VariantStats(variant, peak, peak // 2, codecs, 25.0)


def test_master_names_audio_groups_and_video_variants_use_them():
    """EXT-X-MEDIA lines follow the header; each video variant gets AUDIO= of its rate; audio-only does not."""
    video = _stats(Variant("180p", 320, 180, 300_000, 96_000), 500_000, "avc1.64000d,mp4a.40.2")
    audio_only = _stats(Variant("audio", 0, 0, 0, 64_000), 70_000, "mp4a.40.2")
    audio_96 = _stats(Variant("audio_96k", 0, 0, 0, 96_000), 100_000, "mp4a.40.2")
    text = chunked_ladder.with_audio_groups(
        master_playlist.master_playlist([video, audio_only]),
        stats=[video, audio_only],
        audio=[audio_96, audio_only],
        channels=2,
    )
    lines = text.splitlines()
    assert lines[3] == (
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac-96k",NAME="AAC 96k",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",'
        'URI="audio_96k/index.m3u8"'
    )
    assert lines[4].startswith('#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac-64k"')
    stream_inf = [line for line in lines if line.startswith("#EXT-X-STREAM-INF")]
    assert stream_inf[0].endswith(',AUDIO="aac-96k"') and "AUDIO=" not in stream_inf[1]


# --- running ---------------------------------------------------------------------------------------------


def test_first_failure_stops_the_rest_and_is_raised():
    """One job failing cancels the others (they see it at their next progress report); its error is raised."""
    progress = chunked_ladder._Progress({"a": 1.0, "b": 1.0})
    report = progress.reporter("b")

    def fail():
        raise EncodeError("坏了", "disk full")

    def wait_for_cancel():
        while report(0.5):
            pass
        raise Cancelled()

    with pytest.raises(EncodeError, match="disk full"):
        chunked_ladder._run_all([fail, wait_for_cancel], workers=2, progress=progress, on_progress=None)


def test_cancel_from_progress_callback_raises_cancelled():
    """The job engine's progress callback returning False stops every job and raises Cancelled."""
    progress = chunked_ladder._Progress({"a": 1.0})
    report = progress.reporter("a")

    def job():
        while report(0.25):
            pass
        raise Cancelled()

    seen = []

    def engine_says_stop(fraction: float) -> bool:
        seen.append(fraction)
        return False

    with pytest.raises(Cancelled):
        chunked_ladder._run_all([job], workers=1, progress=progress, on_progress=engine_says_stop)
    assert len(seen) == 1


def test_chunks_can_run_elsewhere(make_probe):
    """A caller-supplied run_chunk gets each chunk with its complete command; its failure is what is raised."""
    calls = []

    def remote(chunk, args):
        calls.append((chunk.index, args[args.index("-i") + 1]))
        raise RuntimeError("worker lost")

    probe = make_probe(width=320, height=180, duration=30.0, has_audio=False)
    with pytest.raises(RuntimeError, match="worker lost"):
        encode_chunked(source=SOURCE, probe=probe, profile=SMALL, out_dir=OUT, policy=TWELVE, run_chunk=remote)
    assert calls and all(source == str(SOURCE) for _index, source in calls)


def test_speedup_model():
    """Amdahl-style: 4 chunks on 2 workers take two chunk-times plus the join; audio hides behind them."""
    assert chunked_speedup(workers=2, chunks=4, chunk_cost=10, join_cost=1, audio_cost=2) == pytest.approx(42 / 21)
    assert chunked_speedup(workers=4, chunks=4, chunk_cost=10, join_cost=0, audio_cost=2) == pytest.approx(4.2)
    # Audio longer than the chunk phase bounds the gain.
    assert chunked_speedup(workers=8, chunks=4, chunk_cost=1, join_cost=0, audio_cost=5) == pytest.approx(9 / 5)


# --- one real comparison ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ladders(tmp_path_factory):
    """A 24 s 320×180 clip with audio, encoded once in one process and once in two 12 s chunks."""
    root = tmp_path_factory.mktemp("chunking")
    source = make_clip(root / "source.mp4", size="320x180", seconds=24, audio=True)
    probe = probe_file(source)
    single, chunked = root / "single", root / "chunked"
    args = hls_ladder_command(profile=SMALL, probe=probe, source=source, out_dir=single)
    subprocess.run([settings.FFMPEG_BINARY, *args], check=True, capture_output=True)
    reported = []
    chunks = encode_chunked(
        source=source, probe=probe, profile=SMALL, out_dir=chunked, policy=TWELVE, on_progress=reported.append
    )
    variants = plan_variants(SMALL, probe)
    stats = chunked_ladder.write_master(chunked, variants, frame_rate=25.0, channels=2, iframes=True)
    return {"single": single, "chunked": chunked, "chunks": chunks, "stats": stats, "reported": reported}


def _playlist(folder: Path) -> m3u8.M3U8:
    return m3u8.loads((folder / PLAYLIST_NAME).read_text())


def _segment_starts(folder: Path) -> list[tuple[float, bool]]:
    """(tfdt in seconds, is a keyframe) of every segment's first video sample, read from the fMP4 boxes."""
    playlist = _playlist(folder)
    track = iframes.video_track((folder / playlist.segment_map[0].uri).read_bytes())
    starts = []
    for segment in playlist.segments:
        first = iframes.index_segment(folder / segment.uri, uri=segment.uri, track=track).fragments[0].samples[0]
        starts.append((first.decode_time / track.timescale, first.sync))
    return starts


def _ffprobe(*args: str) -> dict:
    done = subprocess.run(
        [settings.FFPROBE_BINARY, "-v", "error", "-of", "json", *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_real_chunked_run_joins_into_one_playlist_per_variant(ladders):
    """Two chunks were encoded; each variant folder holds one init, every segment, and no chunk folders remain."""
    assert len(ladders["chunks"]) == 2
    for name in ("180p", "90p"):
        folder = ladders["chunked"] / name
        assert [p.name for p in folder.glob("init*.mp4")] == [_playlist(folder).segment_map[0].uri]
        assert len(list(folder.glob("seg_*.m4s"))) == len(_playlist(folder).segments) == 4
    assert not (ladders["chunked"] / chunked_ladder.CHUNKS_DIR).exists()
    reported = ladders["reported"]
    assert reported == sorted(reported) and all(0 <= fraction <= 1 for fraction in reported)


def test_real_chunked_duration_and_segments_match_one_process(ladders):
    """Per video variant: same segment count, total duration within one frame, segment by segment."""
    for name in ("180p", "90p"):
        single, chunked = _playlist(ladders["single"] / name), _playlist(ladders["chunked"] / name)
        assert len(single.segments) == len(chunked.segments)
        total = sum(s.duration for s in single.segments) - sum(s.duration for s in chunked.segments)
        assert abs(total) <= FRAME


def test_real_segments_start_on_keyframes_at_the_same_decode_times(ladders):
    """Every segment's first video sample is a keyframe whose tfdt equals the one-process run's."""
    for name in ("180p", "90p"):
        single, chunked = _segment_starts(ladders["single"] / name), _segment_starts(ladders["chunked"] / name)
        assert chunked == single == [(0, True), (6, True), (12, True), (18, True)]


def test_real_chunked_ladder_gets_iframe_streams_that_decode_alone(ladders, tmp_path):
    """The joined (demuxed-audio) ladder names an I-frame stream per video variant; each of its 12 entries,
    fetched alone with its init range, decodes to one frame at 2-s steps, the variant's own picture; the whole
    package verifies with I-frames expected."""
    master = m3u8.loads((ladders["chunked"] / master_playlist.MASTER_NAME).read_text())
    assert sorted(item.uri for item in master.iframe_playlists) == ["180p/iframes.m3u8", "90p/iframes.m3u8"]
    folder = ladders["chunked"] / "90p"
    pictures = variant_frames(folder, tmp_path)
    reference = {round(frame.seconds, 3): frame.md5 for frame in pictures}
    entries = decode_each_entry(folder, tmp_path)
    assert [round(start, 3) for start, _frames in entries] == [2.0 * n for n in range(12)]
    for start, frames in entries:
        assert len(frames) == 1 and abs(frames[0].seconds - (start + pictures[0].seconds)) <= FRAME + 1e-6
        assert reference[round(frames[0].seconds, 3)] == frames[0].md5
    verify_hls(master_path=ladders["chunked"] / master_playlist.MASTER_NAME, expect_duration=24.0, expect_iframes=True)


def test_real_joined_playlist_decodes_every_frame(ladders):
    """ffmpeg reads each joined variant playlist straight through: as many frames as the one-process run."""
    for name in ("180p", "90p"):
        counts = []
        for which in ("single", "chunked"):
            data = _ffprobe(
                "-count_frames",
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=nb_read_frames",
                str(ladders[which] / name / PLAYLIST_NAME),
            )
            counts.append(int(data["streams"][0]["nb_read_frames"]))
        assert counts[0] == counts[1] == 600


def test_real_audio_matches_and_stays_in_sync(ladders):
    """Audio of each rate lasts as long as the one-process run's (±1 AAC frame), and starts with the video."""
    single_audio = sum(s.duration for s in _playlist(ladders["single"] / "audio").segments)
    for name in ("audio", "audio_96k"):
        chunked_audio = sum(s.duration for s in _playlist(ladders["chunked"] / name).segments)
        assert abs(chunked_audio - single_audio) <= AAC_FRAME
    # A/V offset of the first decoded frames: the one-process run starts both at +0.08 s (its B-frame
    # shift), the chunked one at 0; what must not change is audio against video (edit lists are in ms).
    offsets = [
        _first_frame_time(playlist, "a:0") - _first_frame_time(playlist, "v:0")
        for playlist in (ladders["single"] / "180p" / PLAYLIST_NAME, ladders["chunked"] / master_playlist.MASTER_NAME)
    ]
    assert offsets[1] == pytest.approx(offsets[0], abs=0.001)


def _first_frame_time(playlist: Path, stream: str) -> float:
    frames = _ffprobe(
        "-select_streams", stream, "-show_entries", "frame=pts_time", "-read_intervals", "%+0.2", str(playlist)
    )
    return float(frames["frames"][0]["pts_time"])


def test_real_master_declares_demuxed_audio(ladders):
    """The master lists the audio renditions, video variants point at their group, bandwidth includes audio."""
    text = (ladders["chunked"] / master_playlist.MASTER_NAME).read_text()
    assert text.count("#EXT-X-MEDIA:TYPE=AUDIO") == 2
    playlist = m3u8.loads(text)
    by_name = {p.uri.split("/")[0]: p for p in playlist.playlists}
    assert by_name["180p"].stream_info.audio == "aac-96k" and by_name["90p"].stream_info.audio == "aac-64k"
    assert "mp4a.40.2" in by_name["180p"].stream_info.codecs and by_name["audio"].stream_info.audio is None
    audio_peak = master_playlist.measure_variant(
        ladders["chunked"] / "audio_96k", Variant("audio_96k", 0, 0, 0, 96_000), frame_rate=25.0
    ).peak_bandwidth
    assert by_name["180p"].stream_info.bandwidth > audio_peak
