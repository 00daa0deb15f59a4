"""Podcast feeds of the audio series: RSS that podcast apps read cleanly, with real audio editions from the media
pipeline behind stable enclosure URLs, and members-only series behind HTTP Basic."""

import base64
import io
import json
import uuid
from email.utils import format_datetime

import feedparser
import podcastparser
import pytest
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree
from PIL import Image
from wagtail.models import Site

from library.models import LibraryItem, LibraryPage
from media_pipeline.models import TranscodeJob
from media_pipeline.selectors import renditions_by_profile
from media_pipeline.services import caption_attach, media_asset_create, transcode_job_run
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
}
PASSWORD = "pw-123456"


@pytest.fixture
def member(unit):
    return MemberFactory(username="li", password=PASSWORD, real_name="李四", org_unit=unit)


def _basic(username="li", password=PASSWORD) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def _series(unit, title="党课有声", **fields) -> LibraryItem:
    return LibraryItem.objects.create(
        kind="audio", role="series", title=title, owning_unit=unit, summary="每周一讲。", creators="省委党校", **fields
    )


def _episode(unit, series, title, *, position, asset=None, **fields) -> LibraryItem:
    return LibraryItem.objects.create(
        kind="audio", role="episode", title=title, owning_unit=unit, parent=series, position=position,
        media_asset=asset, **fields,
    )  # fmt: skip


def _audio_asset(tone, *, groups=("audio_edition",), captions: str = ""):
    """Run the tone through the real pipeline (analysis, then the groups asked for), as a worker would."""
    with tone.open("rb") as handle:
        asset = media_asset_create(file=File(handle, name="tone.m4a"), options={"only_groups": list(groups)})
    if captions:
        caption_attach(asset=asset, file=ContentFile(captions.encode(), name="talk.vtt"))
    while job := TranscodeJob.objects.filter(asset=asset, state="queued").order_by("pk").first():
        assert transcode_job_run(job_id=job.pk, worker_id="test").state == "done", job.error
    asset.refresh_from_db()
    return asset


def _parsed(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/rss+xml")
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed, etree.fromstring(response.content)


def test_feed_reads_cleanly_with_itunes_and_podcasting_tags(client, unit, tone):
    """A public series' feed parses with bozo 0; the channel has title, link, language zh-cn, itunes author,
    category Education, explicit false, type episodic, podcast:guid (uuid5 of the URL without scheme), locked no
    and atom self link; the episode's enclosure is the M4A edition (audio/mp4) with its exact byte size, a
    duration, an episode number, and a guid that stays the same across requests."""
    series = _series(unit)
    asset = _audio_asset(tone)
    episode = _episode(unit, series, "第一讲 初心", position=1, asset=asset, summary="讲初心。")
    _episode(unit, series, "第二讲 还没转码", position=2)  # no audio edition yet: not in the feed

    parsed, root = _parsed(client.get(f"/podcasts/{series.pk}.xml"))
    feed = parsed.feed
    assert feed.title == "党课有声" and feed.language == "zh-cn" and feed.subtitle == "每周一讲。"
    assert feed.author == "省委党校"
    assert [tag.term for tag in feed.tags] == ["Education"]
    channel = root.find("channel")
    assert channel.findtext("itunes:type", namespaces=NS) == "episodic"
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"  # Apple's true/false (feedparser: yes/clean)
    assert channel.find("itunes:category", NS).get("text") == "Education"
    assert channel.findtext("podcast:locked", namespaces=NS) == "no"
    feed_url = f"http://testserver/podcasts/{series.pk}.xml"
    assert channel.find("atom:link", NS).get("href") == feed_url and channel.find("atom:link", NS).get("rel") == "self"
    expected_guid = uuid.uuid5(
        uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), f"testserver/podcasts/{series.pk}.xml"
    )
    assert channel.findtext("podcast:guid", namespaces=NS) == str(expected_guid)

    (entry,) = parsed.entries
    edition = renditions_by_profile(asset=asset)["audio_m4a"]
    (enclosure,) = entry.enclosures
    assert enclosure.href == f"http://testserver/podcasts/episodes/{episode.pk}/audio.m4a"
    assert enclosure.type == "audio/mp4"
    assert int(enclosure.length) == default_storage.size(edition.path) > 0
    assert entry.itunes_duration == "00:00:02" and entry.itunes_episode == "1"
    assert entry.title == "第一讲 初心" and entry.summary == "讲初心。" and entry.published_parsed
    assert entry.guidislink is False
    again = _parsed(client.get(f"/podcasts/{series.pk}.xml"))[0].entries[0]
    assert again.id == entry.id and entry.id.startswith("urn:uuid:")


