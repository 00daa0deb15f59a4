"""The search page, on the embedded index with real library items indexed through the registry and the outbox."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.timezone import localtime
from wagtail.models import Site

from cms.services import org_unit_create
from library.models import LibraryItem, LibraryPage
from search.models import IndexEntry, Promotion, QueryStat

pytestmark = pytest.mark.django_db
Kind = LibraryItem.Kind


@pytest.fixture
def library_page(db):
    """The library's page, so indexed items carry real URLs."""
    root = Site.objects.get(is_default_site=True).root_page
    return root.add_child(instance=LibraryPage(title="数字图书馆", slug="library"))


@pytest.fixture
def get(client, embedded, library_page):
    def fetch(expect=200, **params):
        response = client.get(reverse("search"), params)
        assert response.status_code == expect
        return response.content.decode()

    return fetch


def _links(html: str, attribute: str = "") -> list[str]:
    """Hrefs of the links carrying `attribute` (e.g. data-nav="facet"), unescaped."""
    pattern = rf"<a [^>]*{re.escape(attribute)}[^>]*>" if attribute else r"<a [^>]*>"
    return [unescape(re.search(r'href="([^"]*)"', tag).group(1)) for tag in re.findall(pattern, html)]


def _params(href: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(href).query).items()}


def _facet_link(html: str, label: str) -> str:
    match = re.search(
        rf'<a data-nav="facet" href="([^"]*)"[^>]*>\s*(?:<span aria-hidden="true">✓ </span>)?{label}', html
    )
    assert match, f"no facet link {label}"
    return unescape(match.group(1))


def test_empty_page_offers_a_focused_search_box(get):
    """Without a query the page is a labelled search box with autofocus, wired to the suggestions endpoint."""
    html = get()
    assert '<label for="search-q">' in html and 'type="search" name="q"' in html and "autofocus" in html
    assert f'data-suggest-url="{reverse("api:search_suggest")}"' in html
    assert "search.js" in html and "search.css" in html


def test_results_show_link_kind_date_and_highlights(get, make_item, drain):
    """A result shows its title link with the match marked, the kind label, the date and a marked snippet."""
    item = make_item("红楼梦有声书", body="曹雪芹著，红楼梦名家演播。")
    drain()
    html = get(q="红楼梦")
    url = IndexEntry.objects.get(doc_id=f"library.libraryitem:{item.pk}").url
    assert url.startswith("/library/")
    assert f'data-nav="result" href="{url}"><mark>红楼梦</mark>有声书</a>' in html
    # The page shows the date in the site's time zone (Asia/Shanghai), which is the next day after 16:00 UTC.
    assert "电子书" in html and localtime(item.published_at).strftime("%Y-%m-%d") in html
    assert "<mark>红楼梦</mark>名家演播" in html
    assert "autofocus" not in html


def test_no_results_message(get):
    """A query that matches nothing says so plainly."""
    assert "没有找到与“不存在的词语”相关的内容" in get(q="不存在的词语")


@pytest.mark.parametrize(
    "params",
    [
        {"q": "title:*"},
        {"q": "AND ("},
        {"q": "<script>alert(1)</script>"},
        {"q": "😀🎉👍"},
        {"q": "！？。，……"},
        {"q": "党" * 10_000},
        {"q": "党史\x00"},
        {"q": "党史", "year": "abc"},
        {"q": "党史", "year": "99999"},
        {"q": "党史", "page": "-1"},
        {"q": "党史", "page": "abc"},
        {"q": "党史", "page": "9" * 5000},
        {"q": "党史", "unit": "xyz"},
        {"q": "党史", "unit": "99999999999999999999999"},
        {"q": "党史", "access": "secret"},
        {"q": "党史", "sort": "random"},
        {"q": "党史", "kind": "x" * 1000},
        {"q": "党史", "kind": "ebook\x00"},
        {"q": "党史", "exact": "maybe"},
    ],
)
def test_bad_input_gets_a_page(get, make_item, drain, params):
    """Query syntax, script, emoji, punctuation, huge or NUL-bearing input and bad parameters all give a page."""
    make_item("党史学习读本")
    drain()
    html = get(**params)
    assert "<script>alert" not in html and "\x00" not in html


def test_script_in_the_query_is_shown_escaped(get):
    """What the member typed comes back as text, never as markup."""
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in get(q="<script>alert(1)</script>")


