"""Several audio tracks (issue 15, item 13): the main track is the one flagged default (else a Chinese one, else the
first) and feeds every output; the others are offered as alternative HLS audio renditions with names and languages,
verified like the rest, and the editor is told which was chosen."""

import json
import subprocess
from pathlib import Path

import m3u8
import pytest

from media_pipeline.delivery.playlists import rewrite_master
from media_pipeline.errors import VerifyError
from media_pipeline.ffmpeg.commands import hls_ladder_command
from media_pipeline.ffmpeg.loudness import loudness_measure, loudness_measure_command
from media_pipeline.ffmpeg.probe import main_audio_index, parse_probe, probe_upload
from media_pipeline.jobs.verify import verify_output
from media_pipeline.models import MediaAsset
from media_pipeline.selectors import asset_notices
from media_pipeline.steps import audio_tracks, web_hls
from media_pipeline.steps.audio_edition import audio_edition_command
from media_pipeline.steps.contract import StepContext
from media_pipeline.steps.profiles import AUDIO_M4A, HLS_WEB, LOUDNESS_MOBILE, TV_1080P
from media_pipeline.steps.tv import tv_mp4_command
from media_pipeline.synthetic.media import CORPUS_SUFFIXES, make_corpus_clip

# Tones of the corpus kind "audio_languages": English 440 Hz, Chinese 660 Hz (flagged default), Cantonese 880 Hz.
TONES = {"英语": 440, "中文": 660, "粤语原声": 880}


def _streams(*tracks: dict) -> dict:
    """ffprobe's JSON for a 2 s video with these audio streams ({"language", "default", "title", "channels"})."""
    audio = [
        {
            "codec_type": "audio",
            "codec_name": "aac",
            "channels": track.get("channels", 2),
            "sample_rate": "48000",
            "disposition": {"default": int(track.get("default", 0))},
            "tags": {key: track[key] for key in ("language", "title") if key in track},
        }
        for track in tracks
    ]
    video = {"codec_type": "video", "codec_name": "h264", "width": 640, "height": 360, "avg_frame_rate": "25/1"}
    return {"format": {"format_name": "matroska,webm", "duration": "2.0"}, "streams": [video, *audio]}


@pytest.fixture(scope="module")
def languages(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("audio_tracks")
    return make_corpus_clip("audio_languages", folder / f"languages{CORPUS_SUFFIXES['audio_languages']}")


# --- Which track is the main one ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tracks", "main"),
    [
        ([{"language": "eng"}, {"language": "chi", "default": 1}], 1),  # the default flag, though not first
        ([{"language": "eng", "default": 1}, {"language": "chi"}], 0),  # the flag beats the language
        ([{"language": "eng"}, {"language": "cmn"}], 1),  # nothing flagged: the Chinese track
        ([{"language": "eng", "default": 1}, {"language": "zho", "default": 1}], 1),  # Matroska flags every track
        ([{"language": "eng"}, {"language": "fre"}], 0),  # nothing to go by: the first
        ([{}], 0),
        ([], 0),
    ],
)
def test_main_track_is_the_default_then_chinese_then_first(tracks, main):
    assert main_audio_index(tracks) == main


def test_probe_describes_the_main_track_not_the_first():
    """Channels come from the chosen track; every track is listed with its language, title and flag."""
    probe = parse_probe(_streams({"language": "eng", "channels": 6}, {"language": "chi", "default": 1, "channels": 2}))
    assert (probe.main_audio, probe.audio_map, probe.audio_channels, probe.audio_streams) == (1, "a:1", 2, 2)
    assert [t["language"] for t in probe.audio_tracks] == ["eng", "chi"]


def test_an_older_stored_probe_still_loads_with_the_first_track():
    probe = parse_probe(_streams({"language": "eng"}))
    stored = {key: value for key, value in probe.to_dict().items() if key not in {"audio_tracks", "main_audio"}}
    assert type(probe)(**stored).audio_map == "a:0"


# --- Every output takes the main track -----------------------------------------------------------------------


def test_every_command_maps_the_main_track(make_probe):
    """Ladder, TV copy, audio edition and the loudness measurement all read a:1 when it is the main track."""
    probe = make_probe(main_audio=1, audio_streams=2)
    source, out = Path("/in/master.mkv"), Path("/out")
    ladder = hls_ladder_command(profile=HLS_WEB, probe=probe, source=source, out_dir=out)
    tv = tv_mp4_command(profile=TV_1080P, probe=probe, source=source, out_path=out / "tv.mp4", loudness=None)
    edition = audio_edition_command(
        profile=AUDIO_M4A, probe=probe, source=source, out_path=out / "a.m4a", loudness=None
    )
    for args in (ladder, tv, edition):
        graph = args[args.index("-filter_complex") + 1]
        assert "[0:a:1]" in graph and "[0:a:0]" not in graph
    measure = loudness_measure_command(source=source, target=LOUDNESS_MOBILE, channels=2, track=probe.audio_map)
    assert "[0:a:1]" in measure[measure.index("-filter_complex") + 1]


