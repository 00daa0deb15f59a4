"""The embedded engine against the search contract, on whichever database the tests run (SQLite FTS5 by default,
PostgreSQL full-text search with the services env) and on the generic path for other databases: matching,
ranking, filters, facets, highlights, suggestions, and the migration of the full-text index."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from search.engines.analysis import ParsedQuery, parse_query, synonym_map
from search.engines.embedded import BODY_TERM_CHARS, EmbeddedEngine
from search.engines.results import Audience, SearchRequest
from search.models import IndexEntry

from .conftest import document as _doc

pytestmark = pytest.mark.django_db

MEMBER = Audience(levels=("public", "members"), unit_ids=(5,))
EVERYONE = Audience(levels=("public", "members"), all_units=True)


def _search(engine, query, *, synonyms=None, **request):
    return engine.search(parse_query(query, synonyms=synonyms), SearchRequest(**request))


def _titles(engine, query, **kwargs) -> list[str]:
    return [hit.title for hit in _search(engine, query, **kwargs).hits]


@pytest.fixture
def shelf(engine):
    engine.index(
        [
            _doc(1, "红楼梦有声书", creators="曹雪芹", body="贾宝玉与林黛玉的故事。"),
            _doc(2, "梦的解析", body="心理学名著。"),
            _doc(3, "灯塔大课堂", body="党员教育节目。"),
            _doc(4, "乡村振兴实用技术", body="果树栽培与病虫害防治。"),
            _doc(5, "Ｐｙｔｈｏｎ编程入门", body="给初学者。"),
            _doc(6, "紅樓夢人物譜", body="人物关系。"),
        ]
    )
    return engine


def test_partial_title_finds_the_item(shelf):
    """红楼梦 finds 红楼梦有声书 (every bigram of the query must be there) and nothing unrelated."""
    assert set(_titles(shelf, "红楼梦")) == {"红楼梦有声书", "紅樓夢人物譜"}
    assert _titles(shelf, "航天") == []


def test_single_character_finds_every_title_with_it(shelf):
    """A one-character query matches that character anywhere."""
    assert set(_titles(shelf, "梦")) == {"红楼梦有声书", "梦的解析", "紅樓夢人物譜"}


@pytest.mark.parametrize("query", ["dengta", "dtdk", "dtdkt", "ketang", "deng ta", "DengTa"])
def test_pinyin_full_spelling_and_initials(shelf, query):
    """dengta, dtdk (initials) and ketang (a later syllable) all find 灯塔大课堂, and only it."""
    assert _titles(shelf, query) == ["灯塔大课堂"]


def test_pinyin_of_a_creator(shelf):
    """A creator's name in pinyin finds their work."""
    assert _titles(shelf, "caoxueqin") == ["红楼梦有声书"]


def test_traditional_and_simplified_find_each_other(shelf):
    """A traditional query finds simplified text, and a simplified query finds traditional text."""
    assert "红楼梦有声书" in _titles(shelf, "紅樓夢")
    assert "紅樓夢人物譜" in _titles(shelf, "人物谱")


def test_full_width_letters_fold(shelf):
    """Full-width letters in the query or the text match their half-width forms."""
    assert _titles(shelf, "python") == ["Ｐｙｔｈｏｎ编程入门"]
    assert _titles(shelf, "ＰＹＴＨＯＮ") == ["Ｐｙｔｈｏｎ编程入门"]


def test_synonyms_find_both_and_the_typed_word_ranks_first(engine):
    """With 党史 ↔ 中国共产党历史, either word finds both; the word typed ranks a little above its synonym,
    and the synonym's match is highlighted too."""
    engine.index([_doc(1, "中国共产党历史读本"), _doc(2, "党史读本"), _doc(3, "党建读本")])
    synonyms = synonym_map([["党史", "中国共产党历史"]])
    assert _titles(engine, "党史", synonyms=synonyms) == ["党史读本", "中国共产党历史读本"]
    hits = _search(engine, "中国共产党历史", synonyms=synonyms).hits
    assert [hit.title for hit in hits] == ["中国共产党历史读本", "党史读本"]
    assert "<mark>党史</mark>" in hits[1].title_html


