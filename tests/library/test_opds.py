"""The OPDS 1.2 catalogue: well-formed Atom that reading apps parse, keyset pages, Basic sign-in, and acquisition
links only for those who may download."""

import base64
import io
import re
from datetime import timedelta

import feedparser
import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.cache import cache
from django.core.files.images import ImageFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from lxml import etree
from PIL import Image

from cms.models import LighthouseImage
from cms.services import member_create
from library.models import ItemList, ItemListEntry, LibraryItem
from library.services import library_item_credits_set
from media_pipeline.models import MediaAsset, Rendition, TranscodeJob
from tests.factories import EbookFactory, MemberFactory, PeriodicalFactory, VideoFactory

pytestmark = pytest.mark.django_db

ATOM = "http://www.w3.org/2005/Atom"
NS = {"a": ATOM, "dc": "http://purl.org/dc/terms/", "os": "http://a9.com/-/spec/opensearch/1.1/"}
NAVIGATION = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
OPEN_ACCESS = "http://opds-spec.org/acquisition/open-access"
ACQUIRE = "http://opds-spec.org/acquisition"
PASSWORD = "pw-123456"


@pytest.fixture
def member(unit):
    return MemberFactory(username="zhang", password=PASSWORD, real_name="张三", org_unit=unit)


def _basic(username="zhang", password=PASSWORD) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def _pdf_asset(name="book.pdf", document_format="pdf") -> MediaAsset:
    probe = {"document_format": document_format} if document_format else {}
    return MediaAsset.objects.create(file=f"uploads/2026/11/{name}", original_name=name, kind="document", probe=probe)


def _feed(response, content_type=ACQUISITION):
    """Both parsers must accept it: feedparser (what reading apps resemble) and lxml (the structure)."""
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith(content_type)
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{ATOM}}}feed"
    # Namespaces are declared once, on the root: no element re-declares or adds one.
    assert all(element.nsmap == root.nsmap for element in root.iter(etree.Element))
    for link in root.iter(f"{{{ATOM}}}link"):
        # Absolute: ours, or (images on S3) a presigned storage URL.
        assert link.get("href", "").startswith("http://") and link.get("rel") and link.get("type")
    return parsed, root


def _entries_by_title(root) -> dict:
    return {entry.findtext("a:title", namespaces=NS): entry for entry in root.findall("a:entry", NS)}


def _links(element, rel=None) -> list:
    links = element.findall("a:link", NS)
    return [link for link in links if rel is None or link.get("rel") == rel]


def test_root_is_a_navigation_feed_with_the_four_ways_in(client):
    """/opds/ is an OPDS navigation feed: newest e-books and periodicals, the classes, the collections, and a
    search link to the OpenSearch description."""
    parsed, root = _feed(client.get("/opds/"), NAVIGATION)
    assert [entry.title for entry in parsed.entries] == ["最新电子书", "最新期刊", "按分类浏览", "专题"]
    entries = _entries_by_title(root)
    newest = _links(entries["最新电子书"])[0]
    assert newest.get("href").endswith("/opds/new/ebook/") and newest.get("type") == ACQUISITION
    assert _links(entries["按分类浏览"])[0].get("type") == NAVIGATION
    search = _links(root, "search")[0]
    assert search.get("href").endswith("/opds/opensearch.xml")
    assert search.get("type") == "application/opensearchdescription+xml"


def test_newest_ebooks_page_by_keyset_to_the_end_without_duplicates(client, unit):
    """120 e-books (some published at the same instant) come 50 a page, newest first; following rel=next
    reaches every one exactly once, every page links to the first, and the last page has no next."""
    now = timezone.now()
    same = now - timedelta(days=3)
    books = [
        LibraryItem(
            title=f"书{index}",
            kind="ebook",
            owning_unit=unit,
            published_at=same if index % 3 == 0 else now - timedelta(minutes=index),
        )
        for index in range(120)
    ]
    LibraryItem.objects.bulk_create(books)
    VideoFactory(owning_unit=unit, title="一段视频")
    PeriodicalFactory(owning_unit=unit, title="一份期刊")
    seen, url, pages = [], "/opds/new/ebook/", 0
    while url:
        parsed, root = _feed(client.get(url))
        pages += 1
        seen.extend(entry.id for entry in parsed.entries)
        assert _links(root, "first")[0].get("href") == "http://testserver/opds/new/ebook/"
        next_links = _links(root, "next")
        assert len(parsed.entries) == (50 if next_links else 20)
        url = next_links[0].get("href") if next_links else None
    assert pages == 3 and len(seen) == len(set(seen)) == 120
    titles = [entry.title for entry in feedparser.parse(client.get("/opds/new/ebook/").content).entries]
    assert titles[0] == "书1" and "一段视频" not in titles and "一份期刊" not in titles