# --- Names, languages and the master playlist ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("track", "expected"),
    [
        ({"language": "cmn"}, ("cmn", "普通话")),
        ({"language": "chi"}, ("zh", "中文")),
        ({"language": "yue"}, ("yue", "粤语")),
        ({"language": "eng"}, ("en", "英语")),
        ({"language": "eng", "title": "导演评论"}, ("en", "导演评论")),  # the title wins as the name
        ({"language": "und"}, ("", "音轨2")),  # no language: numbered, no LANGUAGE attribute
        ({}, ("", "音轨2")),
        ({"language": "tha"}, ("tha", "音轨2")),  # an unlisted code is kept as its tag, the name numbered
    ],
)
def test_track_names_and_rfc5646_languages(track, expected):
    assert audio_tracks.language_and_name(track, 1) == expected


def test_two_tracks_of_one_language_get_different_names():
    probe = parse_probe(_streams({"language": "chi", "default": 1}, {"language": "eng"}, {"language": "eng"}))
    assert [t.name for t in audio_tracks.plan_tracks(probe)] == ["中文", "英语", "英语（音轨3）"]


def test_one_track_gets_no_audio_group():
    assert audio_tracks.plan_tracks(parse_probe(_streams({"language": "chi"}))) == []


MUXED_MASTER = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=1000,AVERAGE-BANDWIDTH=800,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360
360p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=70000,AVERAGE-BANDWIDTH=65000,CODECS="mp4a.40.2"
audio/index.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=5000,CODECS="avc1.64001e",RESOLUTION=640x360,URI="360p/iframes.m3u8"
"""


def test_muxed_master_gets_one_audio_group_main_without_uri():
    """The main track is the group's default with no URI (its audio is in each variant); each alternative has
    its own playlist; every variant with audio names the group and counts the alternative in BANDWIDTH."""
    probe = parse_probe(_streams({"language": "eng"}, {"language": "chi", "default": 1}, {"language": "yue"}))
    text = audio_tracks.with_muxed_alternatives(
        MUXED_MASTER, tracks=audio_tracks.plan_tracks(probe), alt_peak=130_000, channels=2
    )
    master = m3u8.loads(text)
    media = [(m.type, m.group_id, m.name, m.language, m.default, m.uri) for m in master.media]
    assert media == [
        ("AUDIO", "audio", "中文", "zh", "YES", None),
        ("AUDIO", "audio", "英语", "en", "NO", "audio_track_1/index.m3u8"),
        ("AUDIO", "audio", "粤语", "yue", "NO", "audio_track_3/index.m3u8"),
    ]
    assert [(p.stream_info.audio, p.stream_info.bandwidth) for p in master.playlists] == [
        ("audio", 131_000),
        ("audio", 200_000),
    ]
    assert master.iframe_playlists[0].iframe_stream_info.bandwidth == 5000  # untouched


def test_delivery_rewrites_the_alternatives_uris_and_leaves_the_main_one_alone():
    """Access is checked on every audio playlist: the alternatives' URIs point at our variant view."""
    probe = parse_probe(_streams({"language": "eng"}, {"language": "chi", "default": 1}))
    text = audio_tracks.with_muxed_alternatives(
        MUXED_MASTER, tracks=audio_tracks.plan_tracks(probe), alt_peak=1, channels=2
    )
    delivered = m3u8.loads(rewrite_master(text, lambda folder: f"/v/{folder}?t=x"))
    assert [m.uri for m in delivered.media] == [None, "/v/audio_track_1?t=x"]


def test_an_alternative_is_padded_or_cut_to_the_main_tracks_span():
    """A dub that ends early (or runs late) comes out as long as the main track, so the ladder's span check holds;
    its loudness chain comes first, from its own measurement."""
    probe = parse_probe(_streams({"language": "chi", "default": 1}, {"language": "eng", "channels": 1}))
    [alternative] = audio_tracks.alternatives(probe)
    filters = audio_tracks.alternative_filters(profile=HLS_WEB, probe=probe, track=alternative, measured=None)
    assert filters[0] == ("aformat", {"channel_layouts": "mono"})  # its own channels, not the main track's
    assert filters[-2:] == [("apad", {"whole_dur": "2.000"}), ("atrim", {"duration": "2.000"})]


# --- The whole ladder, with real ffmpeg ----------------------------------------------------------------------


