import pytest

from search.selectors import search_items
from search.services import search_rebuild

pytestmark = pytest.mark.django_db


def _titles(query, **kwargs):
    return [hit.title for hit in search_items(query=query, user=None, **kwargs).hits]


@pytest.fixture
def catalogue(embedded, make_item, drain):
    make_item("红楼梦有声书", creators="曹雪芹", body="贾宝玉与林黛玉的故事。")
    make_item("中国共产党党史学习读本", body="学习党史，坚定信念。")
    make_item("乡村振兴实用技术", body="果树栽培与病虫害防治。")
    drain()


def test_finds_a_partial_chinese_title(catalogue):
    """红楼梦 finds 红楼梦有声书 (stock database search does not)."""
    assert _titles("红楼梦") == ["红楼梦有声书"]


def test_finds_a_two_character_word_and_misses_unrelated(catalogue):
    """党史 finds the title containing it and nothing unrelated."""
    assert _titles("党史") == ["中国共产党党史学习读本"]
    assert _titles("航天") == []


def test_traditional_query_finds_simplified_text(catalogue):
    """A query in traditional characters finds simplified text."""
    assert _titles("黨史") == ["中国共产党党史学习读本"]


def test_one_character_and_creator_queries(catalogue):
    """A single character and a creator's name both find their items."""
    assert "红楼梦有声书" in _titles("梦")
    assert _titles("曹雪芹") == ["红楼梦有声书"]


def test_title_match_ranks_above_body_match(embedded, make_item, drain):
    """An item with the words in its title ranks above one that only mentions them in the body."""
    make_item("果树栽培手册", body="内容提要")
    make_item("农业技术汇编", body="本书讲果树栽培。")
    drain()
    assert _titles("果树栽培") == ["果树栽培手册", "农业技术汇编"]


def test_snippet_highlights_and_escapes(embedded, make_item, drain):
    """Snippets mark the match and escape any HTML in the text (a body is rich text: its tags are not words, and
    markup an editor wrote as text comes back escaped)."""
    make_item(
        "安全读本", body="<p>&lt;script&gt;alert(1)&lt;/script&gt; 防范电信诈骗的十个要点</p><script>x()</script>"
    )
    drain()
    hit = search_items(query="電信詐騙", user=None).hits[0]
    assert "<mark>电信诈骗</mark>" in hit.snippet
    assert "<script>" not in hit.snippet and "&lt;script&gt;" in hit.snippet


def test_index_follows_edits_and_deletes(embedded, make_item, drain):
    """After an edit the old words no longer find the item; after a delete nothing does."""
    item = make_item("旧标题甲")
    drain()
    item.title = "新标题乙"
    item.save()
    drain()
    assert _titles("旧标题") == []
    assert _titles("新标题") == ["新标题乙"]
    item.delete()
    drain()
    assert _titles("新标题") == []


def test_unpublished_items_are_not_found(embedded, make_item, drain):
    """Unpublishing an item removes it from the index."""
    item = make_item("待审稿件")
    drain()
    item.is_published = False
    item.save()
    drain()
    assert _titles("待审") == []


@pytest.mark.parametrize(
    "query",
    ["", "   ", "x" * 10_000, "红" * 10_000, "！？。", "😀😀", "title:*", "AND (", '"', "<script>alert(1)</script>"],
)
def test_bad_input_gives_an_answer(catalogue, query):
    """Empty, huge, punctuation-only, emoji and query-syntax input give a normal (maybe empty) answer."""
    results = search_items(query=query, user=None)
    assert results.total >= 0


def test_page_past_the_end_is_empty(catalogue):
    """A page beyond the last is empty, with the total still known."""
    results = search_items(query="党史", user=None, page=50)
    assert results.hits == [] and results.total == 1


def test_rebuild_restores_the_index(embedded, make_item):
    """A rebuild indexes every registered item even if the outbox was never drained."""
    make_item("红楼梦有声书")
    make_item("西游记连环画")
    seen = []
    assert search_rebuild(progress=lambda done, total: seen.append((done, total))) == 2
    assert seen[-1] == (2, 2)
    assert _titles("西游") == ["西游记连环画"]