def test_damaged_cursor_is_a_clear_400(client):
    """A hand-edited next link gets 400 with a Chinese explanation, not a server error."""
    response = client.get("/opds/new/ebook/?cursor=abc")
    assert response.status_code == 400 and "翻页参数无效" in response.content.decode()


def test_anonymous_sees_public_items_and_a_basic_auth_member_sees_members_items(client, unit, member):
    """Without credentials only public items are listed; with a member's Basic credentials (or their browser
    session) members-only items appear too; a wrong password gets a 401 challenge whose header is plain ASCII
    (realm Lighthouse, charset UTF-8), the Chinese prompt in its body."""
    EbookFactory(owning_unit=unit, title="公开读物")
    EbookFactory(owning_unit=unit, title="党员读物", access="members")
    anonymous = [entry.title for entry in _feed(client.get("/opds/new/ebook/"))[0].entries]
    assert anonymous == ["公开读物"]
    with_basic = [entry.title for entry in _feed(client.get("/opds/new/ebook/", **_basic()))[0].entries]
    assert set(with_basic) == {"公开读物", "党员读物"}
    response = client.get("/opds/new/ebook/", **_basic(password="wrong"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].encode("ascii") == b'Basic realm="Lighthouse", charset="UTF-8"'
    assert "灯塔" in response.content.decode()
    assert "Authorization" in client.get("/opds/new/ebook/")["Vary"]  # caches keep each requester's copy apart
    client.force_login(member)
    assert len(_feed(client.get("/opds/new/ebook/"))[0].entries) == 2


def test_login_route_and_auth_parameter_challenge_until_signed_in(client, member):
    """/opds/login/ and /opds/?auth=1 answer 401 to an anonymous reader (so KOReader asks for the password) and
    the catalogue once the credentials are right; plain /opds/ never challenges."""
    for url in ("/opds/login/", "/opds/?auth=1"):
        response = client.get(url)
        assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Basic realm=")
        _feed(client.get(url, **_basic()), NAVIGATION)
    assert client.get("/opds/").status_code == 200


def test_acquisition_links_follow_the_download_right(client, unit, member, library_page):
    """A public PDF anyone may download gets an open-access link of type application/pdf to the download view;
    an item without download rights gets none, only its website page to read it online (在线阅读); a
    members-download EPUB gets a plain acquisition link only for a signed-in member, its type taken from the file
    name when the pipeline has not said."""
    free = EbookFactory(owning_unit=unit, title="开放下载", download="readers", media_asset=_pdf_asset())
    EbookFactory(owning_unit=unit, title="只能在线读", download="none", media_asset=_pdf_asset("b.pdf"))
    epub = EbookFactory(
        owning_unit=unit, title="党员可下载", download="members", media_asset=_pdf_asset("c.epub", document_format="")
    )

    entries = _entries_by_title(_feed(client.get("/opds/new/ebook/"))[1])
    (link,) = _links(entries["开放下载"], OPEN_ACCESS)
    assert link.get("type") == "application/pdf"
    assert link.get("href") == f"http://testserver/library-files/items/{free.pk}/download/"
    for title in ("只能在线读", "党员可下载"):
        assert not [x for x in _links(entries[title]) if x.get("rel", "").startswith(ACQUIRE)]
    (online,) = _links(entries["只能在线读"], "alternate")
    assert online.get("title") == "在线阅读" and online.get("type") == "text/html"

    entries = _entries_by_title(_feed(client.get("/opds/new/ebook/", **_basic()))[1])
    (link,) = _links(entries["党员可下载"], ACQUIRE)
    assert link.get("type") == "application/epub+zip"
    assert link.get("href").endswith(f"/library-files/items/{epub.pk}/download/")
    assert not [x for x in _links(entries["只能在线读"]) if x.get("rel", "").startswith(ACQUIRE)]


def test_acquisition_link_downloads_with_the_readers_basic_credentials(client, unit, member):
    """A reading app follows the acquisition link with the same Basic credentials it browsed with: the download
    view accepts them (a signed redirect to the file); without them, or with a wrong password, the file stays hidden."""
    epub = EbookFactory(
        owning_unit=unit, title="党员可下载", access="members", download="members", media_asset=_pdf_asset("c.epub")
    )
    url = f"/library-files/items/{epub.pk}/download/"
    assert client.get(url).status_code == 404
    assert client.get(url, **_basic(password="wrong")).status_code == 401
    response = client.get(url, **_basic())
    location = response["Location"]  # an attachment: our signed local URL's dl=, or S3's response disposition
    assert response.status_code == 302 and ("dl=" in location or "response-content-disposition=attachment" in location)


def _png(size=(300, 450)) -> ImageFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (180, 30, 30)).save(buffer, "PNG")
    return ImageFile(buffer, name="cover.png")