@pytest.fixture
def opened(engine):
    engine.index(
        [
            _doc("pub", "党史公开课", access="public"),
            _doc("mem", "党史内部资料", access="members"),
            _doc("u5", "党史本单位材料", access="unit", access_unit_id=5),
            _doc("u6", "党史他单位材料", access="unit", access_unit_id=6),
        ]
    )
    return engine


def test_anonymous_sees_and_counts_only_public(opened):
    """Members-only and unit-only documents are never shown to, nor counted for, an anonymous visitor."""
    results = _search(opened, "党史", facets=True)
    assert [hit.title for hit in results.hits] == ["党史公开课"] and results.total == 1
    assert [(value.value, value.count) for value in results.facets["access"]] == [("public", 1)]
    assert _titles(opened, "单位") == []


def test_member_sees_their_units_documents_only(opened):
    """A member sees public, members-only and their own unit's documents, never another unit's."""
    results = _search(opened, "党史", audience=MEMBER, facets=True)
    assert {hit.title for hit in results.hits} == {"党史公开课", "党史内部资料", "党史本单位材料"}
    assert results.total == 3 and sum(value.count for value in results.facets["kind"]) == 3
    assert {value.value: value.count for value in results.facets["access"]} == {"public": 1, "members": 1, "unit": 1}


def test_all_units_sees_every_unit(opened):
    """An audience with all_units (superusers) sees every unit's documents."""
    assert _search(opened, "党史", audience=EVERYONE).total == 4


def test_access_filter_stays_within_the_audience(opened):
    """Choosing an access level narrows to it, and never widens what the audience may see."""
    assert _titles(opened, "党史", audience=MEMBER, access="members") == ["党史内部资料"]
    assert _titles(opened, "党史", access="members") == []


@pytest.fixture
def catalogue(engine):
    engine.index(
        [
            _doc(1, "党史音频一", kind="audio", subject="D 政治", year=2021, unit_id=1, unit_path="0001"),
            _doc(2, "党史音频二", kind="audio", subject="K 历史", year=2022, unit_id=2, unit_path="00010001"),
            _doc(3, "党史视频", kind="video", subject="K 历史", year=2022, unit_id=3, unit_path="00010002"),
            _doc(4, "党史图书", kind="ebook", subject="", year=None, unit_id=4, unit_path="0002"),
        ]
    )
    return engine


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"kind": "audio"}, {"党史音频一", "党史音频二"}),
        ({"subject": "K 历史"}, {"党史音频二", "党史视频"}),
        ({"year": 2021}, {"党史音频一"}),
        ({"kind": "audio", "year": 2022}, {"党史音频二"}),
        ({"unit_path": "0001"}, {"党史音频一", "党史音频二", "党史视频"}),
        ({"unit_path": "00010002"}, {"党史视频"}),
        ({"unit_path": "000"}, {"党史音频一", "党史音频二", "党史视频", "党史图书"}),
        ({"year": "不是年份"}, set()),
        ({"year": 10**30}, set()),
    ],
)
def test_filters(catalogue, filters, expected):
    """Kind, subject, year (exact) and owning unit (the unit and everything below it) narrow the results; a year
    that is not a year matches nothing instead of failing."""
    results = _search(catalogue, "党史", **filters)
    assert {hit.title for hit in results.hits} == expected and results.total == len(expected)


def test_facet_counts(catalogue):
    """Facets count every match under the current filters, most first, as strings, skipping empty values."""
    facets = _search(catalogue, "党史", facets=True, per_page=1).facets
    counts = {dimension: [(value.value, value.count) for value in values] for dimension, values in facets.items()}
    assert counts["kind"] == [("audio", 2), ("ebook", 1), ("video", 1)]
    assert counts["subject"] == [("K 历史", 2), ("D 政治", 1)]
    assert counts["year"] == [("2022", 2), ("2021", 1)]
    assert sorted(counts["unit"]) == [("1", 1), ("2", 1), ("3", 1), ("4", 1)]
    assert counts["access"] == [("public", 4)]
    filtered = _search(catalogue, "党史", facets=True, kind="audio").facets
    assert [(value.value, value.count) for value in filtered["kind"]] == [("audio", 2)]


def test_no_facets_unless_asked(catalogue):
    """Facets are only counted when the request asks for them."""
    assert _search(catalogue, "党史").facets == {}


