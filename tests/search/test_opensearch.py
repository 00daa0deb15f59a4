"""Against a real OpenSearch node (`make test` starts one and exports SEARCH_URL).

Each test works on its own index prefix (the `opensearch` fixture) and deletes its indices afterwards, so
helpers and parallel runs never see each other's documents.
"""

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from library.models import LibraryItem
from search.engines.analysis import parse_query, synonym_map
from search.engines.choice import get_cluster_engine
from search.engines.cluster import bulk_bodies, document_sources, split_nodes
from search.engines.results import Audience, SearchError, SearchRequest, SearchUnavailable
from search.models import OutboxEntry
from search.registry import SearchDocument
from search.selectors import search_items
from search.services import search_outbox_drain, search_rebuild

OPENSEARCH_URL = os.environ.get("SEARCH_URL", "")
pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db,
    pytest.mark.skipif(
        not OPENSEARCH_URL or os.environ.get("SEARCH_ENGINE", "opensearch") != "opensearch",
        reason="needs a real OpenSearch node: SEARCH_URL is unset (run `make test`, or services/up and source "
        "var/services/env)",
    ),
]
NOW = datetime.now(UTC)
MEMBER = Audience(levels=("public", "members"))


@pytest.fixture
def opensearch(settings):
    """The configured engine on a fresh index prefix; its indices are deleted afterwards."""
    settings.SEARCH_URL = OPENSEARCH_URL
    settings.SEARCH_ENGINE = "opensearch"
    settings.SEARCH_INDEX_PREFIX = f"lhtest-{uuid.uuid4().hex[:8]}"
    engine = get_cluster_engine()
    yield engine
    engine.admin.indices.delete(index=f"{engine.alias}*", ignore_unavailable=True)


def _doc(doc_id, title, **fields) -> SearchDocument:
    fields.setdefault("kind", "ebook")
    fields.setdefault("url", f"/item/{doc_id}/")
    return SearchDocument(doc_id=f"test:{doc_id}", title=title, **fields)


def _put(engine, *documents, version=None):
    engine.ensure_index()
    engine.index(list(documents), version=version)
    engine.refresh()


def _find(engine, query, *, synonyms=None, **request):
    return engine.search(parse_query(query, synonyms=synonyms), SearchRequest(**request))


def _titles(engine, query, **request) -> list[str]:
    return [hit.title for hit in _find(engine, query, **request).hits]


def _stored_title(engine, doc_id):
    response = engine.client.search(index=engine.alias, body={"query": {"ids": {"values": [f"test:{doc_id}"]}}})
    hits = response["hits"]["hits"]
    return hits[0]["_source"]["title"] if hits else None


# --- Analysis and matching


def test_the_node_analyses_chinese_as_bigrams(opensearch):
    """The node's analyzer folds traditional and full-width text and makes bigrams."""
    opensearch.ensure_index()
    response = opensearch.client.indices.analyze(
        index=opensearch.alias, body={"analyzer": "lighthouse_cjk", "text": "紅樓夢ＡＢＣ"}
    )
    assert [token["token"] for token in response["tokens"]] == ["红楼", "楼梦", "abc"]


def test_finds_chinese_substrings_single_characters_and_traditional(opensearch):
    """Partial titles, creators, one character and traditional characters all find their documents."""
    _put(
        opensearch,
        _doc(1, "红楼梦有声书", creators="曹雪芹", body="贾宝玉与林黛玉的故事。"),
        _doc(2, "中国共产党党史学习读本", body="学习党史，坚定信念。"),
        _doc(3, "乡村振兴实用技术", body="果树栽培与病虫害防治。"),
    )
    assert _titles(opensearch, "红楼梦") == ["红楼梦有声书"]
    assert _titles(opensearch, "黨史") == ["中国共产党党史学习读本"]
    assert _titles(opensearch, "曹雪芹") == ["红楼梦有声书"]
    assert _titles(opensearch, "梦") == ["红楼梦有声书"]
    assert _titles(opensearch, "果树 病虫害") == ["乡村振兴实用技术"]
    assert _titles(opensearch, "航天") == []