def test_entries_carry_the_catalogue_description_and_covers(local_media, client, unit):
    """An entry has a stable urn:uuid id, authors from the credits (others as contributors), ISBN, language,
    issue date, publisher, the CLC class with its label, the summary, and image/thumbnail links: Wagtail
    renditions of the cover image, else the cover the pipeline took from the document (a signed link)."""
    cover = LighthouseImage.objects.create(title="封面", file=_png())
    book = EbookFactory(
        owning_unit=unit,
        title="红楼梦",
        isbn="9787020002207",
        language="zh",
        issued=timezone.localdate().replace(year=1982, month=3, day=1),
        publisher="人民文学出版社",
        clc="I242.4",
        summary="中国古典小说。",
        cover=cover,
    )
    library_item_credits_set(item=book, credits=[("曹雪芹", "author"), ("高鹗", "other"), ("启功", "annotator")])
    asset = _pdf_asset()
    plain = EbookFactory(
        owning_unit=unit, title="无封面图的书", media_asset=asset, published_at=timezone.now() - timedelta(days=1)
    )
    job = TranscodeJob.objects.create(asset=asset, group="document", state="done")
    Rendition.objects.create(
        asset=asset, job=job, profile="document_cover", kind="image", path=f"renditions/{asset.pk}/{job.pk}/cover.jpg"
    )

    parsed, root = _feed(client.get("/opds/new/ebook/"))
    first = parsed.entries[0]
    assert first.id.startswith("urn:uuid:") and first.id == _feed(client.get("/opds/new/ebook/"))[0].entries[0].id
    assert first.author_detail.name == "曹雪芹" and first.summary == "中国古典小说。"
    assert [tag.term for tag in first.tags] == ["I242.4"] and "I 文学" in first.tags[0].label
    entry = _entries_by_title(root)["红楼梦"]
    assert [a.findtext("a:name", namespaces=NS) for a in entry.findall("a:author", NS)] == ["曹雪芹"]
    assert [c.findtext("a:name", namespaces=NS) for c in entry.findall("a:contributor", NS)] == ["高鹗", "启功"]
    assert entry.findtext("dc:identifier", namespaces=NS) == "urn:isbn:9787020002207"
    assert entry.findtext("dc:language", namespaces=NS) == "zh"
    assert entry.findtext("dc:issued", namespaces=NS) == "1982-03-01"
    assert entry.findtext("dc:publisher", namespaces=NS) == "人民文学出版社"
    image, thumbnail = (
        _links(entry, "http://opds-spec.org/image"),
        _links(entry, "http://opds-spec.org/image/thumbnail"),
    )
    assert "/media/images/" in image[0].get("href") and image[0].get("type") == "image/png"
    assert image[0].get("href") != thumbnail[0].get("href")
    assert client.get(image[0].get("href").removeprefix("http://testserver")).status_code == 200

    other = _entries_by_title(root)[plain.title]
    href = _links(other, "http://opds-spec.org/image")[0].get("href")
    assert f"/media/renditions/{asset.pk}/" in href and "s=" in href


