"""The JSON API at /api/v1/: browsing, players' URLs, member activity, auth (session + CSRF, bearer tokens),
keyset pagination, OpenAPI and refusal of bad input (library/api/routes.py, cms/project/api.py, cms/api_auth.py)."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cms.api_auth import api_token_for
from library import activity
from library.models import ArticleArea, Favourite, IssuePage, ItemProgress, LibraryItem
from library.search_documents import PAGE_URL_CACHE_KEY, item_document
from library.selectors import item_url
from library.services import library_item_credits_set
from media_pipeline.models import MediaAsset, Rendition, TranscodeJob
from media_pipeline.selectors import playback_token_query
from tests.factories import EbookFactory, LibraryItemFactory, MemberFactory, NewspaperFactory, VideoFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/library"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def member(unit_tree, library_page):
    return MemberFactory(username="wang", org_unit=unit_tree["zouping"])


def _heartbeat(**extra):
    return json.dumps({"position": 12.5, "active_seconds": 20} | extra)


def _walk(client, url, **headers):
    """Every page of a keyset list, following next_cursor."""
    ids, cursor = [], None
    while True:
        query = f"{'&' if '?' in url else '?'}cursor={cursor}" if cursor else ""
        body = client.get(url + query, **headers).json()
        ids += [entry["item"]["id"] if "item" in entry else entry["id"] for entry in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return ids


# --- Browsing -------------------------------------------------------------------------------------------------


def test_anonymous_lists_public_items_members_see_more(client, unit_tree, unit, member):
    """Visitors list public items only; a logged-in member also sees members-only ones; unit-only stays hidden."""
    public = VideoFactory(owning_unit=unit, title="公开课")
    members = VideoFactory(owning_unit=unit, title="党员课", access="members")
    VideoFactory(owning_unit=unit, title="沂南课", access="unit", access_unit=unit_tree["yinan"])
    ids = [row["id"] for row in client.get(f"{API}/items").json()["items"]]
    assert ids == [public.pk]
    client.force_login(member)
    ids = {row["id"] for row in client.get(f"{API}/items").json()["items"]}
    assert ids == {public.pk, members.pk}


@pytest.mark.parametrize("sort", ["newest", "popular"])
def test_item_list_keyset_pages_have_no_duplicates_or_gaps(client, unit, library_page, sort):
    """Walking next_cursor with a small page size yields every listed item exactly once, in order."""
    items = [
        VideoFactory(owning_unit=unit, title=f"第{n}课", published_at=T0 + timedelta(days=n % 3), read_count=n % 2)
        for n in range(11)
    ]
    ids = _walk(client, f"{API}/items?sort={sort}&limit=3")
    assert sorted(ids) == sorted(item.pk for item in items) and len(ids) == len(set(ids))
    key = "read_count" if sort == "popular" else "published_at"
    expected = LibraryItem.objects.order_by(f"-{key}", "-id").values_list("pk", flat=True)
    assert ids == list(expected)


def test_item_list_filters(client, unit_tree, unit, library_page):
    """kind, clc (with narrower classes), year, unit and tag narrow the list."""
    book = EbookFactory(owning_unit=unit, title="红色家书", clc="D261.4", issued=datetime(2021, 7, 1).date(), year=2021)
    book.tags.add("家风")
    VideoFactory(owning_unit=unit_tree["yinan"], title="别的课", year=2020)
    assert [row["id"] for row in client.get(f"{API}/items?kind=ebook").json()["items"]] == [book.pk]
    assert [row["id"] for row in client.get(f"{API}/items?clc=d2").json()["items"]] == [book.pk]
    assert [row["id"] for row in client.get(f"{API}/items?year=2021").json()["items"]] == [book.pk]
    tag = book.tags.first().slug
    assert [row["id"] for row in client.get(f"{API}/items?tag={tag}").json()["items"]] == [book.pk]
    assert len(client.get(f"{API}/items?unit={unit_tree['yinan'].pk}").json()["items"]) == 1


def test_item_detail_shares_the_description(client, unit, library_page):
    """Detail carries the catalogue description, credits, tags, CLC label, parent and child count."""
    series = VideoFactory(owning_unit=unit, title="党史故事", role="series")
    episode = VideoFactory(
        owning_unit=unit, title="第一集", role="episode", parent=series, position=1, clc="D2", publisher="灯塔出版社"
    )
    library_item_credits_set(item=episode, credits=[("张三", "presenter"), ("李四", "director")])
    episode.tags.add("党史")
    body = client.get(f"{API}/items/{episode.pk}").json()
    assert body["credits"] == [
        {"name": "张三", "role": "presenter", "role_display": "主讲"},
        {"name": "李四", "role": "director", "role_display": "导演"},
    ]
    assert body["clc_label"].startswith("D2") and body["publisher"] == "灯塔出版社"
    assert body["parent"] == {"id": series.pk, "kind": "video", "title": "党史故事"}
    assert body["tags"][0]["name"] == "党史" and body["is_favourite"] is False and body["can_download"] is False
    assert body["url"].startswith("http://testserver/library/item/")
    assert client.get(f"{API}/items/{series.pk}").json()["children_count"] == 1


def test_unreadable_item_is_the_same_404_as_a_missing_one(client, unit, member):
    """A members-only item answers anonymous callers exactly like an item that does not exist."""
    hidden = VideoFactory(owning_unit=unit, access="members")
    for suffix in ("", "/children", "/renditions"):
        missing = client.get(f"{API}/items/999999{suffix}")
        refused = client.get(f"{API}/items/{hidden.pk}{suffix}")
        assert refused.status_code == missing.status_code == 404
        assert refused.json() == missing.json() == {"detail": "未找到该条目"}


def test_children_page_by_position(client, unit, library_page):
    """Children come in position order and page by keyset without gaps."""
    title = NewspaperFactory(owning_unit=unit, title="学习时报", role="series")
    issues = [
        VideoFactory(owning_unit=unit, title=f"第{n}期", role="issue", parent=title, position=n // 2) for n in range(7)
    ]
    ids = _walk(client, f"{API}/items/{title.pk}/children?limit=2")
    assert ids == [issue.pk for issue in sorted(issues, key=lambda issue: (issue.position, issue.pk))]


# --- What players and readers need ----------------------------------------------------------------------------


def _asset_with(renditions: list[dict], kind="video") -> MediaAsset:
    asset = MediaAsset.objects.create(file="uploads/2026/01/master.bin", kind=kind, state="ready")
    job = TranscodeJob.objects.create(asset=asset, state=TranscodeJob.State.DONE)
    for fields in renditions:
        Rendition.objects.create(asset=asset, job=job, **fields)
    return asset


def test_renditions_give_signed_urls_for_every_player(client, unit, library_page):
    """Video: HLS master, audio edition, TV MP4, captions and sprite, each URL signed and absolute."""
    base = "renditions/1/job"
    asset = _asset_with(
        [
            {"profile": "hls_web", "kind": "hls", "path": f"{base}/hls/master.m3u8"},
            {"profile": "audio_m4a", "kind": "audio", "path": f"{base}/audio.m4a", "meta": {"container": "m4a"}},
            {"profile": "audio_mp3", "kind": "audio", "path": f"{base}/audio.mp3", "meta": {"container": "mp3"}},
            {"profile": "tv_1080p", "kind": "mp4", "path": f"{base}/tv/tv.mp4", "width": 1920, "height": 1080},
            {
                "profile": "captions",
                "kind": "captions",
                "path": f"{base}/captions/zh-Hans/index.m3u8",
                "meta": {"language": "zh-Hans", "label": "中文", "default": True, "vtt": "captions/zh-Hans/c.vtt"},
            },
            {
                "profile": "sprite",
                "kind": "sprite",
                "path": f"{base}/sprite/sprite.vtt",
                "meta": {"image": "sprite/sprite.jpg", "interval": 5, "tile": [160, 90]},
            },
        ]
    )
    item = VideoFactory(owning_unit=unit, media_asset=asset)
    body = client.get(f"{API}/items/{item.pk}/renditions").json()
    assert body["state"] == "ready" and "/media-pipeline/hls/" in body["hls_url"]
    assert [audio["format"] for audio in body["audio"]] == ["m4a", "mp3"]
    assert body["tv_mp4"]["width"] == 1920
    assert body["captions"][0]["vtt_url"].split("?")[0].endswith(f"{base}/captions/zh-Hans/c.vtt")
    assert body["sprite"]["image_url"].split("?")[0].endswith(f"{base}/sprite/sprite.jpg")
    for url in [body["audio"][0]["url"], body["tv_mp4"]["url"], body["sprite"]["vtt_url"]]:
        # Absolute and signed: our signed local URL on the embedded default, a presigned URL on S3.
        local = url.startswith("http://testserver/media/renditions/") and "s=" in url and "e=" in url
        presigned = "/renditions/" in url and "Signature=" in url and "Expires=" in url
        assert local or presigned, url


def test_document_renditions_and_pages(client, unit, library_page):
    """A PDF gives its file, manifest, text and outline, and its pages page by page with signed image URLs."""
    base = "renditions/2/job"
    meta = {"page_count": 45, "widths": [1600, 400], "toc": [{"title": "第一章", "page": 1}]}
    asset = _asset_with(
        [
            {"profile": "document", "kind": "pages", "path": f"{base}/pages/manifest.json", "meta": meta},
            {"profile": "document_text", "kind": "text", "path": f"{base}/text/all.txt"},
        ],
        kind="document",
    )
    # the file only with the download right
    item = EbookFactory(owning_unit=unit, media_asset=asset, download="readers")
    document = client.get(f"{API}/items/{item.pk}/renditions").json()["document"]
    assert document["format"] == "pdf" and document["page_count"] == 45
    assert document["outline"] == meta["toc"] and "s=" in document["file_url"]
    pages = client.get(document["pages_url"] + "?width=400&start=41&limit=20").json()
    assert [page["number"] for page in pages["pages"]] == [41, 42, 43, 44, 45] and pages["next_start"] is None
    assert pages["pages"][0]["image_url"].split("?")[0].endswith(f"{base}/pages/400/p0041.jpg")
    assert client.get(document["pages_url"] + "?width=333").status_code == 422


def test_item_without_media_has_empty_renditions(client, unit, library_page):
    """An article with no file answers with empty fields, not an error."""
    body = client.get(f"{API}/items/{LibraryItemFactory(owning_unit=unit).pk}/renditions").json()
    assert body["hls_url"] == "" and body["audio"] == [] and body["document"] is None


def test_issue_pages_show_areas_of_readable_articles_only(client, unit, member):
    """The 版面 in /renditions carry article areas only for articles the caller may open, as the web page does."""
    title = NewspaperFactory(owning_unit=unit, title="灯塔日报", role="series")
    issue = NewspaperFactory(owning_unit=unit, title="第1期", role="issue", parent=title)
    public = NewspaperFactory(owning_unit=unit, title="要闻", role="article", parent=issue)
    private = NewspaperFactory(owning_unit=unit, title="内部通知", role="article", parent=issue, access="members")
    page = IssuePage.objects.create(issue=issue, number=1, name="要闻")
    for article in (public, private):
        ArticleArea.objects.create(page=page, article=article, points=[[0, 0], [1, 0], [1, 1]])

    def area_ids():
        pages = client.get(f"{API}/items/{issue.pk}/renditions").json()["issue_pages"]
        return [area["article_id"] for area in pages[0]["areas"]]

    assert area_ids() == [public.pk]
    client.force_login(member)
    assert area_ids() == [public.pk, private.pk]


def _video_with_playlists(unit, **extra) -> LibraryItem:
    """A video whose web HLS master, one variant playlist and a poster are stored like the pipeline stores them."""
    asset = MediaAsset.objects.create(file="uploads/2026/01/v.mp4", kind="video", state="ready")
    job = TranscodeJob.objects.create(asset=asset, state=TranscodeJob.State.DONE)
    prefix = f"renditions/{asset.pk}/{job.pk}"
    for name, text in ((f"{prefix}/hls/master.m3u8", MASTER), (f"{prefix}/hls/360p/index.m3u8", VARIANT)):
        if default_storage.exists(name):
            default_storage.delete(name)
        default_storage.save(name, ContentFile(text.encode()))
    Rendition.objects.create(asset=asset, job=job, profile="hls_web", kind="hls", path=f"{prefix}/hls/master.m3u8")
    Rendition.objects.create(asset=asset, job=job, profile="poster", kind="poster", path=f"{prefix}/poster.jpg")
    return VideoFactory(owning_unit=unit, media_asset=asset, **extra)


MASTER = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS="avc1.64001e,mp4a.40.2"\n360p/index.m3u8\n'
VARIANT = "#EXTM3U\n#EXTINF:4.000000,\nseg_00000.m4s\n#EXT-X-ENDLIST\n"


def test_bearer_app_plays_members_only_video_without_a_session(unit, member):
    """An app with only a bearer token gets playlist and poster URLs carrying a short-lived token, and can fetch the
    master, the variant it names and the poster with no cookies; without the token the same URLs are 404."""
    item = _video_with_playlists(unit, access="members")
    app = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token_for(member)}"}
    body = app.get(f"{API}/items/{item.pk}/renditions", **headers).json()
    master_url = body["hls_url"].removeprefix("http://testserver")
    assert "t=" in master_url and "e=" in master_url
    master = app.get(master_url)
    assert master.status_code == 200 and "no-store" in master["Cache-Control"]
    variant_url = master.content.decode().splitlines()[-1]
    assert "/360p/index.m3u8?" in variant_url and "t=" in variant_url  # the token travels to nested playlists
    variant = app.get(variant_url)
    assert variant.status_code == 200 and "seg_00000.m4s" in variant.content.decode()
    assert app.get(body["poster_url"].removeprefix("http://testserver")).status_code == 302
    assert app.get(master_url.split("?")[0]).status_code == 404  # no token, no session: refused
    assert app.get(variant_url.split("?")[0]).status_code == 404


def test_tampered_or_expired_playback_tokens_are_404(unit, member):
    """A token with a changed signature, one for another asset, or one past its expiry plays nothing."""
    item = _video_with_playlists(unit, access="members")
    other = _video_with_playlists(unit, title="另一课", access="members")
    app = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token_for(member)}"}
    master_url = app.get(f"{API}/items/{item.pk}/renditions", **headers).json()["hls_url"]
    path, query = master_url.removeprefix("http://testserver").split("?")
    assert app.get(f"{path}?{query}").status_code == 200
    assert app.get(f"{path}?{query}x").status_code == 404
    other_query = playback_token_query(asset_id=other.media_asset_id)
    assert app.get(f"{path}?{other_query}").status_code == 404
    expired = playback_token_query(asset_id=item.media_asset_id, now=time.time() - 3 * 3600)
    assert app.get(f"{path}?{expired}").status_code == 404


# --- Query counts ---------------------------------------------------------------------------------------------


LISTS = ("favourites", "history", "continue")


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return len(captured)


def test_lists_take_the_same_queries_for_2_or_30_rows(client, unit_tree, unit, member, django_assert_max_num_queries):
    """Item lists, children and the member's favourites, history and continue lists do not query per row (owning
    unit, library page): 30 rows cost no more queries than 2."""
    client.force_login(member)
    series = VideoFactory(owning_unit=unit, title="党史故事", role="series")

    def add(count: int) -> None:
        for _n in range(count):
            VideoFactory(owning_unit=unit, title="一集", role="episode", parent=series)
            item = VideoFactory(owning_unit=unit_tree["yinan"], title="一课")
            activity.favourite_add(member=member, item=item)
            activity.progress_heartbeat(member=member, item=item, position=1, active_seconds=1)

    urls = [f"{API}/items", f"{API}/items/{series.pk}/children", *(f"{API}/me/{name}" for name in LISTS)]
    add(2)
    for url in urls:
        client.get(url)  # warm: session, content types and the site's root paths are cached once per process
    few = {url: _count_queries(client, url) for url in urls}
    add(28)
    for url in urls:
        with django_assert_max_num_queries(few[url]):
            rows = client.get(url).json()["items"]
        assert len(rows) >= 20, url


def test_search_documents_look_the_library_page_up_once(unit, library_page):
    """Indexing many items asks for the library page once (remembered for a minute), with the same item URLs."""
    cache.delete(PAGE_URL_CACHE_KEY)
    items = [VideoFactory(owning_unit=unit, title=f"第{n}课") for n in range(5)]
    with CaptureQueriesContext(connection) as captured:
        documents = [item_document(item) for item in items]
    # The page itself, not the site root paths Wagtail looks up (and caches) to make any page URL.
    page_queries = [q for q in captured if "wagtailcore_page" in q["sql"] and "wagtailcore_site" not in q["sql"]]
    assert len(page_queries) <= 1
    assert [document.url for document in documents] == [item_url(item) for item in items]
    assert documents[0].url.startswith("/library/item/")


# --- Auth -----------------------------------------------------------------------------------------------------


def test_member_routes_need_login(client, unit, library_page):
    """Anonymous calls to member routes are a 401 with a Chinese message."""
    item = VideoFactory(owning_unit=unit)
    for method, url in [
        ("get", f"{API}/me/favourites"),
        ("get", f"{API}/me/history"),
        ("get", f"{API}/me/continue"),
        ("get", f"{API}/items/{item.pk}/progress"),
        ("post", f"{API}/items/{item.pk}/progress"),
        ("post", f"{API}/items/{item.pk}/favourite"),
        ("delete", f"{API}/items/{item.pk}/favourite"),
        ("post", f"{API}/items/{item.pk}/open"),
    ]:
        data = {} if method == "get" else {"data": _heartbeat(), "content_type": "application/json"}
        response = getattr(client, method)(url, **data)
        assert response.status_code == 401, url
        assert response.json()["detail"] == "请先登录"


def test_session_writes_need_the_csrf_token(unit, member):
    """With the session cookie, a POST without X-CSRFToken is refused; with it the heartbeat is saved."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    item = VideoFactory(owning_unit=unit)
    url = f"{API}/items/{item.pk}/progress"
    refused = client.post(url, _heartbeat(), content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert not ItemProgress.objects.exists()
    client.get(f"{API}/items/{item.pk}")  # any page visit sets the cookie; force it here
    token = "a" * 32
    client.cookies["csrftoken"] = token
    saved = client.post(url, _heartbeat(), content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert saved.status_code == 200 and saved.json()["position"] == 12.5
    assert client.get(url).json()["position"] == 12.5  # GETs need no token


def test_bearer_token_from_password_and_revoked_by_password_change(client, unit, member):
    """An app trades username/password for a token that works without cookies or CSRF, until the password changes."""
    wrong = client.post("/api/v1/auth/token", {"username": "wang", "password": "nope"}, content_type="application/json")
    assert wrong.status_code == 401 and wrong.json()["detail"] == "用户名或密码错误"
    issued = client.post(
        "/api/v1/auth/token", {"username": "wang", "password": "pw-123456"}, content_type="application/json"
    ).json()
    assert issued["member"]["username"] == "wang"
    app = Client(enforce_csrf_checks=True)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issued['token']}"}
    item = VideoFactory(owning_unit=unit, access="members")
    assert app.post(f"{API}/items/{item.pk}/favourite", **headers).status_code == 200
    assert [row["item"]["id"] for row in app.get(f"{API}/me/favourites", **headers).json()["items"]] == [item.pk]
    assert app.get(f"{API}/items/{item.pk}", **headers).json()["is_favourite"] is True
    member.set_password("new-pw-7890")
    member.save()
    revoked = app.get(f"{API}/me/favourites", **headers)
    assert revoked.status_code == 401 and "重新登录" in revoked.json()["detail"]
    # A stale token on a public route is also a clear 401, not a silent anonymous view.
    assert app.get(f"{API}/items", **headers).status_code == 401


def test_expired_or_forged_tokens_are_refused(client, member, settings):
    """Tokens past their max age and tokens with a bad signature are both 401."""
    token = api_token_for(member)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get(f"{API}/me/history", **headers).status_code == 200
    assert client.get(f"{API}/me/history", HTTP_AUTHORIZATION=f"Bearer {token}x").status_code == 401
    settings.API_TOKEN_MAX_AGE = -1  # every token is already too old
    assert client.get(f"{API}/me/history", **headers).status_code == 401


# --- Member activity ------------------------------------------------------------------------------------------


def test_progress_resume_and_favourites_over_the_api(client, unit, member):
    """Heartbeats save the place for the next device; open/favourite/unfavourite and the /me lists agree."""
    client.force_login(member)
    item = VideoFactory(owning_unit=unit)
    assert client.get(f"{API}/items/{item.pk}/progress").json()["started"] is False
    client.post(f"{API}/items/{item.pk}/open")
    beat = client.post(
        f"{API}/items/{item.pk}/progress",
        _heartbeat(position=300, fraction=0.25, locator="epubcfi(/6/2)"),
        content_type="application/json",
    ).json()
    assert beat["started"] and beat["study_seconds"] == 20
    saved = client.get(f"{API}/items/{item.pk}/progress").json()
    assert (saved["position"], saved["fraction"], saved["locator"]) == (300, 0.25, "epubcfi(/6/2)")
    assert [row["item"]["id"] for row in client.get(f"{API}/me/continue").json()["items"]] == [item.pk]
    assert client.get(f"{API}/me/history").json()["items"][0]["study_seconds"] == 20
    assert client.post(f"{API}/items/{item.pk}/favourite").json() == {"item_id": item.pk, "favourite": True}
    assert client.delete(f"{API}/items/{item.pk}/favourite").json() == {"item_id": item.pk, "favourite": False}
    assert client.get(f"{API}/me/favourites").json()["items"] == []


def test_activity_lists_page_without_gaps(client, unit, member):
    """/me/favourites and /me/history walk every row once through next_cursor."""
    client.force_login(member)
    items = [VideoFactory(owning_unit=unit, title=f"第{n}课") for n in range(8)]
    for item in items:
        client.post(f"{API}/items/{item.pk}/favourite")
        client.post(f"{API}/items/{item.pk}/open")
    for path in ("favourites", "history"):
        ids = _walk(client, f"{API}/me/{path}?limit=3")
        assert sorted(ids) == sorted(item.pk for item in items) and len(ids) == len(set(ids))
    assert client.get(f"{API}/me/history?cursor=garbage").status_code == 422


def test_unreadable_items_refuse_member_writes_with_404(client, unit_tree, unit, member):
    """Heartbeats and favourites for an item the member may not read are 404s, and nothing is stored."""
    client.force_login(member)
    hidden = VideoFactory(owning_unit=unit, access="unit", access_unit=unit_tree["yinan"])
    assert (
        client.post(f"{API}/items/{hidden.pk}/progress", _heartbeat(), content_type="application/json").status_code
        == 404
    )
    assert client.post(f"{API}/items/{hidden.pk}/favourite").status_code == 404
    assert not ItemProgress.objects.exists() and not Favourite.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"position": -5, "active_seconds": 20}', "position"),
        ('{"position": NaN, "active_seconds": 20}', "position"),
        ('{"position": Infinity, "active_seconds": 20}', "position"),
        ('{"position": 1e308, "active_seconds": 20}', "position"),
        ('{"position": 1, "active_seconds": 100000000000000000000000}', "active_seconds"),
        ('{"position": "abc", "active_seconds": 20}', "position"),
        ('{"position": true, "active_seconds": 20}', "position"),
        ('{"position": 1, "active_seconds": 20, "completed": "yes"}', "completed"),
        ('{"position": 1, "active_seconds": 20, "fraction": 2}', "fraction"),
        ('{"position": 1}', "active_seconds"),
        ("[1, 2]", ""),
    ],
)
def test_bad_heartbeats_are_422_with_a_clear_message(client, unit, member, body, field):
    """Negative, NaN, infinite, huge, wrongly typed or missing values are a 422 naming the field; nothing stored."""
    client.force_login(member)
    item = VideoFactory(owning_unit=unit)
    response = client.post(f"{API}/items/{item.pk}/progress", body, content_type="application/json")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("请求参数有误") and field in detail
    assert not ItemProgress.objects.exists()