def test_pinyin_full_spelling_and_initials(opensearch):
    """`dengta`, `dtdk` and `ketang` find 灯塔大课堂 (title pinyin), `caoxueqin` finds the author's book."""
    _put(opensearch, _doc(1, "灯塔大课堂"), _doc(2, "红楼梦", creators="曹雪芹"), _doc(3, "乡村振兴"))
    assert _titles(opensearch, "dengta") == ["灯塔大课堂"]
    assert _titles(opensearch, "dtdk") == ["灯塔大课堂"]
    assert _titles(opensearch, "ke tang") == ["灯塔大课堂"]
    assert _titles(opensearch, "caoxueqin") == ["红楼梦"]
    assert _titles(opensearch, "dengtaxyz") == []


def test_synonyms_find_the_other_words_and_rank_below_the_query_as_typed(opensearch):
    """With 党史 ↔ 中国共产党历史, 党史 finds both; the document with the typed word ranks first."""
    _put(opensearch, _doc(1, "中国共产党历史读本"), _doc(2, "党史读本"), _doc(3, "乡村振兴"))
    synonyms = synonym_map([["党史", "中国共产党历史"]])
    assert [hit.title for hit in _find(opensearch, "党史", synonyms=synonyms).hits] == [
        "党史读本",
        "中国共产党历史读本",
    ]
    assert _titles(opensearch, "党史") == ["党史读本"]


def test_exact_phrase_and_title_rank_above_scattered_bigrams(opensearch):
    """The query in order (a phrase) ranks above the same bigrams scattered about; a title above a body."""
    _put(
        opensearch,
        _doc(1, "农业技术汇编", body="本书讲果树栽培。"),
        _doc(2, "果树栽培手册", body="内容提要"),
        _doc(3, "果树栽种与栽培", body="内容提要"),
    )
    assert _titles(opensearch, "果树栽培") == ["果树栽培手册", "农业技术汇编", "果树栽种与栽培"]


# --- Ranking factors


def test_freshness_and_boost_multiply_the_score(opensearch):
    """Of equal texts the newer ranks first; a boost of 2 outweighs freshness; no date counts as plain."""
    _put(
        opensearch,
        _doc(1, "党史故事", date=NOW - timedelta(days=800)),
        _doc(2, "党史故事", date=NOW),
        _doc(3, "党史故事", date=NOW - timedelta(days=800), boost=2.0),
    )
    hits = _find(opensearch, "党史").hits
    assert [hit.doc_id for hit in hits] == ["test:3", "test:2", "test:1"]
    assert 1.1 < hits[1].score / hits[2].score < 1.25  # 1 + 0.2 × decay: about 1.2 today vs ~1.06


def test_newest_sorts_by_date_then_score(opensearch):
    """sort="newest": date descending whatever the relevance; undated documents last."""
    _put(
        opensearch,
        _doc(1, "党史党史", date=NOW - timedelta(days=30)),
        _doc(2, "党史", body="x", date=NOW),
        _doc(3, "党史读本"),
    )
    assert [hit.doc_id for hit in _find(opensearch, "党史", sort="newest").hits] == ["test:2", "test:1", "test:3"]


def test_an_exact_title_ranks_first_and_ties_go_to_the_shorter_title(opensearch):
    """A title equal to the query after folding (三, 紅樓夢 for 红楼梦) comes first whatever the freshness, boost or
    text of titles that only contain it; 其一○ is told apart from 其一 (○ folds to 〇); equal scores go to the
    shorter title, then the doc_id."""
    _put(
        opensearch,
        _doc(1, "其一三", body="三山三水三月三", boost=1.4, date=NOW),
        _doc(2, "三", date=NOW - timedelta(days=3000)),
        _doc(3, "红楼梦有声书", body="红楼梦红楼梦", boost=1.5, date=NOW),
        _doc(4, "紅樓夢", date=NOW - timedelta(days=3000)),
        _doc(5, "致仕後即事 其一○"),
        _doc(6, "致仕後即事 其一"),
        _doc("9c", "党史讲座"),
        _doc("9a", "党史讲座"),
    )
    assert _titles(opensearch, "三")[0] == "三"
    assert _titles(opensearch, "红楼梦") == ["紅樓夢", "红楼梦有声书"]
    assert _titles(opensearch, "其一○") == _titles(opensearch, "其一〇") == ["致仕後即事 其一○"]
    titles = _titles(opensearch, "其一")
    assert titles.index("致仕後即事 其一") < titles.index("致仕後即事 其一○")
    assert [hit.doc_id for hit in _find(opensearch, "党史讲座").hits] == ["test:9a", "test:9c"]


