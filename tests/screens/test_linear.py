"""The linear channel (issue 18): the live playlist's arithmetic from the wall clock (sequence numbers, discontinuity
sequence, program date-times, the sliding window), the views (master, media playlist, XMLTV guide, M3U), and a
real ffmpeg reading the live playlist from the live server across programme boundaries."""

import io
import itertools
import re
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import m3u8
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from lxml import etree

from library.models import LibraryItem
from media_pipeline.ffmpeg.probe import probe_file
from media_pipeline.models import MediaAsset, Rendition, TranscodeJob
from media_pipeline.steps.contract import StepContext
from media_pipeline.steps.profiles import TV_1080P
from media_pipeline.steps.tv import produce
from media_pipeline.synthetic.media import make_clip
from screens.linear import playlist
from screens.linear.guide import GuideChannel, m3u, xmltv
from screens.linear.playlist import EPOCH, MICROS, Loop, Programme
from screens.models import SCHEDULE_TIME_ZONE
from tests.factories import MediaAssetFactory, VideoFactory

from .conftest import channel

S = MICROS


def _programme(key, title, *seconds):
    return Programme(
        key, title, f"{key}/init.mp4", tuple((round(s * S), f"{key}/seg{i}.m4s") for i, s in enumerate(seconds))
    )


# A: 6 + 6 + 3 s, B: 6 + 2.5 s, C: 4 s → 6 segments, 27.5 s a loop, longest segment 6 s.
LOOP = Loop((_programme(1, "甲", 6, 6, 3), _programme(2, "乙", 6, 2.5), _programme(3, "丙", 4)))
ORDER = [name for programme in LOOP.programmes for _micros, name in programme.segments]
DURATIONS = [micros for programme in LOOP.programmes for micros, _name in programme.segments]


def _segment_ends(loops: int):
    """Every moment a segment finishes airing over ``loops`` repetitions, walked one by one (not by the formula)."""
    moment, ends = 0, []
    for _turn in range(loops):
        for micros in DURATIONS:
            moment += micros
            ends.append(moment)
    return ends


def _per_segment_dsn(window):
    """{media sequence: discontinuity sequence number} of each segment of a window, as a player counts them."""
    dsn, numbers = window.discontinuity_sequence, {}
    for entry in window.entries:
        dsn += entry.discontinuity
        numbers[entry.sequence] = dsn
    return numbers


# --- the arithmetic -----------------------------------------------------------------------------------------------


def test_each_sequence_number_names_the_same_segment_in_every_window_across_item_boundaries_and_the_loop_wrap():
    """Stepping the clock segment by segment over three loops: the window slides by one each time once full, and a
    media sequence number always names the loop's segment at (number mod 6), whichever window lists it."""
    previous = None
    for end in _segment_ends(3):
        live = playlist.window(LOOP, EPOCH + timedelta(microseconds=end))
        assert [entry.name for entry in live.entries] == [ORDER[e.sequence % 6] for e in live.entries]
        assert [e.sequence for e in live.entries] == list(
            range(live.media_sequence, live.media_sequence + len(live.entries))
        )
        if previous is not None:
            assert live.entries[-1].sequence == previous.entries[-1].sequence + 1
            assert live.media_sequence >= previous.media_sequence
        previous = live
    assert previous.entries[-1].sequence == 17  # 18 segments aired, numbered from 0


def test_discontinuity_sequence_increments_at_each_programme_and_agrees_between_windows():
    """A player's discontinuity number of a segment is the same in every window holding it (RFC 8216 6.2.2); it
    goes up by one exactly where a programme starts, the loop's wrap included (C → A is a new programme too)."""
    seen: dict[int, int] = {}
    for end in _segment_ends(4):
        for sequence, dsn in _per_segment_dsn(playlist.window(LOOP, EPOCH + timedelta(microseconds=end))).items():
            assert seen.setdefault(sequence, dsn) == dsn
    firsts = {0, 3, 5}  # A, B, C start at these loop indices
    for sequence in range(1, max(seen) + 1):
        assert seen[sequence] - seen[sequence - 1] == (1 if sequence % 6 in firsts else 0)
    assert seen[6] == 3  # the wrap after one loop: B, C and A again