def test_newer_of_two_equal_documents_ranks_first(engine):
    """Freshness: of two otherwise equal documents the newer ranks first; an undated one comes after both."""
    now = timezone.now()
    engine.index(
        [
            _doc(1, "党史讲座", date=now - timedelta(days=800)),
            _doc(2, "党史讲座", date=now - timedelta(days=3), url="/new/"),
            _doc(3, "党史讲座"),
        ]
    )
    hits = _search(engine, "党史").hits
    assert [hit.doc_id for hit in hits] == ["test:2", "test:1", "test:3"]
    assert hits[0].score > hits[1].score > hits[2].score


def test_boost_lifts_a_document(engine):
    """A document's boost multiplies its score."""
    engine.index([_doc(1, "党史讲座", boost=1.0), _doc(2, "党史讲座", boost=1.4), _doc(3, "党史讲座", boost=0.5)])
    assert [hit.doc_id for hit in _search(engine, "党史").hits] == ["test:2", "test:1", "test:3"]


def test_title_match_ranks_above_body_match(engine):
    """A title match outranks a mention in the body."""
    engine.index([_doc(1, "农业技术汇编", body="本书讲果树栽培。"), _doc(2, "果树栽培手册", body="内容提要")])
    assert _titles(engine, "果树栽培") == ["果树栽培手册", "农业技术汇编"]


def test_exact_phrase_ranks_above_scattered_bigrams(engine):
    """A title holding the query as typed outranks one holding its bigrams apart."""
    engine.index([_doc(1, "楼梦红楼集"), _doc(2, "红楼梦选集")])
    assert _titles(engine, "红楼梦") == ["红楼梦选集", "楼梦红楼集"]


def test_an_exact_title_ranks_above_titles_that_contain_it(engine):
    """A title equal to the query after folding (紅樓夢 for 红楼梦) comes first, above titles that only contain it
    however fresh, popular or full of the query their text is."""
    now = timezone.now()
    engine.index(
        [
            _doc(1, "其一三", body="三山三水三月三", boost=1.4, date=now),
            _doc(2, "三", date=now - timedelta(days=3000)),
            _doc(3, "红楼梦有声书", body="红楼梦红楼梦", boost=1.5, date=now),
            _doc(4, "紅樓夢", date=now - timedelta(days=3000)),
        ]
    )
    assert _titles(engine, "三")[0] == "三"
    assert _titles(engine, "红楼梦") == ["紅樓夢", "红楼梦有声书"]


def test_the_ideographic_zero_tells_near_duplicate_titles_apart(engine):
    """其一○ (poem 10) is found only by 其一○ or 其一〇; 其一 finds both, the shorter title first."""
    engine.index([_doc(1, "致仕後即事 其一○"), _doc(2, "致仕後即事 其一")])
    assert _titles(engine, "其一○") == _titles(engine, "其一〇") == ["致仕後即事 其一○"]
    assert _titles(engine, "其一") == ["致仕後即事 其一", "致仕後即事 其一○"]


def test_equal_scores_keep_one_order(engine):
    """Documents alike in everything rank in the order they were first indexed (row id), on every search."""
    engine.index([_doc("c", "党史讲座"), _doc("a", "党史讲座"), _doc("b", "党史讲座")])
    orders = {tuple(hit.doc_id for hit in _search(engine, "党史").hits) for _ in range(3)}
    assert orders == {("test:c", "test:a", "test:b")}


def test_sort_newest(engine):
    """sort=newest orders by date, newest first, whatever the relevance."""
    now = timezone.now()
    engine.index(
        [
            _doc(1, "果树栽培手册", date=now - timedelta(days=30)),
            _doc(2, "农业汇编", body="果树栽培", date=now - timedelta(days=1)),
        ]
    )
    assert _titles(engine, "果树栽培") == ["果树栽培手册", "农业汇编"]
    assert _titles(engine, "果树栽培", sort="newest") == ["农业汇编", "果树栽培手册"]


