"""Suggestions' title and pinyin classes and "did you mean"'s pinyin look-up on PostgreSQL read the narrow
`search_suggest` table (migration search 0008), which triggers keep in step with the index: these tests hold that it
follows every write, and that walking it by groups of title lengths gives the generic path's answers, in order."""

import pytest
from django.db import connection

from search.engines.analysis import parse_query
from search.engines.embedded import LENGTH_GROUPS
from search.engines.results import Audience
from search.models import IndexEntry

from .conftest import document as _doc

pytestmark = pytest.mark.django_db

UNIT_5 = Audience(levels=("public", "members"), unit_ids=(5,))
postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason=(
        "search_suggest and its triggers exist on PostgreSQL only (SQLite answers through FTS5); "
        "make test runs these on PostgreSQL"
    ),
)


def _copied() -> dict[str, tuple]:
    """{doc_id: (title length, access, a sorted list of the terms)} as the table holds them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.doc_id, p.title_length, p.access, tsvector_to_array(p.terms) "
            "FROM search_suggest p JOIN search_indexentry e ON e.id = p.entry_id"
        )
        return {doc_id: (length, access, sorted(terms)) for doc_id, length, access, terms in cursor.fetchall()}


def _count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM search_suggest")
        return cursor.fetchone()[0]


@postgresql_only
def test_the_table_follows_every_write_to_the_index(embedded):
    """A new document is copied with its title terms (t) and pinyin terms (p) led by its title's length; a changed
    title or access rewrites the copy; a deleted document and an emptied index leave no row behind."""
    from search.engines.embedded import EmbeddedEngine

    engine = EmbeddedEngine()
    engine.index([_doc(1, "灯塔"), _doc(2, "ABC"), _doc(3, "红楼梦", creators="曹雪芹")])
    copied = _copied()
    assert copied["test:1"] == (2, "public", ["p02dengta", "p02dt", "p02ta", "t02塔", "t02灯", "t02灯塔"])
    with connection.cursor() as cursor:
        entry = IndexEntry.objects.get(doc_id="test:1")
        cursor.execute("SELECT title_key FROM search_suggest WHERE entry_id = %s", [entry.pk])
        assert cursor.fetchone()[0] == "灯塔"
    assert copied["test:2"] == (3, "public", ["t03abc"])
    assert {"p03caoxueqin", "p03hlm", "t03红楼"} <= set(copied["test:3"][2])

    engine.index([_doc(1, "灯塔大课堂" + "学" * 30, access="members")])
    length, access, terms = _copied()["test:1"]
    assert (length, access) == (35, "members")
    assert all(term[1:3] == "25" for term in terms)  # 25 stands for 25 characters and over

    engine.index([_doc(3, "Red Chamber")])
    assert _copied()["test:3"][2] == ["t11chamber", "t11red"]
    engine.delete(["test:1", "test:2", "test:3"])
    assert _count() == 0
    engine.index([_doc(4, "春江")])
    IndexEntry.objects.all().delete()
    assert _count() == 0
    engine.index([_doc(5, "春江")])
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE search_indexentry")
    assert _count() == 0


@postgresql_only
def test_rewriting_an_unchanged_document_leaves_its_copy_alone(embedded):
    """The drain and rebuilds write most documents again unchanged: the copy is not rewritten then."""
    from search.engines.embedded import EmbeddedEngine

    engine = EmbeddedEngine()
    engine.index([_doc(1, "灯塔")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM search_suggest")
        before = cursor.fetchone()[0]
        engine.index([_doc(1, "灯塔")])
        cursor.execute("SELECT xmin::text FROM search_suggest")
        assert cursor.fetchone()[0] == before


def test_titles_holding_a_common_term_come_shortest_first_even_when_most_are_long(engine):
    """The library's "第…讲" titles: a term held by many long titles and few short ones. Titles holding 第 come
    shortest first across the groups (the two starting with it first, as their own class), each title once."""
    engine.index(
        [_doc(n, f"党的建设理论与实践专题第{n}讲") for n in range(1, 40)]
        + [_doc(100, "次第"), _doc(101, "第一"), _doc(102, "第二十讲"), _doc(103, "故乡的第一场雪")]
    )
    suggested = [s.text for s in engine.suggest(parse_query("第"), Audience(), limit=6)]
    long = "党的建设理论与实践专题第{}讲"
    assert suggested == ["第一", "第二十讲", "次第", "故乡的第一场雪", long.format(1), long.format(2)]


def test_a_title_shared_by_many_documents_does_not_crowd_out_the_titles_holding_it(engine):
    """150 articles titled 要闻 (the exact class) do not use up the titles-holding class's rows: 今日要闻 is still
    offered, as on every path."""
    engine.index([_doc(n, "要闻") for n in range(150)] + [_doc(500, "今日要闻"), _doc(501, "要闻快报")])
    suggested = [s.text for s in engine.suggest(parse_query("要闻"), Audience(), limit=8)]
    assert suggested == ["要闻", "要闻快报", "今日要闻"]


def test_a_long_query_asks_only_the_lengths_that_can_hold_it(engine):
    """A typed title longer than most titles is still found, in a title as long or longer (up to 25 and over)."""
    long = "中国共产党第二十次全国代表大会精神学习辅导"
    engine.index([_doc(1, "读" + long), _doc(2, long + "百问" * 5), _doc(3, "代表大会")])
    assert [s.text for s in engine.suggest(parse_query(long[2:]), Audience(), limit=5)] == [
        "读" + long,
        long + "百问" * 5,
    ]


def test_a_title_that_folding_lengthens_is_still_found(engine):
    """㍿ folds to 株式会社 (NFKC): a one-character title holds a four-character word."""
    engine.index([_doc(1, "㍿"), _doc(2, "株式会社概论")])
    assert [s.text for s in engine.suggest(parse_query("式会社"), Audience(), limit=5)] == ["㍿", "株式会社概论"]


def test_every_title_length_is_in_one_group():
    """The groups cover lengths 0 to 25 (25 and over), each once, shortest first."""
    lengths = [length for group in LENGTH_GROUPS for length in group]
    assert lengths == list(range(26))


def test_the_pinyin_class_walks_the_length_groups_in_order(engine):
    """Titles of lengths from 1 to 40 come shortest first across the groups' edges (2|3, 8|9, 12|13, 16|17, 24|25,
    and past 25 by their own length); hidden titles never; the look-up answers in the same order."""
    lengths = [40, 1, 25, 13, 9, 2, 26, 17, 3, 12, 8, 16, 24]
    engine.index(
        [_doc(length, "江" + "水" * (length - 1)) for length in lengths]
        + [_doc(100, "江水", access="members"), _doc(101, "江水水", access="unit", access_unit_id=6)]
    )
    expected = ["江" + "水" * (length - 1) for length in sorted(lengths)]
    suggested = [s.text for s in engine.suggest(parse_query("jiang"), Audience(), limit=20)]
    assert suggested == expected
    assert engine.pinyin_titles("jiang", Audience(), limit=20) == expected
    assert engine.pinyin_titles("jiang", Audience(), limit=3) == expected[:3]


def test_the_pinyin_class_keeps_each_audiences_titles(engine):
    """A unit's title is offered to that unit's members only, a members' title to any member (same length: by id)."""
    engine.index(
        [
            _doc(1, "江南", access="unit", access_unit_id=5),
            _doc(2, "江北", access="unit", access_unit_id=6),
            _doc(3, "江东", access="members"),
            _doc(4, "江西"),
        ]
    )
    assert [s.text for s in engine.suggest(parse_query("jiang"), UNIT_5, limit=10)] == ["江南", "江东", "江西"]
    assert engine.pinyin_titles("jiang", Audience(), limit=10) == ["江西"]
    everyone = Audience(levels=("public", "members"), all_units=True)
    assert engine.pinyin_titles("jiang", everyone, limit=10) == ["江南", "江北", "江东", "江西"]
    assert engine.pinyin_titles("jiang", Audience(levels=()), limit=10) == []
    assert engine.pinyin_titles("jiang", Audience(levels=(), unit_ids=(5, 2**63 - 1)), limit=10) == ["江南"]
