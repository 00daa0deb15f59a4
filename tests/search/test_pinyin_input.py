"""Pinyin of any text: a query typed in pinyin is converted into the Chinese reading the index most likely holds
(search/engines/pinyin_input.py), which is searched and offered as 你是不是要找; bodies are never indexed in pinyin."""

import re

import pytest
from wagtail.models import Site

from library.models import LibraryPage
from search import selectors
from search.engines.analysis import index_terms
from search.engines.embedded import EmbeddedEngine
from search.engines.pinyin_input import PinyinDictionary, char_readings, readings, segmentations, syllables
from search.engines.results import SearchRequest
from search.registry import SearchDocument


def _dictionary(*texts: str) -> PinyinDictionary:
    return PinyinDictionary.from_terms(" ".join(index_terms(text)) for text in texts)


POEMS = _dictionary(
    "明月几时有，把酒问青天。不知天上宫阙，今夕是何年。",
    "大江东去，浪淘尽、千古风流人物。",
    "西安城墙是古代城墙。",
    "先生请坐，县城很远。",
    "长江大桥连着两岸。",
    "银行行长来了。",
    "事实胜于雄辩。",
)


def test_the_syllable_table_is_pypinyins_toneless_syllables():
    """About four hundred syllables, ü written v; single consonants (嗯 n, 呣 m) are initials, not syllables."""
    table = syllables()
    assert 380 < len(table) < 450
    assert {"zhuang", "xian", "an", "lv", "e", "er"} <= table and not {"n", "m", "ng", "hm"} & table


def test_full_syllables_are_cut_every_way_fewest_initials_first():
    """xian is one syllable or xi + an (西安); both are offered, the full syllables first."""
    assert segmentations("xian")[:2] == [("xian",), ("xi", "an")]
    assert segmentations("zhongguo")[0] == ("zhong", "guo")
    assert ("zhuang",) == segmentations("zhuang")[0]


def test_a_typed_boundary_is_kept():
    """xi'an (or "xi an") is never the one syllable xian."""
    assert segmentations("xi'an")[0] == ("xi", "an") and ("xian",) not in segmentations("xi'an")
    assert segmentations("xi an") == segmentations("xi'an")


def test_initials_are_tokens_too():
    """bjwqt is five initials; zh, ch and sh are one initial each."""
    assert segmentations("bjwqt")[0] == ("b", "j", "w", "q", "t")
    assert segmentations("zhsh")[0] == ("zh", "sh")
    assert segmentations("红楼") == [] and segmentations("bj3") == []


def test_a_polyphonic_character_answers_to_each_reading_the_usual_first():
    """长 is zhang and chang, 行 xing and hang; the conversion follows the index's pairs, not the usual reading."""
    assert char_readings("长")[:2] == ("zhang", "chang") and "hang" in char_readings("行")
    assert readings("changjiang", POEMS)[0] == "长江"
    assert readings("hangzhang", POEMS)[0] == "行长"


def test_the_conversion_picks_the_reading_the_corpus_contains():
    """Among homophones the phrase the index holds wins: 把酒问青天, 事实 (not 时事); xian is read 西安 where the
    index has 西安城墙 (县城墙, a chain of pairs from two texts, may rank first: the search then tries the next)."""
    assert readings("bajiuwenqingtian", POEMS)[0] == "把酒问青天"
    assert "西安城墙" in readings("xianchengqiang", POEMS)
    assert readings("shishi", POEMS)[0] == "事实"
    assert readings("dajiangdongqu", POEMS)[0] == "大江东去"


def test_initials_of_a_phrase_convert_when_the_index_holds_it():
    assert readings("bjwqt", POEMS)[0] == "把酒问青天"


def test_what_is_not_pinyin_of_the_index_converts_to_nothing():
    """An English word, one syllable, or letters with no reading give no conversion; nor does an empty index."""
    assert readings("python", POEMS) == [] and readings("email", POEMS) == []
    assert readings("tian", POEMS) == [] and readings("iuiu", POEMS) == []
    assert readings("bajiuwenqingtian", PinyinDictionary()) == []


# --- Through the selectors, the API and the search page


@pytest.fixture
def poems(db, embedded):
    """Three documents whose bodies (never their titles) hold the phrases."""
    EmbeddedEngine().index(
        [
            SearchDocument(doc_id="t:1", kind="poem", title="水调歌头", url="/t/1/", body="明月几时有，把酒问青天。"),
            SearchDocument(doc_id="t:2", kind="poem", title="念奴娇", url="/t/2/", body="大江东去，浪淘尽。"),
            SearchDocument(doc_id="t:3", kind="poem", title="把酒", url="/t/3/", body="青天白日。"),
        ]
    )


@pytest.mark.django_db
def test_pinyin_of_a_body_phrase_is_searched_as_its_reading(poems):
    """bajiuwenqingtian finds nothing by itself (bodies have no pinyin); its reading is searched instead and says
    what was typed; with exact, the reading is only offered."""
    results = selectors.search(query="bajiuwenqingtian", user=None)
    assert (results.query, results.corrected_from) == ("把酒问青天", "bajiuwenqingtian")
    assert [hit.doc_id for hit in results.hits] == ["t:1"]
    exact = selectors.search(query="ba jiu wen qing tian", user=None, exact=True)
    assert (exact.total, exact.did_you_mean) == (0, "把酒问青天")