def test_window_holds_six_segments_and_three_target_durations_and_ends_at_the_last_aired_segment():
    moment = EPOCH + timedelta(days=100, seconds=13.2)
    live = playlist.window(LOOP, moment)
    assert live.target_duration == 6
    assert len(live.entries) >= 6 and sum(entry.micros for entry in live.entries) >= 3 * 6 * S
    last = live.entries[-1]
    assert last.starts + timedelta(microseconds=last.micros) <= moment  # aired in full
    following = playlist.window(
        LOOP, last.starts + timedelta(microseconds=last.micros + DURATIONS[(last.sequence + 1) % 6])
    )
    assert following.entries[-1].sequence == last.sequence + 1


def test_program_date_time_is_the_wall_clock_moment_the_segment_airs():
    """PDT on the first segment and on each programme start equals the epoch plus every segment before it, in UTC
    (the epoch is midnight in Beijing: 16:00 the day before in UTC)."""
    moment = EPOCH + timedelta(seconds=27.5 * 1000 + 20)
    live = playlist.window(LOOP, moment)
    text = playlist.media_playlist(live, lambda programme, name: "/s/" + name)
    parsed = m3u8.loads(text)
    walked = EPOCH + timedelta(microseconds=sum(DURATIONS[i % 6] for i in range(live.media_sequence)))
    for entry, segment in zip(live.entries, parsed.segments, strict=True):
        assert entry.starts == walked
        if segment.program_date_time is not None:
            assert segment.program_date_time == walked
        walked += timedelta(microseconds=entry.micros)
    assert parsed.segments[0].program_date_time is not None
    assert playlist.program_date_time(EPOCH) == "2025-12-31T16:00:00.000Z"


def test_the_playlist_text_carries_the_sequences_discontinuities_and_maps():
    live = playlist.window(LOOP, EPOCH + timedelta(seconds=27.5 * 7 + 16))
    parsed = m3u8.loads(playlist.media_playlist(live, lambda programme, name: "/s/" + name))
    assert parsed.media_sequence == live.media_sequence
    assert parsed.discontinuity_sequence == live.discontinuity_sequence
    assert parsed.target_duration == 6 and not parsed.is_endlist and parsed.version == 7
    for entry, segment in zip(live.entries, parsed.segments, strict=True):
        assert segment.discontinuity == entry.discontinuity
        assert segment.uri == "/s/" + entry.name
        if entry.starts_programme:
            assert segment.init_section.uri == "/s/" + entry.programme.init
    assert any(segment.discontinuity for segment in parsed.segments)


def test_the_same_moment_gives_the_same_playlist_in_any_time_zone():
    moment = datetime(2026, 12, 7, 9, 30, 12, tzinfo=SCHEDULE_TIME_ZONE)
    url = lambda programme, name: name  # noqa: E731
    assert playlist.media_playlist(playlist.window(LOOP, moment), url) == playlist.media_playlist(
        playlist.window(LOOP, moment.astimezone(UTC)), url
    )
    with pytest.raises(ValueError):
        playlist.window(LOOP, moment.replace(tzinfo=None))


def test_guide_airings_follow_each_other_without_gap_from_the_programme_on_air():
    start = datetime(2026, 12, 7, 8, 0, 3, tzinfo=SCHEDULE_TIME_ZONE)
    rows = playlist.airings(LOOP, start, start + timedelta(minutes=5), limit=1000)
    assert rows[0][1] <= start < rows[0][2]
    for (_p, _begin, stop), (_q, begin, _stop) in itertools.pairwise(rows):
        assert stop == begin
    assert rows[-1][1] < start + timedelta(minutes=5) <= rows[-1][2]
    lengths = {programme.title: stop - begin for programme, begin, stop in rows}
    assert lengths == {"甲": timedelta(seconds=15), "乙": timedelta(seconds=8.5), "丙": timedelta(seconds=4)}
    assert len(playlist.airings(LOOP, start, start + timedelta(days=2), limit=50)) == 50


# --- guide and list (pure) ----------------------------------------------------------------------------------------

