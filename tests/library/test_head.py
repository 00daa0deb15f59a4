"""HEAD on every route that serves a feed or a file: podcast apps (Apple's validator first of all), reading apps and
crawlers ask HEAD before GET. Each answers exactly as its GET does (status, headers), without a body, and episode
files answer byte ranges; closed items answer HEAD with the same refusal as GET."""

import base64
import hashlib
import hmac
import os
import urllib.request
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import URLPattern, reverse

from library import urls as file_urls
from library.feeds import urls as feed_urls
from library.models import LibraryItem
from media_pipeline.models import MediaAsset, Rendition, TranscodeJob
from media_pipeline.selectors import renditions_by_profile
from tests.factories import MemberFactory
from tests.library.test_podcast import _audio_asset, _basic, _episode, _series

pytestmark = pytest.mark.django_db

# Headers that carry the moment of the answer, not what was answered.
MOMENT_HEADERS = {"Expires", "Date"}


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _same(client, url: str, **extra):
    """GET and HEAD of ``url``: the same status (never 405) and headers, and no body for HEAD. Returns the GET."""
    got, head = client.get(url, **extra), client.head(url, **extra)
    assert head.status_code == got.status_code != 405, (url, head.status_code, got.status_code)
    skip = set(MOMENT_HEADERS)
    if got["Content-Type"].startswith("text/html"):
        skip |= {"ETag", "Content-Length"}  # the 404 page: a fresh nonce in each, so two GETs differ as well
    headers = {name: value for name, value in got.headers.items() if name not in skip}
    assert {name: value for name, value in head.headers.items() if name not in skip} == headers, url
    assert _body(head) == b""
    return got


def _document_asset(name: str, data: bytes) -> MediaAsset:
    stored = default_storage.save(f"uploads/2026/12/{name}", ContentFile(data))
    return MediaAsset.objects.create(file=stored, original_name=name, kind="document", probe={"document_format": "pdf"})


def test_every_feed_and_file_route_answers_head_like_get(local_media, client, unit, tone):
    """Every route of /podcasts/, /opds/ and /library-files/ (enclosure, transcript, chapters, feeds, OPML,
    OpenSearch, download, read, pages, EPUB parts) and the signed /media/ file behind them answers HEAD with GET's
    status and headers (Content-Length, ETag, Location, Content-Disposition…) and no body; the signed episode file
    also answers ``Range`` on HEAD and GET alike (206, Content-Range, Accept-Ranges)."""
    series = _series(unit)
    asset = _audio_asset(tone, groups=("audio_edition", "ladder"), captions="WEBVTT\n\n00:00.000 --> 00:01.000\n开场\n")
    asset.probe = {**asset.probe, "chapters": [{"start_time": "0.0", "tags": {"title": "开场"}}]}
    asset.save(update_fields=["probe"])
    episode = _episode(unit, series, "第一讲", position=1, asset=asset)
    book = LibraryItem.objects.create(
        kind="ebook",
        title="红岩 Hongyan",
        owning_unit=unit,
        download="readers",
        media_asset=_document_asset("hongyan.pdf", b"%PDF-1.7 x"),
    )
    periodical = LibraryItem.objects.create(kind="periodical", role="series", title="求是", owning_unit=unit)
    visited = set()

    def check(name, *args, query="", **extra):
        visited.add(name)
        return _same(client, reverse(name, args=args) + query, **extra)

    for name in ("podcast_index", "opds_root", "opds_login", "opds_opensearch", "opds_clc_index", "opds_lists"):
        check(name)
    check("podcast_feed", series.pk)
    check("podcast_artwork")
    check("opds_search", query="?q=红岩")
    check("opds_newest", "ebook")
    check("opds_clc", "A")
    check("opds_list", "no-such-list")
    check("opds_periodical", periodical.pk)
    check("podcast_episode_chapters", episode.pk)
    transcript = check("podcast_episode_transcript", episode.pk)
    assert _same(client, transcript["Location"]).status_code == 200
    enclosure = check("podcast_episode_audio", episode.pk, "m4a")
    size = default_storage.size(renditions_by_profile(asset=asset)["audio_m4a"].path)
    whole = _same(client, enclosure["Location"])
    assert whole["Content-Length"] == str(size) and whole["Accept-Ranges"] == "bytes"
    part = _same(client, enclosure["Location"], HTTP_RANGE="bytes=0-1")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 0-1/{size}" and part["Content-Length"] == "2"
    assert len(_body(client.get(enclosure["Location"], HTTP_RANGE="bytes=0-1"))) == 2
    download = check("library_files:download", book.pk)
    assert download.status_code == 302
    saved = _same(client, download["Location"])
    assert saved.status_code == 200 and "attachment" in saved["Content-Disposition"]
    assert check("library_files:read", book.pk).status_code == 302
    for name in ("library_files:pages", "library_files:epub_index"):
        assert check(name, book.pk).status_code == 404  # not a PDF with page images, not an EPUB: 404 both ways
    assert check("library_files:epub_member", book.pk, "OEBPS/a.xhtml").status_code == 404

    names = {pattern.name for pattern in feed_urls.opds_urlpatterns + feed_urls.podcast_urlpatterns}
    names |= {f"library_files:{p.name}" for p in file_urls.urlpatterns if isinstance(p, URLPattern)}
    assert names <= visited, names - visited