def test_highlights_are_escaped(engine):
    """Titles and snippets mark the match and escape HTML: a <script> in a title comes back as text."""
    engine.index([_doc(1, "<script>alert(1)</script>党史", body="前言。" * 60 + "党史<b>学习</b>" + "结语。" * 60)])
    hit = _search(engine, "党史").hits[0]
    assert hit.title_html == "&lt;script&gt;alert(1)&lt;/script&gt;<mark>党史</mark>"
    assert "<mark>党史</mark>&lt;b&gt;" in hit.snippet and "<script>" not in hit.snippet
    assert len(hit.snippet) < 400 and hit.snippet.startswith("…")


def test_pinyin_match_is_highlighted(shelf):
    """A pinyin query marks the title words it spells."""
    assert _search(shelf, "dengta").hits[0].title_html == "<mark>灯塔</mark>大课堂"


def test_page_past_the_end(catalogue):
    """A page past the last gives no hits and the true total."""
    results = _search(catalogue, "党史", page=9, per_page=2)
    assert results.hits == [] and results.total == 4 and results.page == 9


def test_page_past_the_result_window_gives_no_hits(catalogue):
    """Pages past the 10,000-result window give no hits, like the engines."""
    results = _search(catalogue, "党史", page=10_001, per_page=1)
    assert results.hits == [] and results.total == 4


def test_suggest_titles_only(engine):
    """Suggestions come from titles (not bodies), visible ones only, each title once, up to the limit; pinyin and
    a Latin word being typed (a prefix) work too."""
    engine.index(
        [
            _doc(1, "红楼梦"),
            _doc(2, "红楼梦", url="/again/"),
            _doc(3, "红楼梦有声书"),
            _doc(4, "古典文学讲座", body="红楼梦"),
            _doc(5, "红楼梦内部讲义", access="members"),
            _doc(6, "Wagtail 入门"),
        ]
    )
    suggestions = engine.suggest(parse_query("红楼梦"), Audience(), limit=5)
    assert [s.text for s in suggestions] == ["红楼梦", "红楼梦有声书"]
    assert suggestions[0].url == "/d/1/"
    assert [s.text for s in engine.suggest(parse_query("红楼梦"), MEMBER, limit=5)][-1] == "红楼梦内部讲义"
    assert [s.text for s in engine.suggest(parse_query("红楼"), Audience(), limit=1)] == ["红楼梦"]
    assert [s.text for s in engine.suggest(parse_query("hlm"), Audience(), limit=5)] == ["红楼梦", "红楼梦有声书"]
    assert [s.text for s in engine.suggest(parse_query("wag"), Audience(), limit=5)] == ["Wagtail 入门"]


def test_suggest_ranks_by_boost_then_newest(engine):
    """Between equally good title matches, the boosted one comes first, then the newer."""
    now = timezone.now()
    engine.index(
        [
            _doc(1, "党史甲", date=now - timedelta(days=9)),
            _doc(2, "党史乙", date=now),
            _doc(3, "党史丙", boost=1.3, date=now - timedelta(days=99)),
        ]
    )
    assert [s.text for s in engine.suggest(parse_query("党史"), Audience(), limit=5)] == ["党史丙", "党史乙", "党史甲"]


def test_pinyin_titles(engine):
    """Titles whose pinyin starts with the given spelling, visible ones only, short titles first."""
    engine.index([_doc(1, "灯塔大课堂"), _doc(2, "灯塔"), _doc(3, "灯塔内部", access="members"), _doc(4, "课堂")])
    assert engine.pinyin_titles("dengta", Audience(), limit=5) == ["灯塔", "灯塔大课堂"]
    assert engine.pinyin_titles("dt", MEMBER, limit=5) == ["灯塔", "灯塔内部", "灯塔大课堂"]
    assert engine.pinyin_titles("dengta", Audience(), limit=1) == ["灯塔"]