def test_enclosure_redirects_to_a_signed_url_that_serves_the_audio(local_media, client, unit, tone):
    """The stable enclosure URL answers 302 to a freshly signed storage URL (no-cache), which serves the M4A file
    byte for byte; the MP3 edition has its own stable URL; an unknown extension is a 404."""
    series = _series(unit)
    asset = _audio_asset(tone)
    episode = _episode(unit, series, "第一讲", position=1, asset=asset)
    response = client.get(f"/podcasts/episodes/{episode.pk}/audio.m4a")
    assert response.status_code == 302 and "no-cache" in response["Cache-Control"]
    location = response["Location"]
    assert "/media/renditions/" in location and "s=" in location and "e=" in location
    audio = client.get(location)
    assert audio.status_code == 200 and audio["Content-Type"] == "audio/mp4"
    body = b"".join(audio.streaming_content) if audio.streaming else audio.content
    with default_storage.open(renditions_by_profile(asset=asset)["audio_m4a"].path, "rb") as handle:
        assert body == handle.read() and body[4:8] == b"ftyp"
    mp3 = client.get(f"/podcasts/episodes/{episode.pk}/audio.mp3")
    assert mp3.status_code == 302 and mp3["Location"].split("?")[0].endswith(".mp3")
    assert client.get(f"/podcasts/episodes/{episode.pk}/audio.ogg").status_code == 404


def test_members_only_series_asks_for_basic_credentials(client, unit, member, tone):
    """A members-only series is 401 with a Basic challenge to an anonymous app (and so is its enclosure), 200 with
    a member's Basic credentials, and 401 again for a wrong password."""
    series = _series(unit, access="members")
    episode = _episode(unit, series, "内部党课", position=1, asset=_audio_asset(tone), access="members")
    anonymous = client.get(f"/podcasts/{series.pk}.xml")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == 'Basic realm="Lighthouse", charset="UTF-8"'
    assert client.get(f"/podcasts/episodes/{episode.pk}/audio.m4a").status_code == 401
    parsed, _root = _parsed(client.get(f"/podcasts/{series.pk}.xml", **_basic()))
    assert [entry.title for entry in parsed.entries] == ["内部党课"]
    assert client.get(f"/podcasts/episodes/{episode.pk}/audio.m4a", **_basic()).status_code == 302
    assert client.get(f"/podcasts/{series.pk}.xml", **_basic(password="wrong")).status_code == 401


def test_episodes_the_requester_cannot_read_are_left_out(client, unit, member, tone):
    """In a public series, a members-only episode appears only for a member and an unpublished one for nobody."""
    series = _series(unit)
    asset = _audio_asset(tone)
    _episode(unit, series, "公开一讲", position=1, asset=asset)
    _episode(unit, series, "党员一讲", position=2, asset=asset, access="members")
    _episode(unit, series, "草稿", position=3, asset=asset, is_published=False)
    assert [e.title for e in _parsed(client.get(f"/podcasts/{series.pk}.xml"))[0].entries] == ["公开一讲"]
    member_titles = [e.title for e in _parsed(client.get(f"/podcasts/{series.pk}.xml", **_basic()))[0].entries]
    assert member_titles == ["公开一讲", "党员一讲"]