def test_malformed_json_and_bad_queries_never_500(client, unit, member):
    """Broken JSON is a 400 in Chinese; bad list queries are 422s."""
    client.force_login(member)
    item = VideoFactory(owning_unit=unit)
    broken = client.post(f"{API}/items/{item.pk}/progress", "{position:", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["detail"] == "请求内容不是有效的 JSON"
    for query in ("kind=poem", "sort=random", "year=abc", "limit=0", "limit=1000", "cursor=nonsense"):
        response = client.get(f"{API}/items?{query}")
        assert response.status_code == 422, query
        assert response.json()["detail"]


# --- OpenAPI --------------------------------------------------------------------------------------------------


def test_openapi_describes_every_route(client):
    """openapi.json is served locally and lists every route with its schemas and both auth schemes."""
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    expected = {
        "/api/v1/auth/token": {"post"},
        f"{API}/items": {"get"},
        f"{API}/items/{{item_id}}": {"get"},
        f"{API}/items/{{item_id}}/children": {"get"},
        f"{API}/items/{{item_id}}/renditions": {"get"},
        f"{API}/items/{{item_id}}/pages": {"get"},
        f"{API}/items/{{item_id}}/progress": {"get", "post"},
        f"{API}/items/{{item_id}}/open": {"post"},
        f"{API}/items/{{item_id}}/favourite": {"post", "delete"},
        f"{API}/me/favourites": {"get"},
        f"{API}/me/history": {"get"},
        f"{API}/me/continue": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
    assert {"ProgressIn", "ProgressOut", "ItemDetail", "RenditionsOut", "ErrorOut"} <= set(
        schema["components"]["schemas"]
    )
    # Members' and apps' (token, session); screens' (a device credential, and the pairing poll's own secret).
    assert set(schema["components"]["securitySchemes"]) == {"BearerAuth", "SessionAuth", "DeviceAuth", "PairingAuth"}
    post = paths[f"{API}/items/{{item_id}}/progress"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("ProgressIn")


# --- Out-of-range input and the schema's honesty (issue 16) ---------------------------------------------------


def test_out_of_range_integers_are_a_clear_422_never_a_500(client, unit, member):
    """``?unit=9223372036854775808`` (one past what a database integer holds), and numbers past 64 bits inside a
    cursor, answer 422 with a Chinese detail naming the parameter, for anyone; the largest 64-bit unit id is
    simply a unit with no items."""
    VideoFactory(owning_unit=unit)
    for query in ("unit=9223372036854775808", "unit=-9223372036854775809", "unit=99999999999999999999999"):
        response = client.get(f"{API}/items?{query}")
        assert response.status_code == 422, query
        assert response.json()["detail"].startswith("请求参数有误：unit") and response.json()["errors"][0]["field"]
    assert client.get(f"{API}/items?unit=9223372036854775807").json()["items"] == []
    for query in ("clc=%00", "tag=a%00b"):  # PostgreSQL cannot compare text with a NUL: refused before it is asked
        response = client.get(f"{API}/items?{query}")
        assert response.status_code == 422 and response.json()["detail"].startswith("请求参数有误"), query
    for query in ("cursor=1_99999999999999999999", "sort=popular&cursor=99999999999999999999_1"):
        assert client.get(f"{API}/items?{query}").status_code == 422, query
    client.force_login(member)
    assert client.get(f"{API}/me/history?cursor=1_99999999999999999999").status_code == 422


def test_schema_lists_each_security_scheme_once_and_the_errors_really_given(client):
    """Every operation names each security scheme at most once (public ones: Bearer, session, or none); every
    operation with parameters or a body lists 422, one with a JSON body 400, a members' one 401 and an unsafe one
    a session may call 403; cursor and unit describe their exact form and bounds."""
    schema = client.get("/api/v1/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            security = operation.get("security", [])
            assert len(security) == len({json.dumps(entry, sort_keys=True) for entry in security}), (path, method)
            responses = set(operation["responses"])
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in responses, (path, method)
            if operation.get("requestBody"):
                assert "400" in responses, (path, method)
            if security and {} not in security:
                assert "401" in responses, (path, method)
    items = {parameter["name"]: parameter for parameter in schema["paths"][f"{API}/items"]["get"]["parameters"]}
    unit = items["unit"]["schema"]["anyOf"][0]
    assert (unit["minimum"], unit["maximum"]) == (1, 2**63 - 1) and "9223372036854775807" in items["unit"][
        "description"
    ]
    cursor = items["cursor"]["schema"]["anyOf"][0]
    assert cursor["pattern"] and "next_cursor" in items["cursor"]["description"]
    assert schema["paths"]["/api/v1/auth/token"]["post"]["responses"].keys() >= {"401", "429"}


def test_a_bounded_schemathesis_run_finds_no_500_and_no_schema_violation(member):
    """Schemathesis generates valid and invalid requests for every library operation from the served schema (a
    few examples each, as a member with a bearer token): no answer is a server error, and every answer's status
    code, content type and body are what the schema declares, so a client generated from it works."""
    import schemathesis
    from django.core import signals
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import close_old_connections
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    VideoFactory(owning_unit=member.org_unit, title="公开课")
    # Uncompressed answers (schemathesis does not unzip), and the test's database connection kept open.
    headers = {"Authorization": f"Bearer {api_token_for(member)}", "Accept-Encoding": "identity"}
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    failures = []
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
        for result in schema.get_all_operations():
            operation = result.ok()
            if not operation.path.startswith(API):
                continue
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(max_examples=3, deadline=None, database=None, suppress_health_check=list(HealthCheck))
                def run(case):
                    case.validate_response(case.call(headers=headers), checks=checks)

                try:
                    run()
                except Exception as error:  # noqa: BLE001 (hypothesis raises schemathesis' failure group: list all)
                    failures.append(f"{operation.label} [{mode.value}]: {str(error).strip()[:800]}")
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert not failures, "\n\n".join(failures)