def test_index_fills_every_column(engine):
    """index() stores the filter columns, the pinyin terms of title and creators, and body terms from the first
    20,000 characters only; NUL characters (from extracted PDFs) are dropped."""
    body = "甲" * 100 + "珍珠" + "乙" * BODY_TERM_CHARS + "翡翠"
    engine.index(
        [
            _doc(
                1,
                "灯塔\x00课堂",
                creators="曹雪芹",
                body=body,
                unit_id=7,
                unit_path="00010007",
                access="unit",
                access_unit_id=3,
                subject="K 历史",
                year=2024,
                boost=1.2,
            )
        ]
    )
    entry = IndexEntry.objects.get(doc_id="test:1")
    assert (entry.title, entry.unit_path, entry.access_unit_id, entry.subject, entry.year, entry.boost) == (
        "灯塔课堂",
        "00010007",
        3,
        "K 历史",
        2024,
        1.2,
    )
    assert " dengtaketang " in entry.pinyin and " caoxueqin " in entry.pinyin and entry.pinyin.startswith(" ")
    everyone = Audience(levels=("public", "members"), all_units=True)
    assert _titles(engine, "珍珠", audience=everyone) == ["灯塔课堂"]
    assert _titles(engine, "翡翠", audience=everyone) == []


def test_reindex_replaces_and_delete_removes(engine):
    """Indexing a document again replaces it (old words no longer find it); delete removes it; count and doc_ids
    follow."""
    engine.index([_doc(1, "旧标题甲"), _doc(2, "别的书")])
    engine.index([_doc(1, "新标题乙")])
    assert _titles(engine, "旧标题") == [] and _titles(engine, "新标题") == ["新标题乙"]
    assert engine.count() == 2 and engine.doc_ids() == {"test:1", "test:2"}
    engine.delete(["test:1"], version=123)
    assert _titles(engine, "新标题") == [] and engine.doc_ids() == {"test:2"}


@pytest.mark.parametrize(
    "query",
    ['"', "title:*", "AND (", "NEAR(红楼 梦)", "红楼*", "{title_terms}:x", "a OR b", "x'); --", "\\", "😀", ""],
)
def test_query_syntax_is_plain_text(shelf, query):
    """Full-text syntax of either database in a query is plain text: an answer, never an error."""
    assert _search(shelf, query, facets=True).total >= 0
    assert isinstance(shelf.suggest(parse_query(query), Audience(), limit=5), list)


def test_terms_are_quoted_even_with_syntax_in_them(shelf):
    """Even terms holding quotes, backslashes or operators (analysis never makes them) are matched as literal
    tokens, on both databases."""
    hostile = ParsedQuery(
        text="x", normalized="x", alternatives=(('a"b', "c'd", "e\\f", "g:*", "h&|!<->"),), pinyin="x'y\"z"
    )
    assert shelf.search(hostile, SearchRequest()).total == 0
    assert shelf.suggest(hostile, Audience(), limit=3) == []
    assert shelf.pinyin_titles("d'e\"n\\g", Audience(), limit=3) == []


def test_query_count_does_not_grow_with_matches(engine, django_assert_max_num_queries):
    """Counting, facets and a page are a fixed number of statements, however many documents match."""
    engine.index([_doc(n, f"党史第{n}讲", kind=f"k{n % 3}") for n in range(60)])
    with django_assert_max_num_queries(8):
        results = _search(engine, "党史", facets=True, per_page=10)
    assert results.total == 60 and len(results.hits) == 10


def _columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} LIMIT 0")
        return [column[0] for column in cursor.description]


def _old_index_finds(term: str) -> bool:
    """What the 0002 full-text index answers for one term (before 0004)."""
    if connection.vendor == "sqlite":
        sql = "SELECT count(*) FROM search_fts WHERE search_fts MATCH %s"
        params = [f'"{term}"']
    else:
        sql = "SELECT count(*) FROM search_indexentry WHERE to_tsvector('simple', terms) @@ to_tsquery('simple', %s)"
        params = [f"'{term}'"]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fts_migration_reverses_and_refills(embedded):
    """Migration 0004 goes back to the 0002 index (refilled from the rows) and forward again (the pinyin index
    refilled too), on SQLite and on PostgreSQL. Migration 0005 adds its columns without rebuilding the table (SQLite's
    FTS5 triggers survive it): after going back and forward, a new document is found and its exact title is first."""
    engine = EmbeddedEngine()
    call_command("migrate", "search", "0004_fts_pinyin", verbosity=0)
    assert "title_key" not in _columns("search_indexentry")
    call_command("migrate", verbosity=0)
    engine.index([_doc(2, "灯塔大课堂讲义", boost=1.5, date=timezone.now()), _doc(1, "灯塔大课堂")])
    assert _titles(engine, "灯塔大课堂") == ["灯塔大课堂", "灯塔大课堂讲义"]
    engine.delete(["test:2"])
    call_command("migrate", "search", "0003_fields_editors", verbosity=0)
    if connection.vendor == "sqlite":
        assert _columns("search_fts") == ["title_terms", "terms"]
    else:
        assert "title_vector" not in _columns("search_indexentry")
    assert _old_index_finds("灯塔")
    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite":
        assert _columns("search_fts") == ["title_terms", "terms", "pinyin"]
    else:
        assert "title_vector" in _columns("search_indexentry")
    assert _titles(engine, "dtdk") == ["灯塔大课堂"] and _titles(engine, "课堂") == ["灯塔大课堂"]