@pytest.mark.parametrize("query", ["！？。，……", "😀🎉👍"])
def test_unsearchable_query_says_why(get, query):
    """Only punctuation or only emoji: the page explains there was nothing to search."""
    assert "没有可以搜索的文字" in get(q=query)


def test_a_long_query_is_cut_to_the_box_length(get):
    """A 10,000-character query is answered for its first 100 characters, and the box shows those."""
    html = get(q="党" * 10_000)
    assert f'value="{"党" * 100}"' in html and "党" * 101 not in html


@pytest.fixture
def mixed(make_item, drain):
    """Three 党史 books and two 党史 videos, one of them from 2019."""
    for number in range(3):
        make_item(f"党史读本第{number}册", kind=Kind.EBOOK, year=2021)
    make_item("党史微课", kind=Kind.VIDEO, year=2021)
    make_item("党史纪录片", kind=Kind.VIDEO, year=2019)
    drain()


def test_facets_link_with_counts_and_keep_the_other_parameters(get, mixed):
    """Facet links show counts, keep the query, the other filters and the sort, and go back to page 1."""
    html = get(q="党史", sort="newest", year="2021")
    assert re.search(r"电子书<span class=\"count\">（3）</span>", html)
    assert re.search(r"视频<span class=\"count\">（1）</span>", html)
    assert _params(_facet_link(html, "视频")) == {
        **{"q": "党史", "kind": "video", "year": "2021", "sort": "newest"},
        "r": "1",  # refines the search already counted
    }


def test_choosing_a_facet_filters_and_marks_it(get, mixed):
    """Following a facet link narrows the results; the chosen value is marked and its link removes it."""
    html = get(q="党史", kind="video")
    assert "共找到 2 条结果" in html and "党史读本" not in html
    assert re.search(r'aria-current="true"[^>]*>\s*<span aria-hidden="true">✓ </span>视频', html)
    assert _params(_facet_link(html, "视频")) == {"q": "党史", "r": "1"}


def test_clear_filters_keeps_the_query(get, mixed):
    """ "清除筛选" drops every filter but keeps the query and sort; without filters there is no such link."""
    html = get(q="党史", kind="video", year="2019", sort="newest")
    clear = re.search(r'class="search-clear" data-nav="facet" href="([^"]*)">清除筛选', html)
    assert _params(unescape(clear.group(1))) == {"q": "党史", "sort": "newest", "r": "1"}
    assert "清除筛选" not in get(q="党史")


def test_the_search_box_keeps_the_chosen_filters(get, mixed):
    """A new query from the box searches within the same filters (hidden fields), and a new query resets paging."""
    html = get(q="党史", kind="video", page="1")
    assert '<input type="hidden" name="kind" value="video">' in html
    assert 'name="page"' not in html


def test_unit_filter_takes_the_unit_and_everything_below(get, unit, drain):
    """unit=<id> finds what that unit and its subunits own, not what other units own; an unknown unit is ignored."""
    city = org_unit_create(parent=unit, name="济南市", code="jn", level="city")
    county = org_unit_create(parent=city, name="历下区", code="lx", level="county")
    other = org_unit_create(parent=unit, name="青岛市", code="qd", level="city")
    LibraryItem.objects.create(title="党史济南读本", kind=Kind.EBOOK, owning_unit=county)
    LibraryItem.objects.create(title="党史青岛读本", kind=Kind.EBOOK, owning_unit=other)
    drain()
    html = get(q="党史", unit=str(city.pk))
    assert "党史济南读本" in html.replace("<mark>", "").replace("</mark>", "") and "青岛读本" not in html
    assert "青岛读本" in get(q="党史", unit="987654321")


def test_sort_links_keep_filters(get, mixed):
    """The sort links keep the query and filters; the current one is marked."""
    html = get(q="党史", kind="ebook")
    newest = re.search(r'<a href="([^"]*)"\s*>最新</a>', html)
    assert _params(unescape(newest.group(1))) == {"q": "党史", "kind": "ebook", "sort": "newest", "r": "1"}
    assert re.search(r'aria-current="true">最相关</a>', html)


def test_pagination_links_keep_filters(get, make_item, drain):
    """More results than fit on a page give numbered and next/previous links that keep the filters."""
    for number in range(45):
        make_item(f"党史故事第{number}集", kind=Kind.AUDIO)
    drain()
    html = get(q="党史", kind="audio")
    pager = _links(html, 'data-nav="pager"')
    assert [_params(href).get("page") for href in pager] == ["1", "2", "3", "2"]
    assert all(_params(href)["kind"] == "audio" for href in pager)
    assert 'rel="next"' in html and 'aria-current="page"' in html
    second = get(q="党史", kind="audio", page="2")
    assert 'rel="prev"' in second and '<ol class="search-results" start="21">' in second