@pytest.mark.django_db
def test_the_first_reading_the_index_finds_is_chosen(poems):
    """县城墙 reads xianchengqiang too, but no document holds it: the search goes on to 西安城墙, which one does."""
    EmbeddedEngine().index(
        [
            SearchDocument(doc_id="t:6", kind="poem", title="古城", url="/t/6/", body="西安城墙是古代城墙。"),
            SearchDocument(doc_id="t:7", kind="poem", title="远方", url="/t/7/", body="先生请坐，县城很远。"),
        ]
    )
    results = selectors.search(query="xianchengqiang", user=None)
    assert (results.query, [hit.doc_id for hit in results.hits]) == ("西安城墙", ["t:6"])


@pytest.mark.django_db
def test_few_results_with_no_title_to_explain_them_offer_the_reading(poems):
    """qingtian finds one document, by its creator's pinyin, whose title does not read so; 青天 finds more, so it is
    offered as 你是不是要找 and the results stay."""
    EmbeddedEngine().index(
        [SearchDocument(doc_id="t:8", kind="poem", title="诗选", url="/t/8/", creators="李青天", body="山水。")]
    )
    results = selectors.search(query="qingtian", user=None)
    assert ([hit.doc_id for hit in results.hits], results.did_you_mean) == (["t:8"], "青天")


@pytest.mark.django_db
def test_a_reading_nobody_can_find_is_never_offered(poems):
    """The reading must find something for this audience: an index of members-only text offers nothing."""
    EmbeddedEngine().index(
        [SearchDocument(doc_id="t:4", kind="poem", title="内部", url="/t/4/", body="春风又绿江南岸", access="members")]
    )
    assert selectors.pinyin_reading(selectors.read_query("chunfengyoulv"), selectors.audience_for(None)) == ""
    results = selectors.search(query="chunfengyoulv", user=None)
    assert (results.total, results.did_you_mean, results.corrected_from) == (0, "", "")


@pytest.mark.django_db
def test_the_dictionary_follows_the_index(poems):
    """A document indexed after the dictionary was built is converted at the next query (a small index is re-read
    whenever it changes)."""
    assert selectors.pinyin_reading(selectors.read_query("chunfengyoulv"), selectors.audience_for(None)) == ""
    EmbeddedEngine().index(
        [SearchDocument(doc_id="t:5", kind="poem", title="泊船", url="/t/5/", body="春风又绿江南岸")]
    )
    assert selectors.pinyin_reading(selectors.read_query("chunfengyoulv"), selectors.audience_for(None)) == "春风又绿"


@pytest.mark.django_db
def test_hanzi_queries_are_answered_as_before(poems):
    """A Chinese query is never converted: search() returns what the engine returns, with no correction."""
    request = SearchRequest(audience=selectors.audience_for(None))
    for query in ("把酒问青天", "大江", "不存在的词"):
        parsed = selectors.read_query(query)
        assert selectors.pinyin_reading(parsed, request.audience) == ""
        engine = EmbeddedEngine().search(parsed, request)
        results = selectors.search(query=query, user=None)
        assert [hit.doc_id for hit in results.hits] == [hit.doc_id for hit in engine.hits]
        assert (results.did_you_mean, results.corrected_from) == ("", "")


@pytest.fixture
def library_page(db):
    root = Site.objects.get(is_default_site=True).root_page
    return root.add_child(instance=LibraryPage(title="数字图书馆", slug="library"))


@pytest.fixture
def lesson(embedded, library_page, make_item, drain):
    """An e-book whose body (not its title) holds 把酒问青天, indexed through the outbox."""
    make_item("水调歌头赏析", body="苏轼写道：明月几时有，把酒问青天。")
    drain()


@pytest.mark.django_db
def test_the_api_answers_the_reading_and_offers_it(client, lesson):
    data = client.get("/api/v1/search/", {"q": "bajiuwenqingtian"}).json()
    assert (data["query"], data["corrected_from"]) == ("把酒问青天", "bajiuwenqingtian")
    assert [hit["title"] for hit in data["hits"]] == ["水调歌头赏析"]
    exact = client.get("/api/v1/search/", {"q": "bajiuwenqingtian", "exact": "true"}).json()
    assert (exact["total"], exact["did_you_mean"]) == (0, "把酒问青天")


@pytest.mark.django_db
def test_the_search_page_shows_the_reading(client, lesson):
    """The page shows the reading's results, says so, and with exact=1 offers it as 你是不是要找."""
    from django.urls import reverse

    html = client.get(reverse("search"), {"q": "bajiuwenqingtian"}).content.decode()
    assert "已为您显示“把酒问青天”的结果。" in html and "水调歌头赏析" in html
    exact = client.get(reverse("search"), {"q": "bajiuwenqingtian", "exact": "1"}).content.decode()
    assert re.search(r"你是不是要找：<a href=\"[^\"]*\">把酒问青天</a>", exact)