def test_classes_and_their_feeds(client, unit):
    """按分类浏览 lists the basic classes that hold something (here A and D of the 22), each entry with content; a
    class feed holds the e-books and periodicals whose code starts with its letter; a letter the scheme does not
    use is a 404."""
    EbookFactory(owning_unit=unit, title="党建读本", clc="D261.4")
    PeriodicalFactory(owning_unit=unit, title="党史期刊", clc="D2")
    VideoFactory(owning_unit=unit, title="党史视频", clc="D2")
    EbookFactory(owning_unit=unit, title="马克思选集", clc="A1")
    parsed, root = _feed(client.get("/opds/clc/"), NAVIGATION)
    assert [entry.title[0] for entry in parsed.entries] == ["A", "D"] and parsed.entries[1].title.startswith("D 政治")
    assert _links(root.findall("a:entry", NS)[1])[0].get("href").endswith("/opds/clc/D/")
    assert all(entry.findtext("a:content", namespaces=NS) for entry in root.findall("a:entry", NS))
    titles = {entry.title for entry in _feed(client.get("/opds/clc/D/"))[0].entries}
    assert titles == {"党建读本", "党史期刊"}
    assert client.get("/opds/clc/L/").status_code == 404


def test_periodical_title_leads_to_its_issues(client, unit, member, library_page):
    """A periodical title is an entry with a subsection link to a feed of its issues in order; a members-only
    issue is left out for an anonymous reader."""
    title = PeriodicalFactory(owning_unit=unit, title="求是", role="series")
    for position in (1, 2):
        PeriodicalFactory(
            owning_unit=unit,
            title="求是",
            number=f"2026年第{position}期",
            role="issue",
            parent=title,
            position=position,
        )
    PeriodicalFactory(
        owning_unit=unit, title="求是", number="内部版", role="issue", parent=title, position=3, access="members"
    )
    entry = _entries_by_title(_feed(client.get("/opds/new/periodical/"))[1])["求是"]
    (link,) = _links(entry, "subsection")
    assert link.get("href") == f"http://testserver/opds/periodicals/{title.pk}/" and link.get("type") == ACQUISITION
    issues = [e.title for e in _feed(client.get(f"/opds/periodicals/{title.pk}/"))[0].entries]
    assert issues == ["求是 2026年第1期", "求是 2026年第2期"]
    assert len(_feed(client.get(f"/opds/periodicals/{title.pk}/", **_basic()))[0].entries) == 3
    assert client.get(f"/opds/periodicals/{title.pk + 1}/").status_code == 404


def test_collections_list_their_books(client, unit):
    """专题 lists published collections on show; a collection's feed has its e-books in the editor's order and
    leaves out other kinds."""
    first, second = EbookFactory(owning_unit=unit, title="第一本"), EbookFactory(owning_unit=unit, title="第二本")
    video = VideoFactory(owning_unit=unit, title="配套视频")
    collection = ItemList.objects.create(title="学习二十大", slug="ershida", kind="collection", owning_unit=unit)
    for order, item in enumerate((second, video, first)):
        ItemListEntry.objects.create(list=collection, item=item, sort_order=order)
    ItemList.objects.create(title="已下线", slug="old", kind="collection", owning_unit=unit, is_published=False)
    parsed, _root = _feed(client.get("/opds/lists/"), NAVIGATION)
    assert [entry.title for entry in parsed.entries] == ["学习二十大"]
    assert [entry.title for entry in _feed(client.get("/opds/lists/ershida/"))[0].entries] == ["第二本", "第一本"]
    assert client.get("/opds/lists/old/").status_code == 404


