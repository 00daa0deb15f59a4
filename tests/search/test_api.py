"""The search JSON API (/api/v1/search/), on the embedded index with real library items indexed through the outbox."""

import pytest
from django.contrib.auth import get_user_model
from wagtail.models import Site

from cms.api_auth import api_token_for
from library.models import LibraryItem, LibraryPage
from search.models import Promotion, QueryStat

pytestmark = pytest.mark.django_db
SEARCH = "/api/v1/search/"
SUGGEST = "/api/v1/search/suggest"


@pytest.fixture
def library_page(db):
    root = Site.objects.get(is_default_site=True).root_page
    return root.add_child(instance=LibraryPage(title="数字图书馆", slug="library"))


@pytest.fixture
def items(embedded, library_page, make_item, drain):
    """Two public 党史 books, a public 红楼梦 audiobook, and a members-only 党史 video."""
    make_item("党史学习读本", body="学习党史，坚定信念。")
    make_item("党史故事", year=2020)
    make_item("红楼梦有声书", kind=LibraryItem.Kind.AUDIO, creators="曹雪芹")
    make_item("党史内部资料", kind=LibraryItem.Kind.VIDEO, access=LibraryItem.Access.MEMBERS)
    drain()


@pytest.fixture
def member():
    return get_user_model().objects.create_user(username="member", password="x")


def _get(client, url, expect=200, **params):
    response = client.get(url, params)
    assert response.status_code == expect, response.content.decode()
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def test_results_have_hits_facets_and_paging(client, items):
    """A search answers hits (marked title and snippet, absolute URL, kind label), total, pages and facets."""
    data = _get(client, SEARCH, q="党史")
    assert data["total"] == 2 and data["page"] == 1 and data["num_pages"] == 1 and data["per_page"] == 20
    assert {hit["title"] for hit in data["hits"]} == {"党史学习读本", "党史故事"}
    hit = next(hit for hit in data["hits"] if hit["title"] == "党史学习读本")
    assert hit["title_html"] == "<mark>党史</mark>学习读本" and "<mark>党史</mark>" in hit["snippet_html"]
    assert hit["url"].startswith("http://testserver/library/") and hit["kind_label"] == "电子书"
    assert data["facets"]["kind"] == [{"value": "ebook", "label": "电子书", "count": 2}]
    assert data["degraded"] is False and data["did_you_mean"] == "" and data["corrected_from"] == ""
    assert data["promoted"] == [] and data["notice"] == ""


def test_filters_narrow_the_results(client, items):
    """kind and year filters narrow what is found."""
    assert [hit["title"] for hit in _get(client, SEARCH, q="党史", year=2020)["hits"]] == ["党史故事"]
    assert _get(client, SEARCH, q="党史", kind="audio")["total"] == 0


def test_members_see_members_only_items_with_a_token_or_a_session(client, items, member):
    """A bearer token or a session widens results and facets to members-only items; visitors never see them."""
    assert "党史内部资料" not in str(_get(client, SEARCH, q="党史"))
    headers = {"Authorization": f"Bearer {api_token_for(member)}"}
    data = client.get(SEARCH, {"q": "党史"}, headers=headers).json()
    assert data["total"] == 3 and {"value": "video", "label": "视频", "count": 1} in data["facets"]["kind"]
    client.force_login(member)
    assert _get(client, SEARCH, q="党史")["total"] == 3


