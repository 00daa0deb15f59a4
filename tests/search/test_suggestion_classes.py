"""The order of suggestions on the embedded index (`EmbeddedEngine.suggest`): by how a title matches what is typed
(`embedded.SUGGESTION_CLASSES`: the title itself, a title starting with it, a title holding it, then pinyin), then
shorter titles, the more popular, the newer, the lower id; the same on this database's full-text index and on the
generic path, and never a title the member may not open."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from search.engines.analysis import parse_query
from search.engines.results import Audience

from .conftest import document as _doc

pytestmark = pytest.mark.django_db

UNIT_5 = Audience(levels=("public", "members"), unit_ids=(5,))
UNIT_6 = Audience(levels=("public", "members"), unit_ids=(6,))


def _suggested(engine, typed: str, audience: Audience | None = None, *, limit: int = 10) -> list[str]:
    return [s.text for s in engine.suggest(parse_query(typed), audience or Audience(), limit=limit)]


def test_the_title_itself_then_titles_starting_with_it_then_titles_holding_it(engine):
    """A class outranks length: 读红楼梦 (4 characters, holds 红楼) comes after 红楼梦人物谱 (6, starts with it)."""
    engine.index(
        [
            _doc(1, "读红楼梦"),
            _doc(2, "红楼梦人物谱"),
            _doc(3, "红楼梦"),
            _doc(4, "紅樓"),  # traditional: the same title key as 红楼
            _doc(5, "梦红楼"),
            _doc(6, "红色楼阁"),  # 红 and 楼 apart: not the bigram 红楼, no match
        ]
    )
    assert _suggested(engine, "红楼") == ["紅樓", "红楼梦", "红楼梦人物谱", "梦红楼", "读红楼梦"]
    assert _suggested(engine, "红楼", limit=2) == ["紅樓", "红楼梦"]


def test_a_latin_prefix_ranks_title_words_above_pinyin(engine):
    """Typed "ji": the title JI, then titles starting with a word ji…, then titles holding one, then titles whose
    pinyin starts with ji (shorter first)."""
    engine.index(
        [
            _doc(1, "吉祥如意"),
            _doc(2, "学 Jira"),
            _doc(3, "集"),
            _doc(4, "Jira 入门"),
            _doc(5, "JI"),
            _doc(6, "机器学习"),
            _doc(7, "春江", creators="纪昀"),  # the creator's pinyin counts, like the title's
        ]
    )
    assert _suggested(engine, "ji") == ["JI", "Jira 入门", "学 Jira", "集", "春江", "吉祥如意", "机器学习"]
    assert _suggested(engine, "jira") == ["Jira 入门", "学 Jira"]


def test_ties_go_to_the_popular_then_the_newer_then_the_first_indexed(engine):
    """Within one class and one length: boost, then date (undated last), then the order documents were indexed."""
    now = timezone.now()
    engine.index(
        [
            _doc(1, "春晓", date=now - timedelta(days=9)),
            _doc(2, "春望"),
            _doc(3, "春思"),
            _doc(4, "春夜", date=now),
            _doc(5, "春雨", boost=1.5, date=now - timedelta(days=900)),
        ]
    )
    assert _suggested(engine, "春") == ["春雨", "春夜", "春晓", "春望", "春思"]
    assert _suggested(engine, "春") == _suggested(engine, "春")


def test_each_title_once_even_when_many_documents_share_it(engine):
    """Thirty episodes titled 偈 count once, so 偈颂 (a later class page) is still reached."""
    engine.index([_doc(n, "偈") for n in range(30)] + [_doc(100, "偈颂"), _doc(101, "诵偈")])
    assert _suggested(engine, "偈", limit=3) == ["偈", "偈颂", "诵偈"]


@pytest.mark.parametrize("typed", ["红楼梦", "红楼", "楼梦", "hlm", "hongloumeng"])
def test_a_restricted_title_is_never_suggested_to_someone_who_may_not_open_it(engine, typed):
    """Whatever class a hidden title would fall in (the title itself, its start, inside it, its pinyin), it is
    offered only to those who may open it: members' titles to members, a unit's to that unit."""
    engine.index(
        [
            _doc(1, "红楼梦", access="members"),
            _doc(2, "红楼梦讲义", access="unit", access_unit_id=5),
            _doc(3, "细读红楼梦", access="unit", access_unit_id=5),
            _doc(4, "红楼梦人物谱"),
        ]
    )
    assert _suggested(engine, typed) == ["红楼梦人物谱"]
    assert "红楼梦" in _suggested(engine, typed, UNIT_6)
    assert not {"红楼梦讲义", "细读红楼梦"} & set(_suggested(engine, typed, UNIT_6))
    assert {"红楼梦", "红楼梦讲义", "细读红楼梦", "红楼梦人物谱"} <= set(_suggested(engine, typed, UNIT_5))


def test_the_suggestion_indexes_are_made_on_postgresql_only():
    """Migration 0007 indexes title starts on PostgreSQL (its index of the title terms alone gave way to 0008's
    table); SQLite is left as it was."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'search_indexentry'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'search_indexentry'")
        names = {row[0] for row in cursor.fetchall()}
    made = {
        "search_indexentry_title_key_prefix",
        "search_indexentry_title_start",
        "search_indexentry_title_start_2",
    }
    assert len(made & names) == (3 if connection.vendor == "postgresql" else 0)
    assert "search_indexentry_title_terms_vector" not in names