def test_a_page_past_the_end_says_so(get, make_item, drain):
    """A page number past the last page shows no results, the true total and a way back."""
    make_item("党史学习读本")
    drain()
    html = get(q="党史", page="7")
    assert "这一页没有结果了" in html and "共找到 1 条结果" in html
    assert "回到第一页" in html and "search-result-link" not in html


def test_huge_page_numbers_are_clamped(get, make_item, drain):
    """page=999999 is answered (as the last page the engines allow), never an error."""
    make_item("党史学习读本")
    drain()
    assert "这一页没有结果了" in get(q="党史", page="999999")


def test_promoted_results_come_first_in_a_marked_box(get, make_item, drain):
    """An editor's promotion for the query shows first under "编辑推荐", and not again in the ranked list."""
    make_item("党史故事")
    chosen = make_item("中国共产党历史读本")
    make_item("党史学习")
    drain()
    Promotion.objects.create(query="党史", doc_id=f"library.libraryitem:{chosen.pk}")
    html = get(q="党史")
    box = html.split('class="search-promoted"', 1)[1].split("</section>", 1)[0]
    assert "编辑推荐" in box and "中国共产党历史读本" in box
    assert html.count("中国共产党历史读本") == 1
    assert html.index("search-promoted") < html.index('<ol class="search-results"')


def test_members_only_results_and_facets_stay_hidden_from_visitors(get, client, make_item, drain):
    """A visitor neither sees a members-only item nor counts it in the facets; a member sees both."""
    make_item("党史公开课")
    make_item("党史内部资料", access=LibraryItem.Access.MEMBERS, kind=Kind.VIDEO)
    drain()
    html = get(q="党史")
    assert "内部资料" not in html and "视频<span" not in html and "共找到 1 条结果" in html
    client.force_login(get_user_model().objects.create_user(username="member", password="x"))
    assert "内部资料" in get(q="党史")


def test_pinyin_query_offers_did_you_mean(get, make_item, drain):
    """A pinyin query finds the item and offers the Chinese words as "你是不是要找" (keeping the filters)."""
    make_item("红楼梦有声书")
    drain()
    html = get(q="hongloumeng", kind="ebook")
    match = re.search(r"你是不是要找：<a href=\"([^\"]*)\">([^<]*)</a>", html)
    assert match and match.group(2) == "红楼梦"
    assert _params(unescape(match.group(1))) == {"q": "红楼梦", "kind": "ebook"}


def test_a_corrected_query_says_so_and_offers_the_original(get, make_item, drain):
    """A homophone typo finds nothing, so the correction's results show; "仍然搜索" links to the typo with exact=1,
    which then shows no results and offers the correction instead."""
    make_item("红楼梦有声书")
    drain()
    html = get(q="红楼孟")
    assert "已为您显示“红楼梦”的结果。" in html and "红楼梦</mark>有声书" in html
    still = re.search(r'<a href="([^"]*)">仍然搜索“红楼孟”</a>', html)
    assert _params(unescape(still.group(1))) == {"q": "红楼孟", "exact": "1", "r": "1"}
    exact = get(q="红楼孟", exact="1")
    assert "没有找到" in exact and "已为您显示" not in exact
    assert re.search(r"你是不是要找：<a href=\"[^\"]*\">红楼梦</a>", exact)


def test_keyboard_targets_are_marked_in_reading_order(get, mixed):
    """Facet links (筛选, before the results so a phone reaches them first: tests/search/test_search_page_phone.py),
    then results, then the pager carry data-nav for the arrow keys, in reading order."""
    html = get(q="党史")
    order = re.findall(r'data-nav="(result|pager|facet)"', html)
    results = [i for i, group in enumerate(order) if group == "result"]
    assert order[0] == "facet" and order[results[0] : results[0] + 5] == ["result"] * 5
    assert max(i for i, group in enumerate(order) if group == "facet") < results[0]


def test_degraded_notice_when_the_engine_is_down(get, settings, closed_port_url, make_item, drain):
    """With the engine unreachable the embedded index answers and the page says results are basic."""
    make_item("党史学习读本")
    drain()
    settings.SEARCH_URL = closed_port_url
    html = get(q="党史")
    assert "搜索服务暂时繁忙" in html and "党史</mark>学习读本" in html


# --- Analytics