# The part of xmltv.dtd (XMLTV project, 0.5) the guide uses, as written there.
XMLTV_DTD = """
<!ELEMENT tv (channel*, programme*)>
<!ATTLIST tv date CDATA #IMPLIED source-info-url CDATA #IMPLIED source-info-name CDATA #IMPLIED
             source-data-url CDATA #IMPLIED generator-info-name CDATA #IMPLIED generator-info-url CDATA #IMPLIED>
<!ELEMENT channel (display-name+, icon*, url*)>
<!ATTLIST channel id CDATA #REQUIRED>
<!ELEMENT display-name (#PCDATA)>
<!ATTLIST display-name lang CDATA #IMPLIED>
<!ELEMENT icon EMPTY>
<!ATTLIST icon src CDATA #REQUIRED width CDATA #IMPLIED height CDATA #IMPLIED>
<!ELEMENT url (#PCDATA)>
<!ELEMENT programme (title+, sub-title*, desc*)>
<!ATTLIST programme start CDATA #REQUIRED stop CDATA #IMPLIED pdc-start CDATA #IMPLIED vps-start CDATA #IMPLIED
                    showview CDATA #IMPLIED videoplus CDATA #IMPLIED channel CDATA #REQUIRED clumpidx CDATA "0/1">
<!ELEMENT title (#PCDATA)>
<!ATTLIST title lang CDATA #IMPLIED>
<!ELEMENT sub-title (#PCDATA)>
<!ATTLIST sub-title lang CDATA #IMPLIED>
<!ELEMENT desc (#PCDATA)>
<!ATTLIST desc lang CDATA #IMPLIED>
"""


def _parse_m3u(text: str) -> list[dict]:
    lines = text.splitlines()
    assert lines[0].startswith("#EXTM3U ")
    rows = []
    for info, url in zip(lines[1::2], lines[2::2], strict=True):
        # As IPTV players read it: quoted attributes after the duration, then the display name after the last '",'.
        assert info.startswith("#EXTINF:-1 ")
        attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', info))
        rows.append(attributes | {"name": info.rsplit('",', 1)[1], "url": url})
    return rows


def test_xmltv_is_valid_by_the_dtd_with_beijing_times_and_chinese_titles():
    start = datetime(2026, 12, 7, 20, 0, tzinfo=SCHEDULE_TIME_ZONE)
    channels = [
        GuideChannel(
            "lighthouse-1",
            "山东党员教育",
            "山东省",
            "https://x/1",
            [("党课 第1讲", start, start + timedelta(minutes=30))],
        ),
        GuideChannel("lighthouse-2", "滨州频道", "滨州市", "https://x/2", []),
    ]
    document = etree.fromstring(xmltv(channels, generator="Lighthouse"))
    assert etree.DTD(io.StringIO(XMLTV_DTD)).validate(document)
    assert [c.get("id") for c in document.iter("channel")] == ["lighthouse-1", "lighthouse-2"]
    [programme] = document.iter("programme")
    assert (programme.get("start"), programme.get("stop")) == ("20261207200000 +0800", "20261207203000 +0800")
    assert programme.findtext("title") == "党课 第1讲" and programme.find("title").get("lang") == "zh"


def test_m3u_names_each_channel_with_its_guide_id_name_group_and_master():
    channels = [GuideChannel("lighthouse-1", '山东,"党员"', "山东省", "https://x/linear/1/master.m3u8", [])]
    text = m3u(channels, guide_url="https://x/guide.xml")
    assert text.splitlines()[0] == '#EXTM3U x-tvg-url="https://x/guide.xml"'
    [row] = _parse_m3u(text)
    assert row["tvg-id"] == "lighthouse-1" and row["group-title"] == "山东省" and row["url"].endswith("master.m3u8")
    assert row["tvg-name"] == "山东,'党员'" and row["name"] == "山东，'党员'"


# --- real items through the TV step, the views, and ffmpeg reading the live channel -----------------------------

# The TV edition as the pipeline makes it, small: 320×180, 1 s segments (its GOP is 1 s), so 2 s clips are two
# segments each and the 6-segment window always spans programme boundaries.
SMALL_TV = replace(
    TV_1080P, width=320, height=180, video_bitrate=400_000, maxrate=400_000, bufsize=200_000, hls_segment_seconds=1.0
)


@pytest.fixture(scope="session")
def tv_editions(tmp_path_factory) -> list[tuple[Path, object]]:
    """Three 2 s clips (different tones) through the real TV step: (output folder, its HLS Output) each."""
    made = []
    for number, tone in enumerate((440, 660, 880)):
        folder = tmp_path_factory.mktemp(f"linear{number}")
        source = make_clip(folder / "source.mp4", size="320x180", seconds=2, tone_hz=tone)
        ctx = StepContext(source=source, probe=probe_file(source), out_dir=folder / "out", work_dir=folder / "work")
        _mp4, hls = produce(ctx, SMALL_TV)
        made.append((ctx.out_dir, hls))
    return made