def _tone_hz(playlist: Path) -> float:
    """The first channel's frequency from astats' zero-crossing rate (2 crossings a cycle) at 48 kHz."""
    args = ["ffmpeg", "-nostats", "-i", str(playlist), "-map", "0:a:0", "-af", "astats=measure_overall=none"]
    log = subprocess.run([*args, "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    rate = next(float(line.rsplit(" ", 1)[1]) for line in log.splitlines() if "Zero crossings rate" in line)
    return rate * 48_000 / 2


def _first_audio_times(playlist: Path, scratch: Path) -> tuple[float, float]:
    """The first audio packet's time as stored (tfdt, what hls.js reads) and as presented (after the edit list)."""
    parsed = m3u8.load(str(playlist))
    first = parsed.segments[0]
    joined = scratch / f"{playlist.parent.name}.mp4"
    joined.write_bytes(
        (playlist.parent / first.init_section.uri).read_bytes() + (playlist.parent / first.uri).read_bytes()
    )
    times = []
    for extra in (["-ignore_editlist", "1"], []):
        args = ["ffprobe", "-v", "error", *extra, "-select_streams", "a:0", "-show_entries", "packet=pts_time"]
        out = subprocess.run([*args, "-of", "json", str(joined)], capture_output=True, text=True, check=True).stdout
        times.append(float(json.loads(out)["packets"][0]["pts_time"]))
    return times[0], times[1]


@pytest.mark.parametrize("chunked", [False, True], ids=["muxed", "chunked"])
def test_ladder_offers_the_other_tracks_and_verifies_them(languages, tmp_path, settings, chunked):
    """An MKV with English, Chinese (flagged default, second) and Cantonese: the rungs carry the Chinese track, the
    master offers English and Cantonese as named alternatives, each at the target loudness (verify_output measures
    them) and timed exactly like the main audio; the output lists them for the checks."""
    if chunked:
        settings.MEDIA_CHUNK_MIN_SECONDS, settings.MEDIA_CHUNK_SECONDS = 1, 6
    probe = probe_upload(languages)
    loudness = loudness_measure(source=languages, probe=probe, target=LOUDNESS_MOBILE)
    ctx = StepContext(
        source=languages, probe=probe, out_dir=tmp_path / "out", work_dir=tmp_path / "w", loudness=loudness
    )
    [output] = web_hls.produce(ctx, HLS_WEB)
    verify_output(output=output, ctx=ctx)
    assert output.meta["chunked"] is chunked
    master_path = ctx.out_dir / output.path
    master = m3u8.loads(master_path.read_text())
    audio = [m for m in master.media if m.type == "AUDIO"]
    assert [(m.name, m.language, m.default) for m in audio] == [
        ("中文", "zh", "YES"),
        ("英语", "en", "NO"),
        ("粤语原声", "yue", "NO"),
    ]
    assert all(p.stream_info.audio for p in master.playlists if p.stream_info.resolution)
    assert [t["name"] for t in output.meta["audio_tracks"]] == ["英语", "粤语原声"]
    main_uri = audio[0].uri or next(p.uri for p in master.playlists if p.stream_info.resolution)
    for media in audio:
        playlist = master_path.parent / (media.uri or main_uri)
        assert _tone_hz(playlist) == pytest.approx(TONES[media.name], rel=0.06), media.name
    main = _first_audio_times(master_path.parent / main_uri, tmp_path)
    for media in audio[1:]:
        stored, shown = _first_audio_times(master_path.parent / media.uri, tmp_path)
        assert stored == pytest.approx(main[0], abs=0.001)
        assert shown == pytest.approx(main[1], abs=0.005)  # the 44.1 kHz track's priming differs by 2 ms
    # The check fails when an alternative the output lists is not there.
    (master_path.parent / output.meta["audio_tracks"][0]["uri"]).unlink()
    with pytest.raises(VerifyError):
        verify_output(output=output, ctx=ctx)


@pytest.mark.django_db
def test_the_editor_is_told_which_track_plays_and_which_are_offered(languages):
    """asset_notices (the item's edit page) names the chosen track and the alternatives, in Chinese."""
    asset = MediaAsset.objects.create(file="uploads/x.mkv", kind="video", probe=probe_upload(languages).to_dict())
    [notice] = asset_notices(asset=asset)
    assert "3 条音轨" in notice and "“中文”" in notice and "英语、粤语原声" in notice
    assert "/" not in notice


@pytest.mark.django_db
def test_no_notice_for_a_single_track(languages):
    probe = parse_probe(_streams({"language": "chi"}))
    asset = MediaAsset.objects.create(file="uploads/x.mp4", kind="video", probe=probe.to_dict())
    assert asset_notices(asset=asset) == []
