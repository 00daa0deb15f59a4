"""Against a real OpenSearch node (`make test` starts one and exports SEARCH_URL)."""

import os
import uuid

import pytest
from django.contrib.auth import get_user_model

from library.models import LibraryItem
from search.engine import get_cluster_engine
from search.models import OutboxEntry
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


@pytest.fixture
def opensearch(settings):
    """The configured engine on a fresh index prefix; its indices are deleted afterwards."""
    settings.SEARCH_URL = OPENSEARCH_URL
    settings.SEARCH_ENGINE = "opensearch"
    settings.SEARCH_INDEX_PREFIX = f"lhtest-{uuid.uuid4().hex[:8]}"
    engine = get_cluster_engine()
    yield engine
    engine.client.indices.delete(index=f"{engine.alias}-*", params={"ignore_unavailable": "true"}, ignore=[404])


def _sync(engine):
    from search.services import search_outbox_drain_all

    search_outbox_drain_all()
    engine.refresh()


def _titles(query, user=None, **kwargs):
    results = search_items(query=query, user=user, **kwargs)
    assert results.backend == "opensearch" and not results.degraded
    return [hit.title for hit in results.hits]


def test_the_node_analyses_chinese_as_bigrams(opensearch):
    """The node's analyzer folds traditional and full-width text and makes bigrams."""
    opensearch.ensure_index()
    response = opensearch.client.indices.analyze(
        index=opensearch.alias, body={"analyzer": "lighthouse_cjk", "text": "紅樓夢ＡＢＣ"}
    )
    assert [token["token"] for token in response["tokens"]] == ["红楼", "楼梦", "abc"]


def test_finds_chinese_on_opensearch(opensearch, make_item):
    """Partial titles, two-character words, traditional and one-character queries all find their items."""
    make_item("红楼梦有声书", creators="曹雪芹", body="贾宝玉与林黛玉的故事。")
    make_item("中国共产党党史学习读本", body="学习党史，坚定信念。")
    make_item("乡村振兴实用技术", body="果树栽培与病虫害防治。")
    _sync(opensearch)
    assert _titles("红楼梦") == ["红楼梦有声书"]
    assert _titles("党史") == ["中国共产党党史学习读本"]
    assert _titles("黨史") == ["中国共产党党史学习读本"]
    assert _titles("曹雪芹") == ["红楼梦有声书"]
    assert "红楼梦有声书" in _titles("梦")
    assert _titles("航天") == []


def test_highlights_and_ranking_on_opensearch(opensearch, make_item):
    """Title matches rank first; snippets mark the match and escape HTML (a rich-text body's markup written as
    text comes back escaped)."""
    make_item("农业技术汇编", body="<p>&lt;b&gt;本书&lt;/b&gt;讲果树栽培。</p>")
    make_item("果树栽培手册", body="内容提要")
    _sync(opensearch)
    hits = search_items(query="果树栽培", user=None).hits
    assert [hit.title for hit in hits] == ["果树栽培手册", "农业技术汇编"]
    assert "<mark>" in hits[1].snippet and "&lt;b&gt;" in hits[1].snippet


def test_access_on_opensearch(opensearch, make_item):
    """Anonymous visitors get public items only; members also members-only ones."""
    make_item("党史公开课")
    make_item("党史内部资料", access=LibraryItem.Access.MEMBERS)
    _sync(opensearch)
    member = get_user_model().objects.create_user(username="m", password="x")
    assert _titles("党史") == ["党史公开课"]
    assert sorted(_titles("党史", user=member)) == ["党史公开课", "党史内部资料"]


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
    assert _titles("红楼梦") == ["红楼梦有声书"]


def test_rebuild_swaps_the_alias(opensearch, make_item):
    """A rebuild fills a new index and swaps the alias to it, dropping the old index."""
    make_item("西游记连环画")
    _sync(opensearch)
    before = opensearch.indices_behind_alias()
    assert search_rebuild() == 1
    after = opensearch.indices_behind_alias()
    assert len(after) == 1 and after != before
    assert not opensearch.client.indices.exists(index=before[0])
    opensearch.refresh()
    assert _titles("西游") == ["西游记连环画"]


@pytest.mark.parametrize("query", ["", "x" * 10_000, "！？。", "😀", "title:*", "AND (", "<script>alert(1)</script>"])
def test_bad_input_on_opensearch(opensearch, make_item, query):
    """Bad input gets an answer from the engine, never an engine error."""
    make_item("党史")
    _sync(opensearch)
    results = search_items(query=query, user=None, page=5000)
    assert results.backend == "opensearch" and not results.degraded