# --- Access, filters and facets


def _access_documents(engine):
    _put(
        engine,
        _doc(1, "党史公开课", subject="历史", year=2024, unit_id=1, unit_path="0001"),
        _doc(2, "党史内部资料", access="members", subject="历史", year=2023, unit_id=1, unit_path="0001"),
        _doc(
            3,
            "党史支部材料",
            access="unit",
            access_unit_id=7,
            subject="机密",
            year=2022,
            unit_id=7,
            unit_path="00010002",
        ),
        _doc(4, "党史县级读本", kind="video", subject="历史", year=2024, unit_id=8, unit_path="000100020001"),
    )


def test_audience_sees_only_what_it_may_and_facets_do_not_leak(opensearch):
    """Anonymous: public only; members: members too; a unit's member: that unit's "unit" document; facet
    counts never count documents the audience may not see."""
    _access_documents(opensearch)
    anonymous = _find(opensearch, "党史", facets=True)
    assert {hit.doc_id for hit in anonymous.hits} == {"test:1", "test:4"} and anonymous.total == 2
    assert {value.value: value.count for value in anonymous.facets["access"]} == {"public": 2}
    assert {value.value for value in anonymous.facets["subject"]} == {"历史"}
    assert {hit.doc_id for hit in _find(opensearch, "党史", audience=MEMBER).hits} == {"test:1", "test:2", "test:4"}
    unit_member = Audience(levels=("public", "members"), unit_ids=(1, 7))
    assert _find(opensearch, "党史", audience=unit_member).total == 4
    assert _find(opensearch, "党史", audience=Audience(levels=("public",), unit_ids=(8,))).total == 2
    assert _find(opensearch, "党史", audience=Audience(levels=(), all_units=True)).total == 1
    assert _find(opensearch, "党史", audience=Audience(levels=())).total == 0


def test_chosen_filters_and_unit_subtree(opensearch):
    """kind, subject, year and access are exact; unit_path takes the unit and everything below it."""
    _access_documents(opensearch)
    everyone = Audience(levels=("public", "members"), all_units=True)
    assert _titles(opensearch, "党史", audience=everyone, kind="video") == ["党史县级读本"]
    assert _find(opensearch, "党史", audience=everyone, subject="历史").total == 3
    assert {h.doc_id for h in _find(opensearch, "党史", audience=everyone, year=2024).hits} == {"test:1", "test:4"}
    assert _titles(opensearch, "党史", audience=everyone, access="members") == ["党史内部资料"]
    subtree = _find(opensearch, "党史", audience=everyone, unit_path="00010002")
    assert {hit.doc_id for hit in subtree.hits} == {"test:3", "test:4"}
    assert _titles(opensearch, "党史", access="members") == []  # a filter never widens the audience


def test_facets_count_every_match_under_the_filters(opensearch):
    """Facet values are strings, most first, over all matches (not just the page), empty values skipped."""
    _access_documents(opensearch)
    _put(opensearch, _doc(5, "党史答问", subject="", year=2024, unit_id=1))
    results = _find(opensearch, "党史", audience=MEMBER, facets=True, per_page=1)
    assert len(results.hits) == 1 and results.total == 4
    counts = {dimension: [(v.value, v.count) for v in values] for dimension, values in results.facets.items()}
    assert counts["kind"] == [("ebook", 3), ("video", 1)]
    assert counts["subject"] == [("历史", 3)]
    assert counts["year"] == [("2024", 3), ("2023", 1)]
    assert counts["unit"] == [("1", 3), ("8", 1)]
    assert counts["access"] == [("public", 3), ("members", 1)]
    assert _find(opensearch, "党史", audience=MEMBER).facets == {}
    filtered = _find(opensearch, "党史", audience=MEMBER, facets=True, kind="video")
    assert [(v.value, v.count) for v in filtered.facets["kind"]] == [("video", 1)]