def _tv_item(unit, edition, **fields):
    """A published item whose asset has the TV edition's HLS copy stored as the pipeline stores it."""
    out_dir, hls = edition
    asset = MediaAssetFactory(state=MediaAsset.State.READY, duration=hls.duration)
    job = TranscodeJob.objects.create(asset=asset, group="tv", state="done")
    prefix = f"renditions/{asset.pk}/{job.pk}/"
    for name in hls.files:
        default_storage.save(prefix + name, ContentFile((out_dir / name).read_bytes()))
    Rendition.objects.create(
        asset=asset,
        job=job,
        profile="tv_1080p_hls",
        kind="hls",
        path=prefix + hls.path,
        width=hls.width,
        height=hls.height,
        bandwidth=hls.bandwidth,
        duration=hls.duration,
        meta=hls.meta,
    )
    return VideoFactory(owning_unit=unit, media_asset=asset, **fields)


@pytest.fixture
def linear_world(unit_tree, local_media, tv_editions):
    shandong, binzhou = unit_tree["shandong"], unit_tree["binzhou"]
    items = [_tv_item(shandong, edition, title=f"党课 第{n}讲") for n, edition in enumerate(tv_editions, start=1)]
    hidden = _tv_item(shandong, tv_editions[0], title="党员专享", access="members")
    province = channel(shandong, name="山东党员教育", screen_type="tv", entries=[*items, hidden, "通知"])
    city = channel(binzhou, name="滨州频道", screen_type="tv", entries=items[:1])
    lobby = channel(shandong, name="大厅横屏", screen_type="landscape", entries=items)
    closed = channel(shandong, name="内部电视", screen_type="tv", entries=items)
    for made in (province, city, lobby):
        made.is_linear = True
        made.save()
    return {"province": province, "city": city, "lobby": lobby, "closed": closed, "units": unit_tree}


def test_master_and_live_playlist_stitch_the_public_items_tv_segments_with_signed_links(client, linear_world):
    province = linear_world["province"]
    response = client.get(f"/linear/{province.pk}/master.m3u8")
    assert response.status_code == 200 and response["Content-Type"] == "application/vnd.apple.mpegurl"
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    master = m3u8.loads(response.content.decode())
    [variant] = master.playlists
    assert variant.uri == f"/linear/{province.pk}/1080p.m3u8"
    assert variant.stream_info.resolution == (320, 180) and variant.stream_info.bandwidth > 0

    response = client.get(variant.uri)
    assert response.status_code == 200 and "max-age=1" in response["Cache-Control"]
    live = m3u8.loads(response.content.decode())
    assert not live.is_endlist and live.target_duration == 1 and len(live.segments) >= 6
    assert any(segment.discontinuity for segment in live.segments)
    files = [segment.uri for segment in live.segments] + [
        segment.init_section.uri for segment in live.segments if segment.init_section
    ]
    assert all(uri.startswith("/media/renditions/") and "&s=" in uri for uri in files)
    # The window spans the whole 6-segment loop: every public item's files, none of the members-only item's.
    hidden = LibraryItem.objects.get(title="党员专享").media_asset_id
    assert not any(f"/renditions/{hidden}/" in uri for uri in files)
    assert client.get(files[0]).status_code == 200


def test_only_linear_tv_channels_play_and_a_wrong_rung_is_not_found(client, linear_world):
    for name in ("lobby", "closed"):
        assert client.get(f"/linear/{linear_world[name].pk}/master.m3u8").status_code == 404
        assert client.get(f"/linear/{linear_world[name].pk}/1080p.m3u8").status_code == 404
    assert client.get(f"/linear/{linear_world['province'].pk}/720p.m3u8").status_code == 404
    assert client.get("/linear/units/nowhere/guide.xml").status_code == 404