# --- Words that are not Chinese, the owning-unit filter, the result window, facet sizes, corrections


def test_words_that_are_not_chinese_are_found_and_suggested(engine):
    """café, Пушкин and ポケモン are stored as whole words and searched as whole words (not as Chinese bigrams),
    and the word being typed completes as a prefix whatever its script."""
    engine.index(
        [
            _doc(1, "Café 文化", body="巴黎的咖啡馆"),
            _doc(2, "Пушкин 诗选"),
            _doc(3, "ポケモン 图鉴"),
            _doc(4, "咖啡入门", body="cafe"),
        ]
    )
    assert _titles(engine, "café") == ["Café 文化"]
    assert _titles(engine, "ПУШКИН") == ["Пушкин 诗选"]
    assert _titles(engine, "ポケモン") == ["ポケモン 图鉴"]
    assert [s.text for s in engine.suggest(parse_query("caf"), Audience(), limit=5)] == ["Café 文化"]
    assert [s.text for s in engine.suggest(parse_query("Пуш"), Audience(), limit=5)] == ["Пушкин 诗选"]
    assert "<mark>Café</mark>" in _search(engine, "café").hits[0].title_html


def test_owning_unit_filter_is_exact_and_unit_path_takes_the_subtree(catalogue):
    """unit_id keeps only documents owned by exactly that unit; unit_path keeps the unit and those below it."""
    assert [hit.title for hit in _search(catalogue, "党史", unit_id=2).hits] == ["党史音频二"]
    assert _search(catalogue, "党史", unit_id=1).total == 1
    assert _search(catalogue, "党史", unit_path="0001").total == 3
    assert _search(catalogue, "党史", unit_id=1, unit_path="0001").total == 1
    assert _search(catalogue, "党史", unit_id=99).total == 0
    assert _search(catalogue, "党史", unit_id=2**70).total == 0  # no column holds it: nothing, never an error


def test_a_page_has_hits_only_within_the_result_window(catalogue):
    """The engines' rule: a page has hits only when page × per_page <= 10,000 (the true total either way)."""
    assert len(_search(catalogue, "党史", per_page=10_000).hits) == 4
    beyond = _search(catalogue, "党史", per_page=10_001)
    assert beyond.hits == [] and beyond.total == 4
    assert _search(catalogue, "党史", page=2, per_page=5_001).hits == []


def test_facets_show_twenty_values_and_ten_units(engine):
    """Each facet lists its 20 most frequent values (the unit facet 10), like the engines."""
    engine.index([_doc(n, f"党史{n}", subject=f"主题{n:02}", unit_id=n, year=1990 + n) for n in range(30)])
    facets = _search(engine, "党史", facets=True).facets
    assert [len(facets[dimension]) for dimension in ("subject", "year", "unit")] == [20, 20, 10]


def test_pinyin_titles_give_title_and_creators(engine):
    """ "Did you mean" reads title and creators together, so a misspelt author (曹雪琴) is corrected to the creator
    of a visible document (曹雪芹)."""
    from search.selectors import correction

    engine.index([_doc(1, "红楼梦", creators="曹雪芹"), _doc(2, "曹操传", creators="佚名", access="members")])
    assert engine.pinyin_titles("caoxueqin", Audience(), limit=5) == ["红楼梦 曹雪芹"]
    assert engine.pinyin_titles("cao", Audience(), limit=5) == ["红楼梦 曹雪芹"]
    assert correction(parse_query("曹雪琴"), Audience()) == "曹雪芹"