def test_transcript_and_chapters_only_where_they_exist(local_media, client, unit, tone):
    """An episode with captions has a podcast:transcript (text/vtt, zh-cn) whose stable URL redirects to the WebVTT
    file; chapters appear (application/json+chapters, served as Podcasting 2.0 JSON) only for an episode whose
    master has chapter marks."""
    series = _series(unit)
    vtt = "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n不忘初心\n"
    with_captions = _audio_asset(tone, groups=("audio_edition", "ladder"), captions=vtt)
    first = _episode(unit, series, "有字幕", position=1, asset=with_captions)
    with_captions.probe = {**with_captions.probe, "chapters": [{"start_time": "0.000", "tags": {"title": "开场"}}]}
    with_captions.save(update_fields=["probe"])

    _parsed_feed, root = _parsed(client.get(f"/podcasts/{series.pk}.xml"))
    item = root.find("channel/item")
    transcript = item.find("podcast:transcript", NS)
    assert transcript.get("type") == "text/vtt" and transcript.get("language") == "zh-cn"
    assert transcript.get("url") == f"http://testserver/podcasts/episodes/{first.pk}/transcript.vtt"
    redirect = client.get(f"/podcasts/episodes/{first.pk}/transcript.vtt")
    assert redirect.status_code == 302
    served = client.get(redirect["Location"])
    text = (b"".join(served.streaming_content) if served.streaming else served.content).decode()
    assert text.startswith("WEBVTT") and "不忘初心" in text

    chapters = item.find("podcast:chapters", NS)
    assert chapters.get("type") == "application/json+chapters"
    data = json.loads(client.get(f"/podcasts/episodes/{first.pk}/chapters.json").content)
    assert data == {"version": "1.2.0", "chapters": [{"startTime": 0.0, "title": "开场"}]}

    with_captions.probe = {key: value for key, value in with_captions.probe.items() if key != "chapters"}
    with_captions.save(update_fields=["probe"])
    item = _parsed(client.get(f"/podcasts/{series.pk}.xml"))[1].find("channel/item")
    assert item.find("podcast:chapters", NS) is None
    assert client.get(f"/podcasts/episodes/{first.pk}/chapters.json").status_code == 404


def test_index_lists_the_series_the_requester_may_hear(client, unit, member):
    """/podcasts/ is an OPML list of audio series feeds: public ones for anonymous apps, members' ones too with
    credentials; a non-audio item is never a feed (an anonymous app is asked to sign in, as for any id it cannot
    read, so the answer never tells which ids exist; a member gets 404)."""
    public, closed = _series(unit, "公开有声"), _series(unit, "党员有声", access="members")
    response = client.get("/podcasts/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/x-opml")
    outlines = etree.fromstring(response.content).findall("body/outline")
    assert [(o.get("text"), o.get("xmlUrl")) for o in outlines] == [
        ("公开有声", f"http://testserver/podcasts/{public.pk}.xml")
    ]
    member_view = etree.fromstring(client.get("/podcasts/", **_basic()).content).findall("body/outline")
    assert {o.get("text") for o in member_view} == {"公开有声", "党员有声"}
    book = LibraryItem.objects.create(kind="ebook", title="书", owning_unit=unit)
    assert client.get(f"/podcasts/{book.pk}.xml").status_code == 401
    assert client.get(f"/podcasts/{book.pk}.xml", **_basic()).status_code == 404
    assert closed.pk


def test_ids_the_requester_cannot_read_do_not_reveal_whether_they_exist(client, unit, member, tone):
    """An anonymous app gets the same 401 challenge for a members-only episode, an unpublished one and an id
    that was never used, on every episode URL and feed URL; a signed-in member gets 404 for all that it cannot
    read, whether it exists or not."""
    series = _series(unit)
    asset = _audio_asset(tone)
    closed = _episode(unit, series, "党员一讲", position=1, asset=asset, access="members")
    draft = _episode(unit, series, "草稿", position=2, asset=asset, is_published=False)
    missing = LibraryItem.objects.order_by("-pk").first().pk + 1000
    suffixes = ("audio.m4a", "transcript.vtt", "chapters.json")
    for item_id in (closed.pk, draft.pk, missing):
        for suffix in suffixes:
            response = client.get(f"/podcasts/episodes/{item_id}/{suffix}")
            assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Basic realm=")
    draft_series = _series(unit, "未发布有声", is_published=False)
    assert {client.get(f"/podcasts/{pk}.xml").status_code for pk in (draft_series.pk, missing)} == {401}
    for item_id in (draft.pk, missing):
        for suffix in suffixes:
            assert client.get(f"/podcasts/episodes/{item_id}/{suffix}", **_basic()).status_code == 404
    assert client.get(f"/podcasts/{missing}.xml", **_basic()).status_code == 404
    assert client.get(f"/podcasts/episodes/{closed.pk}/audio.m4a", **_basic()).status_code == 302


