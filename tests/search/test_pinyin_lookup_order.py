"""The order of "did you mean"'s pinyin look-up (`EmbeddedEngine.pinyin_titles`) and of suggestions, which
PostgreSQL now reads through an index on `length(title)` (migration search 0006): the answers are the ones the
generic path gives (shortest title, then rank, popularity, the newer), whichever plan the database picks."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from search.engines.analysis import parse_query
from search.engines.results import Audience

from .conftest import document as _doc

pytestmark = pytest.mark.django_db

MEMBER = Audience(levels=("public", "members"), all_units=True)


def test_pinyin_look_up_gives_the_shortest_titles_then_the_popular_then_the_newer(engine):
    """Shortest first; among titles of one length the more popular, then the newer; hidden ones never."""
    now = timezone.now()
    engine.index(
        [
            _doc(1, "江南春色好", date=now),
            _doc(2, "江南", date=now - timedelta(days=30)),
            _doc(3, "江南曲", date=now - timedelta(days=3)),
            _doc(4, "江南弄", date=now - timedelta(days=1)),
            _doc(5, "江南好", boost=1.4, date=now - timedelta(days=300)),
            _doc(6, "江南行", access="members", date=now),
            _doc(7, "塞北", date=now),
        ]
    )
    assert engine.pinyin_titles("jiangnan", Audience(), limit=5) == ["江南", "江南好", "江南弄", "江南曲", "江南春色好"]
    assert engine.pinyin_titles("jn", Audience(), limit=3) == ["江南", "江南好", "江南弄"]
    assert engine.pinyin_titles("jiangnan", MEMBER, limit=3) == ["江南", "江南好", "江南行"]


def test_pinyin_look_up_walks_past_repeated_titles(engine):
    """Many short documents with one title count once, so longer titles further on are still reached."""
    engine.index([_doc(n, "偈") for n in range(30)] + [_doc(100, "偈颂"), _doc(101, "偈语十首")])
    assert engine.pinyin_titles("ji", Audience(), limit=3) == ["偈", "偈颂", "偈语十首"]


def test_suggestions_keep_their_order(engine):
    """Suggestions still put a title match above a pinyin-only match, a shorter title above a longer one."""
    engine.index([_doc(1, "江南春色好"), _doc(2, "江南"), _doc(3, "将南行"), _doc(4, "春江")])
    assert [s.text for s in engine.suggest(parse_query("江南"), Audience(), limit=5)] == ["江南", "江南春色好"]
    assert [s.text for s in engine.suggest(parse_query("jiangnan"), Audience(), limit=5)] == [
        "江南",
        "将南行",
        "江南春色好",
    ]


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'search_indexentry'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'search_indexentry'")
        return {row[0] for row in cursor.fetchall()}


def test_the_title_length_index_is_made_on_postgresql_only():
    """Migration 0006 indexes length(title) on PostgreSQL and leaves SQLite's schema as it was."""
    present = "search_indexentry_title_length_expr" in _index_names()
    assert present == (connection.vendor == "postgresql")