# --- Hits


def test_highlights_escape_html_and_mark_matches(opensearch):
    """Titles and snippets are escaped with matches in <mark>; a snippet without a match is the body's start;
    a body without punctuation still gives a short snippet."""
    _put(
        opensearch,
        _doc(1, "<b>果树</b>栽培", body="<script>alert(1)</script>讲果树栽培。"),
        _doc(2, "果树栽培大全", subtitle="<实用>手册", body=""),
        _doc(3, "长文", body="长" * 50_000 + "果树栽培" + "长" * 50_000),
    )
    hits = {hit.doc_id: hit for hit in _find(opensearch, "果树栽培").hits}
    assert (
        hits["test:1"].title_html.startswith("&lt;b&gt;<mark>果树</mark>&lt;")
        and "<b>" not in hits["test:1"].title_html
    )
    assert "&lt;script&gt;" in hits["test:1"].snippet and "<mark>果树栽培</mark>" in hits["test:1"].snippet
    assert hits["test:2"].snippet == "&lt;实用&gt;手册"
    assert "<mark>果树栽培</mark>" in hits["test:3"].snippet and len(hits["test:3"].snippet) < 220
    assert _find(opensearch, "长文").hits[0].snippet.startswith("长长长")


def test_pages_past_the_end_and_past_the_window(opensearch):
    """A page past the end has no hits and the true total; so does a page past the 10,000 window."""
    _put(opensearch, *[_doc(n, f"党史{n}") for n in range(3)])
    assert [len(_find(opensearch, "党史", page=page, per_page=2).hits) for page in (1, 2, 3)] == [2, 1, 0]
    assert _find(opensearch, "党史", page=3, per_page=2).total == 3
    deep = _find(opensearch, "党史", page=500, per_page=100, facets=True)
    assert deep.hits == [] and deep.total == 3 and deep.facets["kind"][0].count == 3


# --- Suggestions and corrections


def test_suggest_titles_by_text_prefix_and_pinyin(opensearch):
    """Suggestions come from titles (not bodies) the audience may see, each title once; the last ASCII word
    may be a prefix; pinyin initials work too."""
    _put(
        opensearch,
        _doc(1, "灯塔大课堂", boost=2.0),
        _doc(2, "灯塔大课堂"),
        _doc(3, "灯塔之光", access="members"),
        _doc(4, "乡村振兴", body="灯塔"),
        _doc(5, "Python 入门"),
    )
    parsed = parse_query("灯塔")
    assert [s.text for s in opensearch.suggest(parsed, Audience(), limit=5)] == ["灯塔大课堂"]
    assert opensearch.suggest(parsed, Audience(), limit=5)[0].url == "/item/1/"
    assert {s.text for s in opensearch.suggest(parsed, MEMBER, limit=5)} == {"灯塔大课堂", "灯塔之光"}
    assert [s.text for s in opensearch.suggest(parse_query("dtd"), Audience(), limit=5)] == ["灯塔大课堂"]
    assert [s.text for s in opensearch.suggest(parse_query("pyth"), Audience(), limit=5)] == ["Python 入门"]
    assert opensearch.suggest(parse_query("振兴 灯塔"), Audience(), limit=5) == []


def test_pinyin_titles_short_first_and_visible_only(opensearch):
    """Titles whose pinyin starts with the query, shortest first, never ones the audience may not see."""
    _put(
        opensearch,
        _doc(1, "红楼梦的故事"),
        _doc(2, "红楼梦"),
        _doc(3, "红楼梦内部", access="members"),
        _doc(4, "西游记"),
    )
    assert opensearch.pinyin_titles("hongloumeng", Audience(), limit=5) == ["红楼梦", "红楼梦的故事"]
    assert opensearch.pinyin_titles("hlm", MEMBER, limit=1) in (["红楼梦"], ["红楼梦内部"], ["红楼梦的故事"])
    assert opensearch.pinyin_titles("xiyouji", Audience(), limit=5) == ["西游记"]