def test_enclosure_length_is_the_recorded_size_without_asking_the_storage(client, unit, tone):
    """The enclosure length is the size the pipeline recorded; where none was recorded it is 0 (RSS's
    "unknown"), and the storage is not asked: the feed works even when the file cannot be reached from here."""
    series = _series(unit)
    asset = _audio_asset(tone)
    _episode(unit, series, "第一讲", position=1, asset=asset)
    edition = renditions_by_profile(asset=asset)["audio_m4a"]
    edition.size = 12345
    edition.save(update_fields=["size"])
    default_storage.delete(edition.path)
    (entry,) = _parsed(client.get(f"/podcasts/{series.pk}.xml"))[0].entries
    assert entry.enclosures[0].length == "12345"
    edition.size = 0
    edition.save(update_fields=["size"])
    (entry,) = _parsed(client.get(f"/podcasts/{series.pk}.xml"))[0].entries
    assert entry.enclosures[0].length == "0"


def test_control_characters_in_titles_do_not_break_the_feed(client, unit, tone):
    """Characters XML cannot carry (\\x0b, \\x0c, \\x08 from an old import;
    PostgreSQL refuses \\x00 outright) are left out of the channel, the
    episodes and the OPML index instead of turning them into server errors."""
    series = _series(unit, "党课\x0b有声")
    _episode(unit, series, "第一讲\x08初心", position=1, asset=_audio_asset(tone), summary="讲\x0c初心。")
    parsed, _root = _parsed(client.get(f"/podcasts/{series.pk}.xml"))
    assert parsed.feed.title == "党课有声"
    (entry,) = parsed.entries
    assert entry.title == "第一讲初心" and entry.summary == "讲初心。"
    outlines = etree.fromstring(client.get("/podcasts/").content).findall("body/outline")
    assert [outline.get("text") for outline in outlines] == ["党课有声"]


def test_feed_queries_do_not_grow_with_its_episodes(client, unit, tone, django_assert_max_num_queries):
    """The website links of the series and its episodes come from one look-up of the library page per feed:
    six episodes take no more queries than two."""
    Site.objects.get(is_default_site=True).root_page.add_child(instance=LibraryPage(title="数字图书馆", slug="library"))
    series = _series(unit)
    asset = _audio_asset(tone)
    for position in (1, 2):
        _episode(unit, series, f"第{position}讲", position=position, asset=asset)
    url = f"/podcasts/{series.pk}.xml"
    _parsed(client.get(url))
    with CaptureQueriesContext(connection) as two:
        _parsed(client.get(url))
    for position in range(3, 7):
        _episode(unit, series, f"第{position}讲", position=position, asset=asset)
    with django_assert_max_num_queries(len(two)):
        parsed, _root = _parsed(client.get(url))
    assert len(parsed.entries) == 6 and all(
        entry.link.startswith("http://testserver/library/") for entry in parsed.entries
    )


def _apple_required(root) -> None:
    """The tags Apple Podcasts requires (podcasters.apple.com, "Podcast RSS feed requirements"): channel title,
    description, language, itunes:image href, itunes:category text, itunes:explicit; each item title, enclosure
    (url, length, type) and guid."""
    channel = root.find("channel")
    for tag in ("title", "description", "language", "itunes:explicit"):
        assert (channel.findtext(tag, namespaces=NS) or "").strip(), tag
    assert channel.find("itunes:image", NS).get("href", "").startswith("http")
    assert channel.find("itunes:category", NS).get("text")
    for item in channel.findall("item"):
        assert item.findtext("title") and item.findtext("guid")
        enclosure = item.find("enclosure")
        assert enclosure.get("url") and enclosure.get("length") is not None and enclosure.get("type")