def test_opensearch_description_and_search(client, unit, member, settings):
    """The OpenSearch description parses and points at /opds/search?q={searchTerms}; searching finds matching
    e-books (members-only ones only with credentials) and never other kinds."""
    from search.services import search_outbox_drain_all

    settings.SEARCH_URL = ""  # the embedded index
    response = client.get("/opds/opensearch.xml")
    assert response["Content-Type"].startswith("application/opensearchdescription+xml")
    description = etree.fromstring(response.content)
    url = description.find("os:Url", NS)
    assert url.get("template") == "http://testserver/opds/search?q={searchTerms}" and url.get("type") == ACQUISITION
    assert description.findtext("os:ShortName", namespaces=NS)

    EbookFactory(owning_unit=unit, title="红楼梦")
    EbookFactory(owning_unit=unit, title="红楼梦研究", access="members")
    VideoFactory(owning_unit=unit, title="红楼梦讲座")
    EbookFactory(owning_unit=unit, title="西游记")
    search_outbox_drain_all()
    parsed, root = _feed(client.get("/opds/search", {"q": "红楼梦"}))
    assert [entry.title for entry in parsed.entries] == ["红楼梦"]
    assert root.findtext("os:totalResults", namespaces=NS) == "1"
    titles = {entry.title for entry in _feed(client.get("/opds/search", {"q": "红楼梦"}, **_basic()))[0].entries}
    assert titles == {"红楼梦", "红楼梦研究"}
    assert _feed(client.get("/opds/search", {"q": ""}))[0].entries == []


@pytest.mark.parametrize(
    "url",
    [
        "/opds/new/ebook/?cursor=99999999999999999999999_1",
        "/opds/new/ebook/?cursor=-99999999999999999999999_1",
        "/opds/new/periodical/?cursor=1_99999999999999999999999",
        "/opds/clc/D/?cursor=253402300800000000_1",  # just past 9999-12-31
        "/opds/search?q=x&page=99999999999999999999",
        "/opds/search?q=x&page=10001",
        "/opds/lists/ershida/?page=99999999999999999999",
    ],
)
def test_out_of_range_paging_is_a_clear_400(client, unit, url):
    """Cursors whose numbers no date or id can have, and page numbers past 10,000, get the Chinese 400 instead
    of an OverflowError (a 500)."""
    ItemList.objects.create(title="学习二十大", slug="ershida", kind="collection", owning_unit=unit)
    response = client.get(url)
    assert response.status_code == 400 and "翻页参数无效" in response.content.decode()


def test_a_search_page_past_the_last_is_a_clear_400(client, settings):
    """A search that finds nothing answers page 1 with totalResults 0 and no startIndex or itemsPerPage (nothing to
    page through); any later page (10,000 included) is past the last and gets the Chinese 400."""
    settings.SEARCH_URL = ""  # the embedded index
    parsed, root = _feed(client.get("/opds/search", {"q": "x"}))
    assert parsed.entries == [] and root.findtext("os:totalResults", namespaces=NS) == "0"
    assert root.find("os:startIndex", NS) is None and root.find("os:itemsPerPage", NS) is None
    for page in ("2", "10000"):
        response = client.get("/opds/search", {"q": "x", "page": page})
        assert response.status_code == 400 and "翻页参数无效" in response.content.decode()


def test_control_characters_in_titles_do_not_break_the_feed(client, unit):
    """Characters XML cannot carry (\\x0b, \\x0c, \\x1f from an old import;
    PostgreSQL refuses \\x00 outright) are left out of titles, summaries, credits
    and collection names instead of turning the whole feed into a server error."""
    book = EbookFactory(
        owning_unit=unit, title="红\x0b楼\x08梦", summary="中国\x0c古典小说。", publisher="人民\x1f文学"
    )
    library_item_credits_set(item=book, credits=[("曹\x08雪芹", "author")])
    collection = ItemList.objects.create(
        title="学习\x0b二十大", slug="ershida", kind="collection", owning_unit=unit, summary="\x01专题"
    )
    ItemListEntry.objects.create(list=collection, item=book, sort_order=0)
    parsed, _root = _feed(client.get("/opds/new/ebook/"))
    (entry,) = parsed.entries
    assert entry.title == "红楼梦" and entry.summary == "中国古典小说。" and entry.author_detail.name == "曹雪芹"
    assert [e.title for e in _feed(client.get("/opds/lists/"), NAVIGATION)[0].entries] == ["学习二十大"]
    assert [e.title for e in _feed(client.get("/opds/lists/ershida/"))[0].entries] == ["红楼梦"]


