"""Suggestion keys (SuggestKey, migration 0006): kept current with every embedded entry, and one-run suggestions and
pinyin look-ups read them with the same answers full-text ranking gives."""

import importlib

import pytest
from django.apps import apps

from search.engines.analysis import parse_query
from search.engines.embedded import EmbeddedEngine
from search.engines.results import Audience
from search.models import IndexEntry, SuggestKey
from search.registry import SearchDocument
from search.services import search_outbox_drain_all

pytestmark = pytest.mark.django_db

MEMBER = Audience(levels=("public", "members"), unit_ids=(5,))
CORPUS = [
    ("灯塔", {}),
    ("灯塔大课堂", {"creators": "李明"}),
    ("灯塔党建报合订本", {"access": "members"}),
    ("红楼梦", {}),
    ("红楼梦有声书", {"boost": 1.2}),
    ("红色故事会第一辑", {}),
    ("沂蒙精神", {"creators": "王红"}),
    ("Python 入门", {}),
    ("党史学习教育读本", {"access": "unit", "access_unit_id": 5}),
]
QUERIES = ["灯", "灯塔", "红", "红楼", "dt", "deng", "hong", "hlm", "py", "p", "yimeng", "党", "党史", "wang"]


def _doc(key, title, **fields) -> SearchDocument:
    return SearchDocument(doc_id=f"test:{key}", kind="ebook", title=title, url=f"/d/{key}/", **fields)


def _keys(doc_id: str) -> dict[str, tuple[int, int]]:
    entry = IndexEntry.objects.get(doc_id=doc_id)
    return {key.key: (key.in_title, key.in_pinyin) for key in SuggestKey.objects.filter(entry=entry)}


@pytest.fixture
def corpus(embedded):
    engine = EmbeddedEngine()
    engine.index([_doc(number, title, **fields) for number, (title, fields) in enumerate(CORPUS)])
    return engine


def _answers(engine) -> dict:
    found = {}
    for audience in (Audience(), MEMBER):
        for query in QUERIES:
            found[(query, audience)] = [s.text for s in engine.suggest(parse_query(query), audience, limit=5)]
        for spelled in ("dengta", "dt", "hong", "wang"):
            found[(spelled, audience, "pinyin")] = engine.pinyin_titles(spelled, audience, limit=5)
    return found


def test_suggestions_from_keys_are_those_full_text_ranking_gives(corpus, monkeypatch):
    """Every one-run query (a character, a bigram, a word or pinyin being typed) and every pinyin look-up answers
    from the keys exactly as the full-text path does, for anonymous visitors and members alike."""
    from_keys = _answers(corpus)
    monkeypatch.setattr("search.engines.embedded._key_plan", lambda ask: None)
    assert from_keys == _answers(corpus)
    assert from_keys[("灯", Audience())] == ["灯塔", "灯塔大课堂"]
    assert from_keys[("灯", MEMBER)] == ["灯塔", "灯塔大课堂", "灯塔党建报合订本"]
    assert from_keys[("党", MEMBER)] == ["灯塔党建报合订本", "党史学习教育读本"] and from_keys[("党", Audience())] == []


def test_keys_follow_their_entry_when_it_is_written_again_and_deleted(embedded):
    """A rewritten entry has the keys of its new title, creators and access only; a deleted one has none."""
    engine = EmbeddedEngine()
    engine.index([_doc(1, "灯塔大课堂", creators="李明")])
    keys = _keys("test:1")
    assert keys["灯塔"] == (1, 0) and keys["dtdkt"] == (0, 1) and keys["liming"] == (0, 1)
    engine.index([_doc(1, "沂蒙精神", access="members")])
    keys = _keys("test:1")
    assert "灯塔" not in keys and "liming" not in keys and keys["沂蒙"] == (1, 0) and keys["yimengjingshen"] == (0, 1)
    assert set(SuggestKey.objects.values_list("access", flat=True)) == {"members"}
    assert [s.text for s in engine.suggest(parse_query("灯"), MEMBER, limit=5)] == []
    engine.delete(["test:1"])
    assert not SuggestKey.objects.exists()


def test_the_drain_keeps_keys_current_on_create_update_and_delete(embedded, make_item):
    """Through the outbox: a new item's title is suggested, a renamed one by its new title only, a deleted one not."""
    item = make_item("灯塔大课堂")
    search_outbox_drain_all()
    suggest = EmbeddedEngine().suggest
    assert [s.text for s in suggest(parse_query("dtdk"), Audience(), limit=5)] == ["灯塔大课堂"]
    item.title = "沂蒙精神"
    item.save()
    search_outbox_drain_all()
    assert [s.text for s in suggest(parse_query("dtdk"), Audience(), limit=5)] == []
    assert [s.text for s in suggest(parse_query("沂"), Audience(), limit=5)] == ["沂蒙精神"]
    item.delete()
    search_outbox_drain_all()
    assert not SuggestKey.objects.exists() and [s.text for s in suggest(parse_query("沂"), Audience(), limit=5)] == []


def test_migration_0006_fills_the_keys_of_rows_already_indexed(corpus):
    """Rows indexed before 0006 get the same keys from the terms they store, so suggestions answer at once."""
    before = _answers(corpus)
    written = sorted(SuggestKey.objects.values_list("key", "entry_id", "in_title", "in_pinyin", "newness"))
    SuggestKey.objects.all().delete()
    importlib.import_module("search.migrations.0006_suggest_keys").fill(apps, None)
    assert sorted(SuggestKey.objects.values_list("key", "entry_id", "in_title", "in_pinyin", "newness")) == written
    assert _answers(corpus) == before