def test_guide_lists_the_subtree_channels_next_two_days_public_titles_only(client, linear_world):
    response = client.get("/linear/units/shandong/guide.xml")
    assert response.status_code == 200 and "max-age=300" in response["Cache-Control"]
    document = etree.fromstring(response.content)
    assert etree.DTD(io.StringIO(XMLTV_DTD)).validate(document)
    names = [c.findtext("display-name") for c in document.iter("channel")]
    assert names == ["山东党员教育", "滨州频道"]  # the lobby screen's and the closed channel are not broadcast
    titles = {
        p.findtext("title")
        for p in document.iter("programme")
        if p.get("channel") == f"lighthouse-{linear_world['province'].pk}"
    }
    assert titles == {"党课 第1讲", "党课 第2讲", "党课 第3讲"}  # not 党员专享, no notice
    starts = [p.get("start") for p in document.iter("programme")]
    assert all(start.endswith(" +0800") for start in starts)
    city = client.get("/linear/units/binzhou/guide.xml").content
    assert [c.findtext("display-name") for c in etree.fromstring(city).iter("channel")] == ["滨州频道"]


def test_m3u_points_set_top_boxes_at_each_master_and_the_guide(client, linear_world):
    response = client.get("/linear/units/shandong/channels.m3u")
    assert response.status_code == 200 and response["Content-Type"].startswith("audio/x-mpegurl")
    text = response.content.decode()
    assert text.splitlines()[0] == '#EXTM3U x-tvg-url="http://testserver/linear/units/shandong/guide.xml"'
    rows = _parse_m3u(text)
    assert [(row["tvg-name"], row["group-title"]) for row in rows] == [
        ("山东党员教育", "山东省"),
        ("滨州频道", "滨州市"),
    ]
    assert rows[0]["url"] == f"http://testserver/linear/{linear_world['province'].pk}/master.m3u8"
    assert rows[0]["tvg-id"] == f"lighthouse-{linear_world['province'].pk}"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ffmpeg_plays_the_live_channel_from_the_server_across_programme_boundaries(live_server, linear_world):
    """ffmpeg opens the master over HTTP, follows the live playlist and its signed segments, and decodes five seconds
    (two or more programme changes, each a discontinuity with a new init segment) without one error."""
    url = f"{live_server.url}/linear/{linear_world['province'].pk}/master.m3u8"
    result = subprocess.run(
        [settings.FFMPEG_BINARY, "-v", "error", "-live_start_index", "0", "-i", url]
        + ["-map", "0:v", "-map", "0:a", "-frames:v", "125", "-f", "framecrc", "-"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and result.stderr == ""
    frames = [line for line in result.stdout.splitlines() if line.startswith("0,")]
    assert len(frames) == 125


def test_a_box_polling_the_live_playlist_costs_one_query_once_the_loop_is_cached(
    client, linear_world, django_assert_num_queries
):
    """The loop is cached for a minute and each rendition's parsed playlist for a day: a poll reads the channel."""
    uri = f"/linear/{linear_world['province'].pk}/1080p.m3u8"
    assert client.get(uri).status_code == 200
    with django_assert_num_queries(1):
        assert client.get(uri).status_code == 200


def test_an_item_closed_to_the_public_leaves_the_linear_channel_and_its_guide_at_once(
    client, linear_world, django_capture_on_commit_callbacks
):
    """Watch /linear/<id>/1080p.m3u8 and /linear/units/<code>/guide.xml of a public channel, then the
    library closes one of its items (access 仅党员). The loop is cached a minute under the *channel's* updated_at
    (screens.linear.selectors.channel_loop), which an item's change does not touch: for that minute the anonymous
    guide still names the members-only item and the live playlist keeps handing out freshly signed links to its
    segments. Expected: the item's change (screens.signal_handlers already notes item saves) invalidates the loop, so
    the next guide and playlist leave it out."""
    assert "党课 第1讲" in client.get("/linear/units/shandong/guide.xml").content.decode()
    client.get(f"/linear/{linear_world['province'].pk}/1080p.m3u8")
    closed = LibraryItem.objects.get(title="党课 第1讲")
    closed.access = LibraryItem.Access.MEMBERS
    with django_capture_on_commit_callbacks(execute=True):
        closed.save()
    assert "党课 第1讲" not in client.get("/linear/units/shandong/guide.xml").content.decode()
    playlist_text = client.get(f"/linear/{linear_world['province'].pk}/1080p.m3u8").content.decode()
    assert f"/renditions/{closed.media_asset_id}/" not in playlist_text