def test_apple_tags_owner_and_site_artwork_through_podcastparser(settings, local_media, client, unit, tone):
    """A series without a cover still has artwork: itunes:image names the site's artwork, a 3000×3000 RGB PNG at a
    stable public URL (drawn once, then kept in storage); itunes:owner has the publisher and the configured email;
    podcastparser (gPodder's parser) reads the cover, the owner and the enclosure, the transcript and chapters
    tags are there, and every tag Apple requires is there."""
    settings.PODCAST_OWNER_EMAIL = "podcast@example.org"
    series = _series(unit, publisher="省委党校出版社")
    vtt = "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n不忘初心\n"
    asset = _audio_asset(tone, groups=("audio_edition", "ladder"), captions=vtt)
    asset.probe = {**asset.probe, "chapters": [{"start_time": "0.000", "tags": {"title": "开场"}}]}
    asset.save(update_fields=["probe"])
    episode = _episode(unit, series, "第一讲", position=1, asset=asset)
    url = f"http://testserver/podcasts/{series.pk}.xml"
    response = client.get(url)
    _parsed(response)
    _apple_required(etree.fromstring(response.content))
    podcast = podcastparser.parse(url, io.BytesIO(response.content))
    assert podcast["cover_url"] == "http://testserver/podcasts/artwork.png"
    assert podcast["itunes_owner"] == {"name": "省委党校出版社", "email": "podcast@example.org"}
    (parsed_episode,) = podcast["episodes"]
    assert parsed_episode["enclosures"][0]["url"] == f"http://testserver/podcasts/episodes/{episode.pk}/audio.m4a"
    # podcastparser 0.6 knows the Podcasting 2.0 tags only under the namespace's old GitHub URL, not the
    # https://podcastindex.org/namespace/1.0 the spec names (and we use): read them with lxml.
    item = etree.fromstring(response.content).find("channel/item")
    assert item.find("podcast:transcript", NS).get("url").endswith(f"/episodes/{episode.pk}/transcript.vtt")
    assert item.find("podcast:chapters", NS).get("url").endswith(f"/episodes/{episode.pk}/chapters.json")

    artwork = client.get("/podcasts/artwork.png")
    assert (
        artwork.status_code == 200 and artwork["Content-Type"] == "image/png" and "public" in artwork["Cache-Control"]
    )
    image = Image.open(io.BytesIO(artwork.content))
    assert (image.format, image.size, image.mode) == ("PNG", (3000, 3000), "RGB")
    assert default_storage.exists("site/podcast-artwork-v1.png")
    assert client.get("/podcasts/artwork.png").content == artwork.content


def test_feed_is_the_same_bytes_until_it_changes_and_answers_conditional_gets(client, unit, member, tone):
    """lastBuildDate is the newest episode's date, not the time of the request, so two reads are the same bytes;
    the feed has an ETag and a Last-Modified, and an app that sends either back gets 304 without a body, until an
    episode is added (then 200, a new ETag). A members-only feed's 304 needs the credentials: an anonymous app
    sending the member's ETag gets the 401 challenge, never a hint that the feed is unchanged."""
    series = _series(unit)
    asset = _audio_asset(tone)
    episode = _episode(unit, series, "第一讲", position=1, asset=asset)
    url = f"/podcasts/{series.pk}.xml"
    first, second = client.get(url), client.get(url)
    assert first.content == second.content and first["ETag"] == second["ETag"]
    channel = etree.fromstring(first.content).find("channel")
    assert channel.findtext("lastBuildDate") == format_datetime(episode.published_at)
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    not_changed = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert not_changed.status_code == 304 and not_changed.content == b""
    _episode(unit, series, "第二讲", position=2, asset=asset)
    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]

    closed = _series(unit, "党员有声", access="members")
    _episode(unit, closed, "内部", position=1, asset=asset, access="members")
    members = client.get(f"/podcasts/{closed.pk}.xml", **_basic())
    assert client.get(f"/podcasts/{closed.pk}.xml", HTTP_IF_NONE_MATCH=members["ETag"], **_basic()).status_code == 304
    assert client.get(f"/podcasts/{closed.pk}.xml", HTTP_IF_NONE_MATCH=members["ETag"]).status_code == 401