# --- Writes


def test_a_write_with_an_older_version_is_ignored(opensearch):
    """A slow worker's older document never overwrites a newer one (409 counts as success)."""
    _put(opensearch, _doc(1, "新标题"), version=2_000)
    _put(opensearch, _doc(1, "旧标题"), version=1_000)
    assert _stored_title(opensearch, 1) == "新标题"
    _put(opensearch, _doc(1, "更新标题"), version=3_000)
    assert _stored_title(opensearch, 1) == "更新标题"


def test_a_delete_leaves_a_tombstone_a_stale_write_cannot_undo(opensearch):
    """After a delete at version v, a write read before it (version < v) does not bring the document back;
    deleting what is gone is success."""
    _put(opensearch, _doc(1, "标题"), version=1_000)
    opensearch.delete(["test:1"], version=3_000)
    opensearch.delete(["test:1", "test:never"], version=3_500)
    _put(opensearch, _doc(1, "标题"), version=2_000)
    assert _stored_title(opensearch, 1) is None
    opensearch.delete(["test:2"], version=5_000)
    _put(opensearch, _doc(2, "从未有过"), version=4_000)
    assert _stored_title(opensearch, 2) is None
    _put(opensearch, _doc(1, "恢复"), version=6_000)
    assert _stored_title(opensearch, 1) == "恢复"


def test_prepared_bulk_bodies_index_their_documents_and_raise_only_real_item_errors(opensearch):
    """A rebuild's chunk sent as prepared _bulk bodies (bulk_bodies, made in a reading process) is stored as index()
    stores it: searchable by its analysed fields; an older version is ignored (409 is success); a document the
    mapping refuses is a SearchError, not lost silently."""
    new = opensearch.create_index()
    documents = [_doc(1, "红楼梦"), _doc(2, "西游记")]
    opensearch.index_bodies(bulk_bodies(document_sources(documents), version=2_000), index=new)
    opensearch.index_bodies(bulk_bodies(document_sources([_doc(1, "旧的红楼梦")]), version=1_000), index=new)
    opensearch.switch_alias(new)
    assert _stored_title(opensearch, 1) == "红楼梦" and _titles(opensearch, "hongloumeng") == ["红楼梦"]
    refused = bulk_bodies([("test:3", {"title": "年份不对", "year": "一九四九"})], version=3_000)
    with pytest.raises(SearchError, match="1 bulk errors"):
        opensearch.index_bodies(refused, index=new)


def test_writes_during_a_rebuild_reach_the_new_index_and_switch_alias_swaps(opensearch):
    """While `-building` exists, index()/delete() also reach the new index; switch_alias makes it live, drops
    `-building` and deletes the old index."""
    _put(opensearch, _doc(1, "旧文档"), _doc(2, "将被删除"))
    old = opensearch.indices_behind_alias()
    new = opensearch.create_index()
    opensearch.index([_doc(3, "重建中新增")])
    opensearch.delete(["test:2"])
    opensearch.index([_doc(1, "重建读到的旧文档")], index=new, version=1)  # the rebuild's own (older) write
    opensearch.switch_alias(new)
    opensearch.refresh()
    assert opensearch.indices_behind_alias() == [new]
    assert not opensearch.admin.indices.exists(index=old[0])
    assert not opensearch.admin.indices.exists_alias(name=opensearch.building_alias)
    assert sorted(_titles(opensearch, "重建")) == ["重建中新增", "重建读到的旧文档"]
    assert _titles(opensearch, "删除") == []


def test_create_index_drops_an_abandoned_rebuild(opensearch):
    """A rebuild that died left its index behind `-building`: the next one removes it, so writes have one
    building index to mirror to."""
    opensearch.ensure_index()
    abandoned = opensearch.create_index()
    fresh = opensearch.create_index()
    assert opensearch.admin.indices.get_alias(name=opensearch.building_alias).keys() == {fresh}
    assert not opensearch.admin.indices.exists(index=abandoned)
    _put(opensearch, _doc(1, "党史"))
    assert opensearch.count() == 1


