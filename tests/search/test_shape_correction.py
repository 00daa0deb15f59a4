"""形近字: a query with a character mistaken for a look-alike (己/已/巳, 未/末, 戊/戌) is corrected when it finds
no or few results and the look-alike finds many, through the same "did you mean" as homophone typos."""

import pytest

from search import selectors
from search.engines.analysis import normalize
from search.engines.confusables import CONFUSABLE_SETS, shape_variants
from search.engines.embedded import EmbeddedEngine
from search.registry import SearchDocument

pytestmark = pytest.mark.django_db


def _index(*titles):
    EmbeddedEngine().index(
        [SearchDocument(doc_id=f"t:{n}", kind="ebook", title=title, url=f"/t/{n}/") for n, title in enumerate(titles)]
    )


def test_the_table_holds_folded_characters_each_in_one_set_at_most_once():
    """Queries are folded before they are read, so every character of the table is already in folded form."""
    chars = "".join(CONFUSABLE_SETS)
    assert normalize(chars) == chars
    assert all(len(set(group)) == len(group) > 1 for group in CONFUSABLE_SETS)


def test_variants_swap_one_character_in_order_and_stop_at_the_limit():
    """Left to right, each look-alike in the table's order; at most `limit` (each costs a search)."""
    assert shape_variants("已亥", limit=10) == ["己亥", "巳亥"]
    assert shape_variants("戊戌", limit=10) == ["戌戌", "戍戌", "戎戌", "戊戊", "戊戍", "戊戎"]
    assert len(shape_variants("己未戊戌" * 5, limit=selectors.SHAPE_CANDIDATES)) == selectors.SHAPE_CANDIDATES
    assert shape_variants("红楼梦", limit=10) == []


def test_a_query_that_finds_nothing_is_corrected_to_its_look_alike(embedded):
    """已亥杂诗 finds nothing; 己亥杂诗 is searched instead (and offered as did-you-mean when the member asked for
    exactly what they typed)."""
    _index("己亥杂诗", "己亥杂诗选注")
    results = selectors.search(query="已亥杂诗", user=None)
    assert (results.query, results.corrected_from, results.total) == ("己亥杂诗", "已亥杂诗", 2)
    exact = selectors.search(query="已亥杂诗", user=None, exact=True)
    assert (exact.total, exact.did_you_mean) == (0, "己亥杂诗")


def test_few_results_offer_the_look_alike_that_finds_many(embedded):
    """末来 finds one title; 未来 finds at least SHAPE_RATIO times more, so it is offered and the results stay."""
    _index("末来的信", *(f"未来{word}" for word in ("城市", "科技", "教育", "乡村", "农业", "工厂")))
    results = selectors.search(query="末来", user=None)
    assert (results.total, results.did_you_mean, results.corrected_from) == (1, "未来", "")


def test_no_correction_when_the_look_alike_finds_not_much_more(embedded):
    """A look-alike that finds about as much as the query is no better guess: nothing is offered."""
    _index("末来的信", "末来之书", "未来城市", "未来科技", "未来教育")
    results = selectors.search(query="末来", user=None)
    assert (results.total, results.did_you_mean) == (2, "")