def test_a_search_is_counted_once(get, mixed):
    """A page-1 search counts once; later pages, facet, sort and exact links (marked r=1) refine it without
    counting again."""
    html = get(q="党史")
    get(q="党史", page="2")
    for href in [_facet_link(html, "视频"), *_links(html, 'data-nav="pager"')]:
        get(**_params(href))
    get(q="党史", sort="newest", r="1")
    get(q="党史", exact="1", r="1")
    stat = QueryStat.objects.get()
    assert (stat.query, stat.searches, stat.no_results, stat.last_total) == ("党史", 1, 0, 5)


def test_a_search_without_results_is_counted_as_such(get):
    """A query that found nothing is counted in no_results (for editors' "queries without results")."""
    get(q="航天")
    assert QueryStat.objects.values_list("query", "searches", "no_results").get() == ("航天", 1, 1)


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}, {"q": "！？。"}, {"q": "😀"}])
def test_empty_or_unsearchable_queries_are_not_counted(get, params):
    """Bots sending empty queries, and queries with nothing searchable, leave no analytics."""
    get(**params)
    assert not QueryStat.objects.exists()


def test_a_new_query_typed_within_filters_is_counted(get, mixed):
    """A query typed into the box while filters are chosen (the box carries them as hidden fields, without the
    r marker) is a new search and is counted once."""
    html = get(q="党史", kind="video", r="1")
    assert '<input type="hidden" name="kind" value="video">' in html and 'name="r"' not in html
    assert not QueryStat.objects.exists()
    get(q="纪录片", kind="video")
    assert QueryStat.objects.values_list("query", "searches", "no_results").get() == ("纪录片", 1, 0)


def test_a_query_answered_only_by_promotions_is_not_a_miss(get, make_item, drain):
    """A query nothing matches but an editor promoted a document for is recorded with that result, not as a
    query without results."""
    promoted = make_item("中国共产党历史读本")
    drain()
    Promotion.objects.create(query="建党百年", doc_id=f"library.libraryitem:{promoted.pk}")
    html = get(q="建党百年")
    assert "search-promoted" in html
    stat = QueryStat.objects.get()
    assert (stat.query, stat.searches, stat.no_results, stat.last_total) == ("建党百年", 1, 0, 1)


def test_year_facet_links_work_for_any_indexed_year(get, make_item, drain):
    """The year facet lists whatever is indexed (a Tang text's 618 included) and its link filters by it, like
    any year up to 9999; a year out of that range is ignored."""
    make_item("唐代史料汇编", year=618)
    make_item("唐代史话", year=2020)
    drain()
    link = _facet_link(get(q="唐代"), "618")
    assert _params(link)["year"] == "618"
    html = get(**_params(link))
    assert "共找到 1 条结果" in html and "汇编" in html and "史话" not in html
    assert "共找到 2 条结果" in get(q="唐代", year="10000")


def test_unit_facet_links_to_the_owning_unit_exactly(get, unit, drain):
    """The unit facet counts what each unit itself owns, so its link filters by owner=<id> (that unit only) and
    gives the same count; unit=<id> still takes the unit and everything below it."""
    city = org_unit_create(parent=unit, name="济南市", code="jn2", level="city")
    county = org_unit_create(parent=city, name="历下区", code="lx2", level="county")
    LibraryItem.objects.create(title="党史济南读本", kind=Kind.EBOOK, owning_unit=city)
    LibraryItem.objects.create(title="党史历下读本", kind=Kind.EBOOK, owning_unit=county)
    drain()
    html = get(q="党史")
    assert re.search(r"济南市<span class=\"count\">（1）</span>", html)
    link = _params(_facet_link(html, "济南市"))
    assert link["owner"] == str(city.pk) and "unit" not in link
    chosen = get(**link)
    assert "共找到 1 条结果" in chosen and "历下读本" not in chosen
    assert re.search(r'aria-current="true"[^>]*>\s*<span aria-hidden="true">✓ </span>济南市', chosen)
    assert "共找到 2 条结果" in get(q="党史", unit=str(city.pk))


def test_the_pager_never_offers_pages_past_the_result_window():
    """With more matches than the engines page through (10,000), the pager's last page is the last one that
    can have hits."""
    from search.engines.results import SearchResults
    from search.views import Params, _pager

    results = SearchResults(hits=[object()], total=1_000_000, page=1, per_page=20)
    pager = _pager(Params(q="党史"), results)
    last = [page["number"] for page in pager["pages"] if "number" in page][-1]
    assert last == 10_000 // 20