def test_a_write_the_index_refuses_is_a_search_error(opensearch):
    """A document the mapping refuses (a year that is no number) raises SearchError, not the client's error."""
    opensearch.ensure_index()
    with pytest.raises(SearchError):
        opensearch.index([_doc(1, "党史", year="不是年份")])


# --- Nodes and failures


def test_a_dead_node_in_search_url_loses_no_query(settings, opensearch, closed_port_url):
    """SEARCH_URL "closed,live": every query and write still answers (the client retries on the other node)."""
    _put(opensearch, _doc(1, "党史"))
    settings.SEARCH_URL = f"{closed_port_url},{OPENSEARCH_URL}"
    engine = get_cluster_engine()
    assert engine is not opensearch and len(engine.nodes) == len(split_nodes(OPENSEARCH_URL)) + 1
    engine.index([_doc(2, "党史二")])
    engine.refresh()
    assert [_find(engine, "党史").total for _ in range(4)] == [2, 2, 2, 2]


def test_engine_down_and_engine_errors_become_search_errors(settings, opensearch, closed_port_url):
    """Every node down: SearchUnavailable; a missing index: SearchError; neither is the client's exception."""
    settings.SEARCH_URL = f"{closed_port_url},{closed_port_url}"
    with pytest.raises(SearchUnavailable):
        _find(get_cluster_engine(), "党史")
    with pytest.raises(SearchError):
        opensearch.count()
    with pytest.raises(SearchError):
        _find(opensearch, "党史")


def test_engine_cache_keeps_one_engine_per_settings(settings, opensearch):
    """The same settings give the same engine (one connection pool); another prefix gives another."""
    assert get_cluster_engine() is opensearch
    settings.SEARCH_INDEX_PREFIX = "lhtest-other"
    assert get_cluster_engine() is not opensearch


# --- Through the site's pipeline (library items, outbox, rebuild)


def _sync(engine):
    from search.services import search_outbox_drain_all

    search_outbox_drain_all()
    engine.refresh()


def _site_titles(query, user=None, **kwargs):
    results = search_items(query=query, user=user, **kwargs)
    assert results.backend == "opensearch" and not results.degraded
    return [hit.title for hit in results.hits]


def test_access_through_the_site(opensearch, make_item):
    """Anonymous visitors get public items only; members also members-only ones."""
    make_item("党史公开课")
    make_item("党史内部资料", access=LibraryItem.Access.MEMBERS)
    _sync(opensearch)
    member = get_user_model().objects.create_user(username="m", password="x")
    assert _site_titles("党史") == ["党史公开课"]
    assert sorted(_site_titles("党史", user=member)) == ["党史公开课", "党史内部资料"]


def test_outbox_waits_for_the_engine_and_drains_when_it_returns(opensearch, settings, closed_port_url, make_item):
    """Engine down: entries stay and the site answers from the embedded index; back up: they drain."""
    settings.SEARCH_URL = closed_port_url
    make_item("红楼梦有声书")
    assert search_outbox_drain() == 0
    assert search_items(query="红楼梦", user=None).degraded
    settings.SEARCH_URL = OPENSEARCH_URL
    OutboxEntry.objects.update(next_attempt_at=None)
    _sync(opensearch)
    assert not OutboxEntry.objects.exists()
    assert _site_titles("红楼梦") == ["红楼梦有声书"]


def test_rebuild_swaps_the_alias(opensearch, make_item):
    """A rebuild fills a new index and swaps the alias to it, dropping the old index."""
    make_item("西游记连环画")
    _sync(opensearch)
    before = opensearch.indices_behind_alias()
    assert search_rebuild() == 1
    after = opensearch.indices_behind_alias()
    assert len(after) == 1 and after != before
    assert not opensearch.admin.indices.exists(index=before[0])
    opensearch.refresh()
    assert _site_titles("西游") == ["西游记连环画"]