def test_a_bad_token_is_refused_like_everywhere_else(client, items):
    """A token that was sent but is no good is a 401 with a Chinese message, as on the rest of the API."""
    response = client.get(SEARCH, {"q": "党史"}, headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401 and "登录" in response.json()["detail"]


def test_promoted_and_corrected(client, items):
    """Promotions come separately; a homophone typo is answered for its correction, which says what was typed."""
    Promotion.objects.create(query="红楼梦", doc_id=_doc_id("红楼梦有声书"))
    data = _get(client, SEARCH, q="红楼孟")
    assert data["query"] == "红楼梦" and data["corrected_from"] == "红楼孟"
    assert [hit["title"] for hit in data["promoted"]] == ["红楼梦有声书"] and data["promoted"][0]["promoted"]
    exact = _get(client, SEARCH, q="红楼孟", exact="true")
    assert exact["total"] == 0 and exact["did_you_mean"] == "红楼梦" and exact["corrected_from"] == ""


def _doc_id(title: str) -> str:
    return f"library.libraryitem:{LibraryItem.objects.get(title=title).pk}"


def test_pinyin_offers_did_you_mean(client, items):
    """A pinyin query finds the item and offers the Chinese words."""
    data = _get(client, SEARCH, q="hongloumeng")
    assert [hit["title"] for hit in data["hits"]] == ["红楼梦有声书"] and data["did_you_mean"] == "红楼梦"


@pytest.mark.parametrize("query", ["title:*", "AND (", "<script>alert(1)</script>", "😀🎉", "！？。", "党" * 1000])
def test_odd_queries_are_answered(client, items, query):
    """Query syntax, script, emoji, punctuation and long queries get an ordinary answer."""
    data = _get(client, SEARCH, q=query)
    assert isinstance(data["hits"], list) and data["query"] == query[:100]  # the query echoed as plain text


def test_html_fields_are_escaped(client, items, make_item, drain):
    """title_html and snippet_html are safe to insert as HTML: markup in the title comes back escaped."""
    make_item("<script>党史</script>讲座")
    drain()
    hit = next(hit for hit in _get(client, SEARCH, q="讲座")["hits"] if "讲座" in hit["title"])
    assert hit["title"] == "<script>党史</script>讲座"
    assert "<script>" not in hit["title_html"] and "&lt;script&gt;" in hit["title_html"]


@pytest.mark.parametrize("query", ["😀🎉", "！？。"])
def test_unsearchable_queries_say_so(client, items, query):
    """Nothing searchable in the query: no hits and notice "empty"."""
    data = _get(client, SEARCH, q=query)
    assert data["notice"] == "empty" and data["total"] == 0


def test_a_page_past_the_end_has_no_hits_and_the_true_total(client, items):
    """page past the last page: empty hits, the real total."""
    data = _get(client, SEARCH, q="党史", page=9)
    assert data["hits"] == [] and data["total"] == 2 and data["page"] == 9


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "党" * 10_000}, "q"),
        ({"q": "党史\x00"}, "q"),
        ({"q": "党史", "year": "abc"}, "year"),
        ({"q": "党史", "year": "10000"}, "year"),
        ({"q": "党史", "owner": "0"}, "owner"),
        ({"q": "党史", "page": "0"}, "page"),
        ({"q": "党史", "page": "-1"}, "page"),
        ({"q": "党史", "page": "501"}, "page"),
        ({"q": "党史", "per_page": "1000"}, "per_page"),
        ({"q": "党史", "unit": "xyz"}, "unit"),
        ({"q": "党史", "access": "secret"}, "access"),
        ({"q": "党史", "sort": "random"}, "sort"),
        ({"q": "党史", "kind": "x" * 100}, "kind"),
    ],
)
def test_bad_parameters_are_a_422_naming_the_field(client, items, params, field):
    """Bad parameters get a 422 with a Chinese message naming the field, never a 500."""
    data = _get(client, SEARCH, expect=422, **params)
    assert data["detail"].startswith("请求参数有误") and [error["field"] for error in data["errors"]] == [field]


def test_an_unknown_unit_is_a_422(client, items):
    """unit must name an existing unit (its subtree is the filter)."""
    data = _get(client, SEARCH, expect=422, q="党史", unit=987654321)
    assert "单位" in data["detail"]


def test_suggestions(client, items, member):
    """Suggestions match titles by their start (Chinese or pinyin) and only show what the caller may open."""
    data = _get(client, SUGGEST, q="红楼")
    assert data["query"] == "红楼" and [row["text"] for row in data["suggestions"]] == ["红楼梦有声书"]
    assert data["suggestions"][0]["url"].startswith("http://testserver/library/")
    assert [row["text"] for row in _get(client, SUGGEST, q="hlm")["suggestions"]] == ["红楼梦有声书"]
    assert "党史内部资料" not in str(_get(client, SUGGEST, q="党史"))
    client.force_login(member)
    assert "党史内部资料" in str(_get(client, SUGGEST, q="党史"))


@pytest.mark.parametrize("query", ["", "！？", "😀", "AND ("])
def test_suggestions_for_nothing_useful_are_empty(client, items, query):
    """Empty or unsearchable input gives an empty list, not an error."""
    assert _get(client, SUGGEST, q=query)["suggestions"] == []


def test_suggestion_limits_are_validated(client, items):
    """limit outside 1–20 and over-long input are 422s."""
    _get(client, SUGGEST, expect=422, q="党史", limit=0)
    _get(client, SUGGEST, expect=422, q="党" * 101)


def test_searches_are_counted_once_and_suggestions_not_at_all(client, items):
    """A page-1 search is counted; later pages, refinements (refine=true) and suggestions are not; empty queries
    neither."""
    _get(client, SEARCH, q="党史")
    _get(client, SEARCH, q="党史", page=2)
    _get(client, SEARCH, q="党史", kind="ebook", refine="true")
    _get(client, SEARCH, q="党史", sort="newest", refine="true")
    _get(client, SUGGEST, q="党史")
    _get(client, SUGGEST, q="航天")
    _get(client, SEARCH, q="")
    assert list(QueryStat.objects.values_list("query", "searches", "last_total")) == [("党史", 1, 2)]


def test_openapi_documents_both_routes_in_chinese(client):
    """/api/v1/openapi.json lists the search and suggest routes with their parameters and Chinese descriptions."""
    schema = _get(client, "/api/v1/openapi.json")
    search = schema["paths"]["/api/v1/search/"]["get"]
    suggest = schema["paths"]["/api/v1/search/suggest"]["get"]
    assert "搜索" in search["summary"] and "建议" in suggest["summary"]
    names = {parameter["name"] for parameter in search["parameters"]}
    assert {"q", "kind", "subject", "year", "unit", "owner", "access", "sort", "page", "per_page", "facets"} <= names
    assert {"exact", "refine"} <= names
    fields = schema["components"]["schemas"]["SearchOut"]["properties"]
    assert {"hits", "total", "page", "num_pages", "facets", "did_you_mean", "corrected_from", "promoted"} <= set(fields)
    assert "编辑推荐" in fields["promoted"]["description"]
    assert {} in search["security"]  # anonymous allowed (public results)