def test_head_refuses_closed_items_exactly_as_get(local_media, client, unit, tone):
    """HEAD tells nothing a GET would refuse: a members-only episode's enclosure and feed ask an anonymous app for
    credentials (401, the same challenge) and a unit-only e-book's download is the same 404 as a missing id, with
    no body; a member's Basic credentials get the same redirect by HEAD as by GET."""
    MemberFactory(username="li", password="pw-123456", org_unit=None)
    series = _series(unit, access="members")
    episode = _episode(unit, series, "党员一讲", position=1, asset=_audio_asset(tone), access="members")
    unit_book = LibraryItem.objects.create(
        kind="ebook", title="内部读本", owning_unit=unit, access="unit", access_unit=unit,
        media_asset=_document_asset("inside.pdf", b"%PDF-1.7 secret"),
    )  # fmt: skip
    for url in (f"/podcasts/{series.pk}.xml", f"/podcasts/episodes/{episode.pk}/audio.m4a"):
        assert _same(client, url).status_code == 401
    assert _same(client, f"/podcasts/episodes/{episode.pk}/audio.m4a", **_basic()).status_code == 302
    missing = LibraryItem.objects.order_by("-pk").first().pk + 100
    for item_id in (unit_book.pk, missing):
        assert _same(client, f"/library-files/items/{item_id}/download/").status_code == 404
        assert _same(client, f"/library-files/items/{item_id}/download/", **_basic()).status_code == 404


def _sigv2_signed_for(method: str, url: str) -> bool:
    """Whether an S3 query-string (signature version 2) URL is signed for ``method``: S3 recomputes the signature
    over the method, the expiry and the path, and refuses the request when it differs (SignatureDoesNotMatch)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    secret = settings.STORAGES["default"]["OPTIONS"]["secret_key"] or os.environ["AWS_SECRET_ACCESS_KEY"]
    signed = f"{method}\n\n\n{query['Expires'][0]}\n{unquote(parts.path)}".encode()
    expected = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha1).digest()).decode()
    return hmac.compare_digest(expected, query["Signature"][0])


@pytest.mark.skipif(not os.environ.get("S3_BUCKET"), reason="needs the S3 server `make test` starts")
def test_enclosure_head_on_s3_follows_to_a_url_signed_for_head(client, unit):
    """On S3 an episode's HEAD redirects to a URL presigned for HEAD, its GET to one presigned for GET: S3 signs
    the method, so Apple's validator (HEAD, following the redirect) would get 403 from a GET-signed URL. The HEAD
    URL answers HEAD with the file's size."""
    data = b"\0" * 4096
    asset = MediaAsset.objects.create(file="uploads/tone.m4a", original_name="tone.m4a", kind="audio")
    job = TranscodeJob.objects.create(asset=asset, state=TranscodeJob.State.DONE, progress=1.0)
    stored = default_storage.save(f"renditions/{asset.pk}/{job.pk}/audio.m4a", ContentFile(data))
    Rendition.objects.create(asset=asset, job=job, profile="audio_m4a", kind=Rendition.Kind.AUDIO, path=stored)
    episode = _episode(unit, _series(unit), "第一讲", position=1, asset=asset)
    url = reverse("podcast_episode_audio", args=[episode.pk, "m4a"])
    head, get = client.head(url), client.get(url)
    assert head.status_code == get.status_code == 302
    if "Signature" not in parse_qs(urlsplit(get["Location"]).query):
        pytest.skip("the storage presigns with signature version 4: the method check below reads version 2")
    assert _sigv2_signed_for("HEAD", head["Location"]) and not _sigv2_signed_for("GET", head["Location"])
    assert _sigv2_signed_for("GET", get["Location"])
    with urllib.request.urlopen(urllib.request.Request(head["Location"], method="HEAD")) as answer:
        assert answer.status == 200 and int(answer.headers["Content-Length"]) == len(data)