@pytest.mark.parametrize(
    "query", ["", "x" * 10_000, "！？。", "😀", "title:*", "AND (", "<script>alert(1)</script>", "长" * 100]
)
def test_bad_input_on_opensearch(opensearch, make_item, query):
    """Bad input gets an answer from the engine, never an engine error."""
    make_item("党史")
    _sync(opensearch)
    results = search_items(query=query, user=None, page=5000)
    assert results.backend in ("opensearch", "") and not results.degraded
    assert _find(opensearch, query, page=3).hits == []


# --- Review fixes: non-Chinese words, owning unit, corrections by creator, a lost alias


def test_words_that_are_not_chinese_are_found(opensearch):
    """café, Пушкин and ポケモン find their documents on the engine as on the embedded index; a lone non-Chinese
    letter is a word, not a unigram search."""
    _put(opensearch, _doc(1, "Café 文化"), _doc(2, "Пушкин 诗选"), _doc(3, "ポケモン 图鉴"), _doc(4, "咖啡"))
    assert _titles(opensearch, "café") == ["Café 文化"]
    assert _titles(opensearch, "пушкин") == ["Пушкин 诗选"]
    assert _titles(opensearch, "ポケモン") == ["ポケモン 图鉴"]
    assert [s.text for s in opensearch.suggest(parse_query("Пуш"), Audience(), limit=5)] == ["Пушкин 诗选"]


def test_owning_unit_filter_is_exact(opensearch):
    """unit_id keeps documents owned by exactly that unit; unit_path the unit and those below it."""
    _access_documents(opensearch)
    everyone = Audience(levels=("public", "members"), all_units=True)
    assert _titles(opensearch, "党史", audience=everyone, unit_id=7) == ["党史支部材料"]
    assert _find(opensearch, "党史", audience=everyone, unit_path="00010002").total == 2
    assert _find(opensearch, "党史", audience=everyone, unit_id=99).total == 0


def test_a_misspelt_creator_is_corrected_through_the_engine(opensearch):
    """pinyin_titles gives "title creators", so the site's correction finds 曹雪芹 for 曹雪琴 on the engine."""
    from search.selectors import correction

    _put(opensearch, _doc(1, "红楼梦", creators="曹雪芹"), _doc(2, "西游记", creators="吴承恩"))
    assert opensearch.pinyin_titles("caoxueqin", Audience(), limit=5) == ["红楼梦 曹雪芹"]
    assert correction(parse_query("曹雪琴"), Audience()) == "曹雪芹"


def _ours(engine) -> list[str]:
    return sorted(engine.admin.indices.get(index=f"{engine.alias}-*", expand_wildcards="all", filter_path="*.settings"))


def test_a_lost_alias_is_an_error_not_a_new_empty_index(opensearch, caplog):
    """First start (no index of ours): ensure_index creates one. Later, with the alias gone but its index still
    there, a fresh engine raises SearchError and logs an error instead of putting an empty index behind the
    alias; the engine that saw the alias raises too even when nothing is left; search_rebuild repairs it."""
    from search.engines.cluster import OpenSearchEngine

    _put(opensearch, _doc(1, "党史"))
    (index,) = _ours(opensearch)
    opensearch.admin.indices.delete_alias(index=index, name=opensearch.alias)
    fresh = OpenSearchEngine(url=OPENSEARCH_URL, prefix=opensearch.alias.removesuffix("-documents"))
    with pytest.raises(SearchError), caplog.at_level("ERROR", logger="search.engines.cluster"):
        fresh.ensure_index()
    assert _ours(opensearch) == [index] and "search_rebuild" in caplog.text
    opensearch.admin.indices.delete(index=index)
    with pytest.raises(SearchError):
        opensearch.index([_doc(2, "党史二")])  # the alias is gone: a bulk error
    with pytest.raises(SearchError):
        opensearch.ensure_index()
    assert _ours(opensearch) == []
    opensearch.switch_alias(opensearch.create_index())  # what search_rebuild does
    opensearch.ensure_index()
    assert len(_ours(opensearch)) == 1 and opensearch.count() == 0
