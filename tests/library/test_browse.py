"""The library's browse pages: filters, sorts, keyset pages, counts, creator pages and curated lists."""

import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.images import ImageFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cms.models import LighthouseImage, OrgUnit
from library.facets import facet_counts_refresh
from library.models import ItemCredit, ItemList, ItemListEntry, LibraryItem
from library.site.cards import CARDS_EAGER, card_renditions_make
from media_pipeline.synthetic.documents import png_bytes
from tests.factories import MemberFactory

# Items of the demo tree's units (the filters name them: tests/factories.py) under the library page.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unit_tree", "library_page")]

URL = "/library/"
# Wagtail's routing (site, pages, view restrictions: 6), a member's session, user and unit (3), then the page's
# own: items, facet counts, unit names, tag names, 本月推荐 (5). Cover renditions add one when there are covers.
MAX_QUERIES = 14


@pytest.fixture
def member(unit_tree):
    return MemberFactory(username="dangyuan", org_unit=unit_tree["binzhou"])


def _unit(code):
    return OrgUnit.objects.get(code=code)


def _items(count, **fields):
    """``count`` listed items, several sharing a publication time and a read count (ties the keyset must break)."""
    now = timezone.now().replace(microsecond=0)
    rows = [
        LibraryItem(
            kind=fields.get("kind", ("video", "audio", "ebook")[n % 3]),
            title=f"条目{n:03d}",
            owning_unit=_unit(fields.get("unit", "shandong")),
            published_at=now - timedelta(hours=n // 4),
            read_count=(n * 7) % 5,
            year=fields.get("year", 2020 + n % 3),
            clc=fields.get("clc", ""),
            access=fields.get("access", "public"),
            access_unit=_unit("zouping") if fields.get("access") == "unit" else None,
        )
        for n in range(count)
    ]
    return LibraryItem.objects.bulk_create(rows)


def _walk(client, url):
    """Every title on every page, following 下一页 links; and the number of pages."""
    base, titles, pages = urlsplit(url).path, [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        titles += [item.title for item in response.context["items"]]
        pages += 1
        url = response.context["next_url"] and base + response.context["next_url"]
    return titles, pages


@pytest.mark.parametrize("sort", ["newest", "popular"])
def test_keyset_walks_every_item_once(client, sort):
    """Following next links through 60 items (24 a page) shows each exactly once in the sort's order, though
    many share a publication time or read count."""
    _items(60)
    titles, pages = _walk(client, f"{URL}?sort={sort}")
    assert pages == 3 and len(titles) == 60 and len(set(titles)) == 60
    key = "read_count" if sort == "popular" else "published_at"
    expected = LibraryItem.objects.order_by(f"-{key}", "-id").values_list("title", flat=True)
    assert titles == list(expected)


def test_popular_cursor_is_a_count(client):
    """Under 最热 the next link carries "<read_count>_<id>"; under 最新 an ISO time and the id."""
    _items(30)
    popular = client.get(f"{URL}?sort=popular").context["next_url"]
    assert re.fullmatch(r"\d+_\d+", parse_qs(urlsplit(popular).query)["before"][0])
    newest = parse_qs(urlsplit(client.get(URL).context["next_url"]).query)["before"][0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:]+\+00:00_\d+", newest)


def test_filters_combine(client):
    """CLC (a class and everything under it), year, unit and tag each narrow the list, and combine."""
    d2 = _items(3, kind="ebook", clc="D261.4", year=2021, unit="zouping")
    _items(2, kind="ebook", clc="D9", year=2021, unit="zouping")
    _items(2, kind="ebook", clc="I247", year=2021, unit="yinan")
    d2[0].tags.add("党史")

    def titles(query):
        return sorted(item.title for item in client.get(URL + query).context["items"])

    assert len(titles("?clc=D")) == 5 and len(titles("?clc=D2")) == 3 and len(titles("?clc=d2")) == 3
    assert len(titles(f"?unit={_unit('yinan').pk}")) == 2
    assert titles("?kind=ebook&clc=D2&year=2021&tag=党史") == [d2[0].title]
    assert titles("?kind=video&clc=D2") == []
    assert titles("?year=1999") == []


def test_counts_and_chips(client, member):
    """Facet counts and the total come from FacetCount: anonymous visitors get public counts, members theirs;
    active filters show as chips whose links drop just that filter."""
    _items(4, kind="ebook", clc="D2", year=2022)
    _items(2, kind="ebook", clc="D2", year=2022, access="members")
    _items(1, kind="ebook", clc="D2", year=2022, access="unit")
    facet_counts_refresh()
    anonymous = client.get(f"{URL}?kind=ebook").content.decode()
    assert "共 4 条" in anonymous
    client.force_login(member)
    response = client.get(f"{URL}?kind=ebook&clc=D2")
    page = response.content.decode()
    assert "共 6 条" in page  # the unit-only item is not counted, even for a member who could open it
    chips = {chip["label"]: chip["url"] for chip in response.context["facets"]["chips"]}
    assert set(chips) == {"电子书", "D2 中国共产党"}
    assert parse_qs(urlsplit(chips["D2 中国共产党"]).query) == {"kind": ["ebook"]}
    assert "D2 中国共产党" in page and "去掉这个条件" in page
    groups = {group["key"]: group for group in response.context["facets"]["groups"]}
    assert [(v["label"], v["count"]) for v in groups["year"]["values"]] == [("2022", 6)]


def test_members_items_hidden_from_anonymous(client, member):
    """A members-only item is listed for a signed-in member and not for an anonymous visitor."""
    _items(1, access="members")
    assert not client.get(URL).context["items"]
    client.force_login(member)
    assert len(client.get(URL).context["items"]) == 1


@pytest.mark.parametrize(
    "query",
    [
        "?before=garbage",
        "?before=2024-99-99T00:00:00_5",
        "?before=_",
        "?before=99999999999999999999999_1",
        "?sort=popular&before=2024-01-01T00:00:00+00:00_3",
        "?sort=newest&before=12_3",
        "?sort=sideways&kind=nothing&year=abc&unit=-4&clc=ZZ9&tag=" + "x" * 300,
        "?year=99999999999999999999&unit=99999999999999999999",
        "?tag=%00&clc=D%00",
    ],
)
def test_bad_query_strings_give_the_first_page(client, query):
    """Cursors and filters that do not parse are ignored: the first page of the sort asked for, never an error."""
    _items(30)
    response = client.get(URL + query)
    assert response.status_code == 200
    first = client.get(URL + ("?sort=popular" if "sort=popular" in query else ""))
    assert response.context["items"] == first.context["items"] and len(first.context["items"]) == 24


def test_unencoded_plus_in_cursor_still_works(client):
    """A cursor whose "+00:00" lost its encoding (a space) still continues from the right place."""
    _items(30)
    before = parse_qs(urlsplit(client.get(URL).context["next_url"]).query)["before"][0]
    response = client.get(f"{URL}?before={before}")  # the raw "+" becomes a space on the way in
    expected = list(LibraryItem.objects.order_by("-published_at", "-id").values_list("title", flat=True)[24:])
    assert [item.title for item in response.context["items"]] == expected


@pytest.mark.parametrize("query", ["", "?sort=popular", "?kind=ebook&clc=D&year=2021&tag=党史&unit={unit}"])
def test_same_queries_on_first_and_deep_pages(client, member, query):
    """The first page and deep pages cost the same fixed, small number of queries, with or without filters,
    for an anonymous visitor and for a member."""
    _items(120, kind="ebook", clc="D2", year=2021)
    for item in LibraryItem.objects.all():
        item.tags.add("党史")
    facet_counts_refresh()
    for signed_in in (False, True):
        if signed_in:
            client.force_login(member)
        counts, url = [], URL + query.format(unit=_unit("shandong").pk)
        client.get(url)  # per-process caches (the site's root paths) filled, as on a running server
        while url:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            assert response.context["items"]
            counts.append(len(captured))
            url = response.context["next_url"] and URL + response.context["next_url"]
        curated_lookup = 0 if "kind" in query else 1  # 本月推荐 is looked up on the unfiltered first page only
        assert len(counts) == 5 and set(counts[1:]) == {counts[0] - curated_lookup}, counts
        assert max(counts) <= MAX_QUERIES


def test_creator_page(client):
    """A creator's page lists the items credited to that name (not a similar one), newest first, by keyset
    pages; members-only items only for members."""
    items = _items(30)
    ItemCredit.objects.bulk_create([ItemCredit(item=item, name="王国华", role="author") for item in items[:26]])
    ItemCredit.objects.create(item=items[29], name="王国", role="author")
    LibraryItem.objects.filter(pk=items[0].pk).update(access="members")
    titles, pages = _walk(client, f"{URL}creator/王国华/")
    ordered = (
        LibraryItem.objects.filter(credits__name="王国华").exclude(pk=items[0].pk).order_by("-published_at", "-id")
    )
    assert pages == 2 and titles == list(ordered.values_list("title", flat=True))
    response = client.get(f"{URL}creator/王国华/?before=nonsense")
    assert response.status_code == 200 and "王国华 的作品" in response.content.decode()
    assert client.get(f"{URL}creator/无名氏/").status_code == 200


def _curated(slug="benyue", title="本月推荐", items=(), **fields):
    item_list = ItemList.objects.create(title=title, slug=slug, owning_unit=_unit("shandong"), **fields)
    for position, item in enumerate(items):
        ItemListEntry.objects.create(list=item_list, item=item, sort_order=position)
    return item_list


def test_curated_list_page_in_editors_order(client):
    """A curated list shows its items in the editors' order, leaves out what the visitor may not open, and an
    unknown or unpublished list is a 404."""
    items = _items(4)
    LibraryItem.objects.filter(pk=items[1].pk).update(access="members")
    _curated(slug="dangshi", title="党史专题", kind="collection", items=[items[3], items[1], items[0]])
    response = client.get(f"{URL}list/dangshi/")
    assert [item.title for item in response.context["items"]] == [items[3].title, items[0].title]
    assert "党史专题" in response.content.decode()
    assert client.get(f"{URL}list/nothing/").status_code == 404
    _curated(slug="hidden", is_published=False)
    assert client.get(f"{URL}list/hidden/").status_code == 404


def test_this_months_picks_on_the_index(client):
    """本月推荐 shows the current curated list at the top of the index (not expired, not future, not a
    collection) and only on the unfiltered first page."""
    items = _items(3)
    today = timezone.localdate()
    _curated(slug="old", title="去年推荐", items=[items[0]], ends_on=today - timedelta(days=1))
    _curated(slug="soon", title="下月推荐", items=[items[0]], starts_on=today + timedelta(days=1))
    _curated(slug="topic", title="专题合集", kind="collection", items=[items[0]])
    current = _curated(items=[items[2], items[1]], starts_on=today.replace(day=1))
    response = client.get(URL)
    assert response.context["curated"] == current
    assert [item.title for item in response.context["curated_items"]] == [items[2].title, items[1].title]
    html = response.content.decode()
    assert "本月推荐" in html and f"{URL}list/benyue/" in html
    assert client.get(f"{URL}?kind=video").context["curated"] is None
    ItemList.objects.filter(pk=current.pk).delete()
    assert client.get(URL).context["curated"] is None


def test_cards_are_light_with_lazy_covers(client, django_assert_max_num_queries, db_tasks):
    """Covers are never made while the member waits: the first visit shows light placeholders and queues the
    renditions once; then every card has its cover in three widths (srcset), read for the whole page in one query,
    with its size set (nothing shifts) and lazy below the first row; the page stays small."""
    image = LighthouseImage(title="封面")
    image.file.save("cover.png", ImageFile(io.BytesIO(png_bytes(600, 800)), name="cover.png"), save=False)
    image.save()
    items = _items(24)
    LibraryItem.objects.filter(pk__in=[item.pk for item in items]).update(cover=image)
    first = client.get(URL).content.decode()
    assert "<img" not in first and first.count("cover-none") == 24
    queued = DBTaskResult.objects.filter(task_path="library.tasks.card_renditions_make_task")
    assert queued.count() == 1
    client.get(URL)  # queued already: not again
    assert queued.count() == 1
    card_renditions_make(**queued.get().args_kwargs["kwargs"])
    with django_assert_max_num_queries(MAX_QUERIES):
        html = client.get(URL).content.decode()
    images = re.findall(r"<img[^>]+>", html)
    assert len(images) == 24 and all(len(re.findall(r" \d+w", tag)) == 3 for tag in images)
    assert html.count('loading="lazy"') == 24 - CARDS_EAGER and html.count('fetchpriority="high"') == CARDS_EAGER
    assert len(re.findall(r'<img[^>]+width="120" height="160"', html)) == 8  # the e-books' 3:4 covers
    assert len(html.encode()) < 60_000