def test_collections_outside_their_display_window_are_neither_listed_nor_reachable(client, unit):
    """A collection whose 结束展示 has passed, or whose 开始展示 is still to come, is not in 专题 and its feed is a
    404; one whose window includes today is both."""
    book = EbookFactory(owning_unit=unit, title="第一本")
    today = timezone.localdate()
    windows = {
        "over": (today - timedelta(days=30), today - timedelta(days=1)),
        "later": (today + timedelta(days=1), None),
        "now": (today, today),
    }
    for slug, (starts_on, ends_on) in windows.items():
        shown = ItemList.objects.create(
            title=slug, slug=slug, kind="collection", owning_unit=unit, starts_on=starts_on, ends_on=ends_on
        )
        ItemListEntry.objects.create(list=shown, item=book, sort_order=0)
    assert [entry.title for entry in _feed(client.get("/opds/lists/"), NAVIGATION)[0].entries] == ["now"]
    assert [entry.title for entry in _feed(client.get("/opds/lists/now/"))[0].entries] == ["第一本"]
    assert client.get("/opds/lists/over/").status_code == 404
    assert client.get("/opds/lists/later/").status_code == 404


def _books_with_covers(unit, count: int, start: int = 0) -> None:
    for index in range(start, start + count):
        cover = LighthouseImage.objects.create(title=f"封面{index}", file=_png((30, 45)))
        EbookFactory(
            owning_unit=unit, title=f"书{index}", cover=cover, published_at=timezone.now() - timedelta(minutes=index)
        )


def _feed_queries(client, url: str) -> int:
    """Queries of one request, renditions already made and Wagtail's rendition cache empty (as after a restart
    or on another worker), so every rendition must come from the database."""
    _feed(client.get(url))  # makes the renditions the first time
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        _feed(client.get(url))
    return len(queries)


def test_a_page_of_50_costs_the_queries_of_a_page_of_5(
    local_media, client, unit, library_page, django_assert_max_num_queries
):
    """Covers (image and thumbnail renditions) and the website links of the entries are fetched once per feed,
    not per entry: 50 entries with covers take no more queries than 5."""
    _books_with_covers(unit, 5)
    five = _feed_queries(client, "/opds/new/ebook/")
    _books_with_covers(unit, 45, start=5)
    _feed(client.get("/opds/new/ebook/"))
    cache.clear()
    with django_assert_max_num_queries(five):
        parsed, root = _feed(client.get("/opds/new/ebook/"))
    assert len(parsed.entries) == 50
    for entry in root.findall("a:entry", NS):
        assert len(_links(entry, "http://opds-spec.org/image")) == len(_links(entry, "alternate")) == 1


class CountingHasher(MD5PasswordHasher):
    """The test hasher, counting password checks (the slow PBKDF2 in production)."""

    algorithm = "counting_md5"
    checks = 0

    def verify(self, password, encoded):
        CountingHasher.checks += 1
        return super().verify(password, encoded)


@pytest.fixture
def counted(settings, unit):
    settings.PASSWORD_HASHERS = ["tests.library.test_opds.CountingHasher"]
    CountingHasher.checks = 0
    return member_create(username="wang", password=PASSWORD, real_name="王五", org_unit=unit)


def test_a_passed_password_check_is_remembered_until_the_password_changes(client, counted, settings):
    """A reading app sends the password with every request: it is checked once, then remembered (no password
    hash per request); a changed password ends that at once, for the old password, and the new one works."""
    # Django's in-memory cache, so the test can look at every stored key and value.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    for _index in range(3):
        assert client.get("/opds/", **_basic("wang")).status_code == 200
    assert CountingHasher.checks == 1
    # Only digests are stored (the cache here is Django's in-memory one: keys, and pickled values).
    assert all(PASSWORD not in key and PASSWORD.encode() not in value for key, value in cache._cache.items())
    counted.set_password("new-pw-654321")
    counted.save()
    assert client.get("/opds/", **_basic("wang")).status_code == 401
    assert client.get("/opds/", **_basic("wang", "new-pw-654321")).status_code == 200
    counted.is_active = False
    counted.save()
    assert client.get("/opds/", **_basic("wang", "new-pw-654321")).status_code == 401