def test_a_new_query_with_filters_is_counted_and_promotions_count_as_found(client, items):
    """A new query arriving with filters is counted (only refine=true marks a refinement); a query answered only
    by an editor's promotion is recorded as found, not as a miss."""
    _get(client, SEARCH, q="红楼梦", kind="audio")
    Promotion.objects.create(query="古典名著", doc_id=_doc_id("红楼梦有声书"))
    data = _get(client, SEARCH, q="古典名著")
    assert data["total"] == 0 and [hit["title"] for hit in data["promoted"]] == ["红楼梦有声书"]
    rows = set(QueryStat.objects.values_list("query", "searches", "no_results", "last_total"))
    assert rows == {("红楼梦", 1, 0, 1), ("古典名著", 1, 0, 1)}


def test_promoted_hits_have_a_marked_title(client, items):
    """A promoted hit's title_html is the escaped title with the query marked, like a ranked hit's."""
    Promotion.objects.create(query="红楼梦", doc_id=_doc_id("红楼梦有声书"))
    (hit,) = _get(client, SEARCH, q="红楼梦")["promoted"]
    assert hit["title_html"] == "<mark>红楼梦</mark>有声书"


def test_any_indexed_year_filters(client, items, make_item, drain):
    """The year facet lists whatever is indexed (618 included) and that value filters: years 0–9999 are accepted."""
    make_item("党史与唐代史料", year=618)
    drain()
    data = _get(client, SEARCH, q="党史")
    assert {"value": "618", "label": "618", "count": 1} in data["facets"]["year"]
    assert [hit["title"] for hit in _get(client, SEARCH, q="党史", year=618)["hits"]] == ["党史与唐代史料"]


def test_unit_facet_values_filter_as_owner(client, embedded, library_page, unit, drain):
    """A unit facet value counts what that unit itself owns; passed back as owner=<id> it gives exactly that
    count, while unit=<id> takes the unit and everything below it."""
    from cms.services import org_unit_create

    city = org_unit_create(parent=unit, name="济南市", code="jn-api", level="city")
    county = org_unit_create(parent=city, name="历下区", code="lx-api", level="county")
    LibraryItem.objects.create(title="党史济南读本", kind=LibraryItem.Kind.EBOOK, owning_unit=city)
    LibraryItem.objects.create(title="党史历下读本", kind=LibraryItem.Kind.EBOOK, owning_unit=county)
    drain()
    facet = {row["value"]: row for row in _get(client, SEARCH, q="党史")["facets"]["unit"]}[str(city.pk)]
    assert facet["label"] == "济南市" and facet["count"] == 1
    owned = _get(client, SEARCH, q="党史", owner=facet["value"])
    assert owned["total"] == 1 and [hit["title"] for hit in owned["hits"]] == ["党史济南读本"]
    assert _get(client, SEARCH, q="党史", unit=city.pk)["total"] == 2


def test_num_pages_stops_at_the_result_window(rf):
    """num_pages never promises pages past the engines' result window (10,000 results), which are always empty:
    50 a page gives 200 pages however many matched."""
    from search.api import _results
    from search.engines.results import SearchResults

    data = _results(rf.get("/"), SearchResults(hits=[], total=1_000_000, page=1, per_page=50))
    assert data["num_pages"] == 200


def test_the_schema_says_what_total_counts(client):
    """The schema says total counts ranked matches, a promoted document that also matched included."""
    schema = _get(client, "/api/v1/openapi.json")
    total = schema["components"]["schemas"]["SearchOut"]["properties"]["total"]["description"]
    assert "编辑推荐" in total and "计入" in total and "不计入" in total


def test_a_search_is_counted_once_its_answer_has_been_sent(rf, items):
    """The analytics write happens when the server closes the sent response, so the member never waits for it."""
    from django.contrib.auth.models import AnonymousUser
    from django.core.signals import request_finished
    from django.db import close_old_connections
    from django.urls import resolve

    request = rf.get(SEARCH, {"q": "党史"})
    request.user = AnonymousUser()
    response = resolve(SEARCH).func(request)
    assert response.status_code == 200 and not QueryStat.objects.exists()
    # As the test client does: closing a response must not close the test's database connection.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert QueryStat.objects.values_list("query", "searches").get() == ("党史", 1)


def test_the_response_argument_is_not_a_parameter(client):
    """The view's django-ninja response argument does not show up as a query parameter in the schema."""
    schema = _get(client, "/api/v1/openapi.json")
    names = {parameter["name"] for parameter in schema["paths"]["/api/v1/search/"]["get"]["parameters"]}
    assert "response" not in names