def test_repeated_wrong_passwords_are_throttled_per_username_and_address(client, counted, settings):
    """Wrong passwords for one username from one address: the attempt that reaches the sign-in limit, and every one
    after it (even the right password), gets 429 in Chinese without the password being checked; the same username
    from another address, and another username from the same one, are not affected (cms.login_throttle)."""
    member_create(username="zhao", password=PASSWORD, real_name="赵六", org_unit=counted.org_unit)
    limit = settings.SIGN_IN_LIMITS["account_address"]
    for _index in range(limit - 1):
        assert client.get("/opds/login/", **_basic("wang", "wrong")).status_code == 401
    assert client.get("/opds/login/", **_basic("wang", "wrong")).status_code == 429
    checks = CountingHasher.checks
    response = client.get("/opds/login/", **_basic("wang"))
    assert response.status_code == 429 and "密码错误次数过多" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert CountingHasher.checks == checks
    assert client.get("/opds/login/", REMOTE_ADDR="10.0.0.2", **_basic("wang")).status_code == 200
    assert client.get("/opds/login/", **_basic("zhao")).status_code == 200


def _atom_rules(root) -> None:
    """RFC 4287's rules for a feed and its entries, checked with lxml: the feed has one id, title and updated and
    an author (or every entry has one); every entry has one id, title and updated, and content or a
    rel="alternate" link (§4.1.1.1); every updated is an RFC 3339 date."""
    for tag in ("id", "title", "updated"):
        assert len(root.findall(f"a:{tag}", NS)) == 1, tag
    entries = root.findall("a:entry", NS)
    assert root.find("a:author", NS) is not None or all(e.find("a:author", NS) is not None for e in entries)
    for entry in entries:
        for tag in ("id", "title", "updated"):
            assert len(entry.findall(f"a:{tag}", NS)) == 1, (tag, entry.findtext("a:title", namespaces=NS))
        assert entry.find("a:content", NS) is not None or _links(entry, "alternate"), etree.tostring(entry)
    for stamp in root.iter(f"{{{ATOM}}}updated"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", stamp.text), stamp.text


def test_a_crawl_of_the_whole_catalogue_keeps_the_atom_rules(client, unit, library_page):
    """Following every navigation, subsection and next link from /opds/ (classes, collections, newest, a
    periodical's issues) reaches only feeds that feedparser reads cleanly and that keep RFC 4287's rules; the class
    index lists only classes with something in them, and an issue with download "none" is reached with its
    reading link."""
    EbookFactory(owning_unit=unit, title="党建读本", clc="D261.4", download="readers", media_asset=_pdf_asset())
    title = PeriodicalFactory(owning_unit=unit, title="求是", role="series", clc="D2")
    PeriodicalFactory(owning_unit=unit, title="求是", number="第1期", role="issue", parent=title, download="none")
    collection = ItemList.objects.create(title="学习二十大", slug="ershida", kind="collection", owning_unit=unit)
    ItemListEntry.objects.create(list=collection, item=title, sort_order=0)
    seen, queue, titles = set(), ["http://testserver/opds/"], set()
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        parsed, root = _feed(response, response["Content-Type"].split(";charset")[0])
        _atom_rules(root)
        titles |= {entry.title for entry in parsed.entries}
        for link in root.iter(f"{{{ATOM}}}link"):
            if "profile=opds-catalog" in link.get("type") and link.get("rel") not in ("self", "start", "first"):
                queue.append(link.get("href"))
    assert "http://testserver/opds/clc/D/" in seen and "http://testserver/opds/clc/A/" not in seen
    assert {"党建读本", "求是", "求是 第1期"} <= titles and len(seen) >= 7


def test_search_pages_keep_their_opensearch_numbers(client, unit, settings, monkeypatch):
    """Paging a search by its own numbers reaches every result once: each page but the last holds exactly
    itemsPerPage entries (e-books, then periodicals, a page may hold both), startIndex moves on by itemsPerPage
    and never passes totalResults, rel=next stops at the last page and the page after it is a 400; a members-only
    e-book is neither listed nor counted for an anonymous app."""
    from search.services import search_outbox_drain_all

    settings.SEARCH_URL = ""  # the embedded index
    monkeypatch.setattr("library.feeds.opds.PER_PAGE", 4)  # 11 results make three pages, one across the kinds
    for index in range(6):
        EbookFactory(owning_unit=unit, title=f"红色读本{index}")
    for index in range(5):
        PeriodicalFactory(owning_unit=unit, title=f"红旗期刊{index}")
    EbookFactory(owning_unit=unit, title="红色内部读本", access="members")
    search_outbox_drain_all()
    url, seen, expected_start, pages = "/opds/search?q=红", [], 1, 0
    while url:
        parsed, root = _feed(client.get(url))
        total = int(root.findtext("os:totalResults", namespaces=NS))
        per_page, start = (int(root.findtext(f"os:{tag}", namespaces=NS)) for tag in ("itemsPerPage", "startIndex"))
        assert total == 11 and per_page == 4 and start == expected_start <= total
        next_links = _links(root, "next")
        assert len(parsed.entries) == (per_page if next_links else total - start + 1)
        seen += [entry.title for entry in parsed.entries]
        expected_start, pages = start + per_page, pages + 1
        url = next_links[0].get("href") if next_links else None
    assert pages == 3 and len(seen) == len(set(seen)) == 11 and "红色内部读本" not in seen
    assert [title[:2] for title in seen] == ["红色"] * 6 + ["红旗"] * 5
    assert client.get("/opds/search", {"q": "红", "page": "4"}).status_code == 400


def test_an_issue_without_download_is_read_online_or_left_out(client, unit, member, library_page):
    """A periodical issue with download "none" has no acquisition link: its entry leads to the issue's page, where
    the website's reader applies the access rule again (a members-only issue's entry, and so its link, appear only
    to a member); with no website page to read it on, the entry is left out instead of being a dead end."""
    title = PeriodicalFactory(owning_unit=unit, title="求是", role="series")
    issue = PeriodicalFactory(owning_unit=unit, title="求是", number="第1期", role="issue", parent=title, position=1)
    PeriodicalFactory(
        owning_unit=unit, title="求是", number="党员版", role="issue", parent=title, position=2, access="members"
    )
    url = f"/opds/periodicals/{title.pk}/"
    entries = _entries_by_title(_feed(client.get(url))[1])
    assert list(entries) == ["求是 第1期"]
    (link,) = _links(entries["求是 第1期"], "alternate")
    assert link.get("title") == "在线阅读" and link.get("href") == f"http://testserver/library/item/{issue.pk}/"
    assert not [x for x in _links(entries["求是 第1期"]) if x.get("rel", "").startswith(ACQUIRE)]
    assert client.get(link.get("href")).status_code == 200
    assert len(_feed(client.get(url, **_basic()))[0].entries) == 2
    library_page.delete()
    assert _feed(client.get(url))[0].entries == []


def test_downloads_name_the_file_in_ascii_and_in_utf8(local_media, client, unit):
    """The download's Content-Disposition carries both RFC 6266 names: an ASCII ``filename`` for apps that read no
    other, and ``filename*`` with the real Chinese title in UTF-8 (what every current browser and app saves)."""
    from urllib.parse import unquote

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    stored = default_storage.save("uploads/2026/12/hy.pdf", ContentFile(b"%PDF-1.7 x"))
    asset = MediaAsset.objects.create(file=stored, original_name="hy.pdf", kind="document")
    book = EbookFactory(owning_unit=unit, title="红岩 Hongyan", download="readers", media_asset=asset)
    nameless = EbookFactory(owning_unit=unit, title="红岩", download="readers", media_asset=asset)
    redirect = client.get(f"/library-files/items/{book.pk}/download/")
    disposition = client.get(redirect["Location"])["Content-Disposition"]
    assert disposition == "attachment; filename=\"Hongyan.pdf\"; filename*=UTF-8''%E7%BA%A2%E5%B2%A9%20Hongyan.pdf"
    assert unquote(disposition.partition("filename*=UTF-8''")[2]) == "红岩 Hongyan.pdf"
    other = client.get(client.get(f"/library-files/items/{nameless.pk}/download/")["Location"])
    assert other["Content-Disposition"].startswith('attachment; filename="download.pdf"; filename*=UTF-8')
