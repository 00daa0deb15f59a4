"""What search editors manage in the Wagtail admin: synonyms, promoted results, the query report, the status page."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from cms.models import Member
from search import selectors
from search.engines.choice import get_embedded_engine
from search.models import IndexEntry, OutboxEntry, Promotion, QueryStat, Synonym
from search.registry import SearchDocument
from search.selectors import period_start, top_queries, zero_result_queries
from search.services import search_query_record

pytestmark = pytest.mark.django_db

SEARCH_PAGES = [
    "/admin/search_synonyms/",
    "/admin/search_promotions/",
    "/admin/search_report/",
    "/admin/search_status/",
]


@pytest.fixture
def superuser():
    return Member.objects.create_superuser(username="root", password="pw-123456")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def documents():
    """Three documents in the embedded index: public, members-only, and one opened to a unit only."""
    engine = get_embedded_engine()
    engine.index(
        [
            SearchDocument(doc_id="test.doc:1", kind="ebook", title="灯塔大课堂", url="/d/1/", body="党员学习"),
            SearchDocument(
                doc_id="test.doc:2", kind="ebook", title="中国共产党历史讲座", url="/d/2/", access="members"
            ),
            SearchDocument(
                doc_id="test.doc:3", kind="ebook", title="支部内部材料", url="/d/3/", access="unit", access_unit_id=999
            ),
        ]
    )
    return engine


def _editor(*codenames: str) -> Member:
    """A user who may enter the admin, with only the given search permissions."""
    user = Member.objects.create_user(username="editor", password="pw-123456")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="search", codename=codename))
    return Member.objects.get(pk=user.pk)  # fresh: permissions are cached on the instance


def _errors(response) -> str:
    return response.content.decode()


# --- Permissions


def test_plain_member_cannot_open_any_search_admin_page(client):
    """A member without admin access is sent to the login page from every search admin page."""
    client.force_login(Member.objects.create_user(username="reader", password="pw-123456"))
    for url in [*SEARCH_PAGES, "/admin/search_index_chooser/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_editor_without_search_permissions_neither_sees_nor_opens_them(client):
    """An admin user lacking the search models' permissions gets no 搜索 menu and is refused every page."""
    client.force_login(_editor())
    dashboard = client.get("/admin/").content.decode()
    assert "search_synonyms" not in dashboard and "search_report" not in dashboard
    for url in [*SEARCH_PAGES, "/admin/search_index_chooser/"]:
        response = client.get(url)
        # Wagtail answers a permission refusal by sending the user back to the dashboard with a message.
        assert (response.status_code, response.get("Location")) in ((302, "/admin/"), (403, None)), url


def test_permissions_open_exactly_their_pages(client):
    """The view permission on query stats opens the report only; synonym permissions open synonyms only."""
    client.force_login(_editor("view_querystat", "add_synonym", "change_synonym"))
    assert client.get("/admin/search_report/").status_code == 200
    assert client.get("/admin/search_synonyms/").status_code == 200
    assert client.get("/admin/search_promotions/").status_code in (302, 403)
    assert client.get("/admin/search_status/").status_code in (302, 403)


def test_superuser_sees_the_search_menu(admin_client):
    """A superuser's admin has the 搜索 menu with its three entries and the status page in settings."""
    page = admin_client.get("/admin/").content.decode()
    for url in SEARCH_PAGES:
        assert url in page


# --- Synonyms


def test_synonym_crud_stores_normalized_words(admin_client):
    """Creating a group stores its words normalized (simplified, one separator); edit and delete work."""
    response = admin_client.post(
        "/admin/search_synonyms/new/", {"terms": " 黨史 ; 中国共产党历史、黨史 ", "is_active": "on"}
    )
    assert response.status_code == 302
    synonym = Synonym.objects.get()
    assert synonym.terms == "党史，中国共产党历史" and synonym.is_active
    listing = admin_client.get("/admin/search_synonyms/?q=党史").content.decode()
    assert "党史，中国共产党历史" in listing
    response = admin_client.post(f"/admin/search_synonyms/edit/{synonym.pk}/", {"terms": "党史,党的历史"})
    assert response.status_code == 302
    synonym.refresh_from_db()
    assert synonym.terms == "党史，党的历史" and not synonym.is_active
    assert admin_client.post(f"/admin/search_synonyms/delete/{synonym.pk}/").status_code == 302
    assert not Synonym.objects.exists()


@pytest.mark.parametrize("terms", ["党史", "党史，黨史", "党史，！！！"])
def test_synonym_group_needs_two_searchable_words(admin_client, terms):
    """A group with fewer than two different searchable words is refused with a Chinese message."""
    response = admin_client.post("/admin/search_synonyms/new/", {"terms": terms, "is_active": "on"})
    assert response.status_code == 200 and not Synonym.objects.exists()
    page = _errors(response)
    assert "至少要有两个不同的词" in page or "没有可搜索的文字" in page


def test_synonym_works_at_once_after_saving_in_the_admin(embedded, admin_client, documents):
    """After an editor saves 党史 ↔ 中国共产党历史, the next search for 党史 finds the 历史 document (the cached
    groups were cleared), and after deleting the group it no longer does."""
    assert selectors.search(query="党史", user=None, facets=False).total == 0  # caches the (empty) groups
    admin_client.post("/admin/search_synonyms/new/", {"terms": "党史，中国共产党历史", "is_active": "on"})
    member = Member.objects.create_user(username="member", password="pw-123456")
    found = selectors.search(query="党史", user=member)
    assert [hit.doc_id for hit in found.hits] == ["test.doc:2"]
    admin_client.post(f"/admin/search_synonyms/delete/{Synonym.objects.get().pk}/")
    assert selectors.search(query="党史", user=member).total == 0


# --- Promotions


def _promotion(**fields):
    return {"query": "灯塔", "doc_id": "test.doc:1", "sort_order": "0", "note": ""} | fields


def test_promotion_crud_normalizes_the_query_and_lists_the_title(admin_client, documents):
    """An editor promotes an indexed document: the query is stored folded and collapsed, the list shows the
    document's title, and editing and deleting work."""
    response = admin_client.post("/admin/search_promotions/new/", _promotion(query="  燈塔   ＤＥＮＧ  "))
    assert response.status_code == 302
    promotion = Promotion.objects.get()
    assert promotion.query == "灯塔 deng" and promotion.doc_id == "test.doc:1"
    assert "灯塔大课堂" in admin_client.get("/admin/search_promotions/").content.decode()
    assert "灯塔大课堂" in admin_client.get(f"/admin/search_promotions/edit/{promotion.pk}/").content.decode()
    response = admin_client.post(f"/admin/search_promotions/edit/{promotion.pk}/", _promotion(doc_id="test.doc:2"))
    assert response.status_code == 302
    assert "中国共产党历史讲座" in admin_client.get("/admin/search_promotions/").content.decode()
    assert admin_client.post(f"/admin/search_promotions/delete/{promotion.pk}/").status_code == 302
    assert not Promotion.objects.exists()


def test_promotion_of_a_document_gone_from_the_index_is_listed_by_id(admin_client, documents):
    """When a promoted document leaves the index, the list says so instead of failing."""
    Promotion.objects.create(query="灯塔", doc_id="test.doc:1")
    documents.delete(["test.doc:1"])
    assert "已不在索引中" in admin_client.get("/admin/search_promotions/").content.decode()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"doc_id": "library.libraryitem:404"}, "搜索索引里没有这个内容"),
        ({"doc_id": ""}, "请选择要推荐的内容"),
        ({"starts_at": "2026-11-02 10:00", "ends_at": "2026-11-01 10:00"}, "结束时间必须晚于开始时间"),
        ({"starts_at": "2026-11-01 10:00", "ends_at": "2026-11-01 10:00"}, "结束时间必须晚于开始时间"),
        ({"query": "？！……"}, "搜索词里没有可搜索的文字"),
    ],
)
def test_promotion_validation(admin_client, documents, fields, message):
    """An unknown document, an empty choice, an end not after the start or a query with nothing searchable is
    refused with a Chinese message, and nothing is saved."""
    response = admin_client.post("/admin/search_promotions/new/", _promotion(**fields))
    assert response.status_code == 200 and not Promotion.objects.exists()
    assert message in _errors(response)


def test_the_same_document_cannot_be_promoted_twice_for_a_query(admin_client, documents):
    """A second promotion of the same document for the same (normalized) query is refused in Chinese."""
    Promotion.objects.create(query="灯塔", doc_id="test.doc:1")
    response = admin_client.post("/admin/search_promotions/new/", _promotion(query="燈塔"))
    assert response.status_code == 200 and Promotion.objects.count() == 1
    assert "已经推荐了这个内容" in _errors(response)


def test_promotion_is_shown_only_to_audiences_that_may_see_the_document(embedded, admin_client, documents):
    """A members-only document promoted for 灯塔 is promoted to members, never to anonymous visitors; a unit-only
    document is promoted to nobody outside the unit."""
    for doc_id in ("test.doc:2", "test.doc:3", "test.doc:1"):
        response = admin_client.post("/admin/search_promotions/new/", _promotion(doc_id=doc_id, sort_order="1"))
        assert response.status_code == 302
    member = Member.objects.create_user(username="member", password="pw-123456")
    anonymous = selectors.search(query="灯塔", user=None)
    assert [hit.doc_id for hit in anonymous.promoted] == ["test.doc:1"]
    assert [hit.doc_id for hit in selectors.search(query="燈塔", user=member).promoted] == ["test.doc:2", "test.doc:1"]
    everything = selectors.search(query="灯塔", user=Member.objects.get(username="root"))
    assert [hit.doc_id for hit in everything.promoted] == ["test.doc:2", "test.doc:3", "test.doc:1"]


def test_the_add_form_takes_the_query_from_the_report_link(admin_client):
    """The report's "添加推荐" / "添加同义词" links open the add forms with the query filled in."""
    assert 'value="党史学习"' in admin_client.get("/admin/search_promotions/new/?query=党史学习").content.decode()
    assert 'value="党史学习"' in admin_client.get("/admin/search_synonyms/new/?terms=党史学习").content.decode()


def test_chooser_finds_index_entries_by_chinese_title_and_returns_the_doc_id(embedded, admin_client, documents):
    """The promotion chooser searches the embedded index (a partial Chinese title finds the document, even a
    members-only one) and choosing gives the doc_id to the form."""
    assert admin_client.get("/admin/search_index_chooser/").json()["step"] == "choose"
    results = admin_client.get("/admin/search_index_chooser/results/", {"q": "大课"}).content.decode()
    assert "灯塔大课堂" in results and "中国共产党历史讲座" not in results
    results = admin_client.get("/admin/search_index_chooser/results/", {"q": "历史讲座"}).content.decode()
    assert "中国共产党历史讲座" in results
    chosen = admin_client.get(f"/admin/search_index_chooser/chosen/{IndexEntry.objects.get(doc_id='test.doc:1').pk}/")
    assert chosen.json()["result"]["id"] == "test.doc:1"
    assert chosen.json()["result"]["title"] == "灯塔大课堂"


def test_chooser_lists_the_newest_entries_before_anything_is_typed(embedded, admin_client, documents):
    """Opened without a query, the chooser lists index entries newest first (an indexed order: a title sort would
    read the whole index on every open)."""
    html = admin_client.get("/admin/search_index_chooser/results/").content.decode()
    positions = [html.index(title) for title in ("支部内部材料", "中国共产党历史讲座", "灯塔大课堂")]
    assert positions == sorted(positions)


def test_a_new_promotion_shows_at_once_after_searches_cached_the_promoted_queries(embedded, admin_client, documents):
    """Searches remember which queries have promotions; saving one in the admin is used by the very next search."""
    assert selectors.search(query="灯塔", user=None).promoted == []
    assert admin_client.post("/admin/search_promotions/new/", _promotion()).status_code == 302
    assert [hit.doc_id for hit in selectors.search(query="灯塔", user=None).promoted] == ["test.doc:1"]


def test_chooser_is_refused_to_editors_without_promotion_permissions(client, documents):
    """The chooser lists members-only titles, so an admin user without promotion permissions is refused."""
    client.force_login(_editor("view_querystat"))
    assert client.get("/admin/search_index_chooser/results/", {"q": "灯塔"}).status_code in (302, 403)


# --- The query report


def _searched(query: str, total: int, times: int = 1) -> None:
    for _ in range(times):
        search_query_record(query=query, total=total)


def test_reports_count_searches_and_misses_in_the_period():
    """top_queries sums searches per normalized query, most first, with no-result counts and the last total;
    zero_result_queries lists only queries that found nothing, most often first; older days are left out."""
    _searched("党史", 5, times=3)
    _searched("黨史", 0)  # the same query, folded
    _searched("红楼梦", 0, times=2)
    _searched("灯塔", 2)
    _searched("旧词", 0, times=5)
    QueryStat.objects.filter(query="旧词").update(day=timezone.localdate() - timedelta(days=10))
    since = period_start(7)
    top = [
        (row["query"], row["search_count"], row["no_result_count"], row["latest_total"])
        for row in top_queries(since=since)
    ]
    assert top == [("党史", 4, 1, 0), ("红楼梦", 2, 2, 0), ("灯塔", 1, 0, 2)]
    assert [row["query"] for row in zero_result_queries(since=since)] == ["红楼梦", "党史"]
    assert zero_result_queries(since=period_start(30))[0]["query"] == "旧词"
    assert len(top_queries(since=since, limit=2)) == 2


def test_report_page_shows_both_tables_with_links(admin_client):
    """The report page lists top and no-result queries for the chosen period, each with add-promotion and
    add-synonym links; a bad period falls back to 7 days instead of failing."""
    _searched("红楼梦", 0, times=2)
    _searched("灯塔", 3)
    page = admin_client.get("/admin/search_report/?days=30").content.decode()
    assert 'id="top-queries"' in page and 'id="zero-result-queries"' in page
    assert "/admin/search_promotions/new/?query=%E7%BA%A2%E6%A5%BC%E6%A2%A6" in page
    assert "/admin/search_synonyms/new/?terms=%E7%81%AF%E5%A1%94" in page
    assert admin_client.get("/admin/search_report/?days=abc&top_page=999").status_code == 200


def test_report_paginates(admin_client):
    """More queries than a page holds are split into pages (page 2 shows the rest)."""
    for number in range(55):
        _searched(f"词{number:02d}", 1)
    first = admin_client.get("/admin/search_report/").content.decode()
    second = admin_client.get("/admin/search_report/?top_page=2").content.decode()
    assert "第 1 / 2 页" in first and "词54" not in first and "词54" in second


def test_report_csv_export(admin_client):
    """CSV export gives every row of the chosen table with a BOM for Excel; cells a spreadsheet would run as a
    formula are neutralised."""
    _searched("红楼梦", 0, times=2)
    _searched("=HYPERLINK(1)", 0)
    _searched("灯塔", 3)
    response = admin_client.get("/admin/search_report/?export=zero&days=7")
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [
        ["搜索词", "搜索次数", "无结果次数", "最近结果数"],
        ["红楼梦", "2", "2", "0"],
        ["'=hyperlink(1)", "1", "1", "0"],
    ]
    top = list(csv.reader(io.StringIO(admin_client.get("/admin/search_report/?export=top").content.decode()[1:])))
    assert [row[0] for row in top[1:]] == ["红楼梦", "'=hyperlink(1)", "灯塔"]


# --- The status page


def test_status_page_renders_with_the_engine_down(admin_client, settings, closed_port_url, documents):
    """With the engine's port closed, the status page still renders: engine unavailable, the outbox backlog
    with its attempts and last error, and the embedded index count."""
    settings.SEARCH_URL = closed_port_url
    OutboxEntry.objects.create(doc_id="test.doc:1", op="upsert", attempts=3, last_error="连接被拒绝")
    OutboxEntry.objects.create(doc_id="test.doc:2", op="upsert")
    response = admin_client.get("/admin/search_status/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-healthy="false"' in page and "不可用" in page
    assert "<dt>积压</dt><dd>2</dd>" in page and "<dt>最多尝试次数</dt><dd>3</dd>" in page
    assert "连接被拒绝" in page and "<dt>内置索引文档数</dt><dd>3</dd>" in page


def test_status_page_without_an_engine(embedded, admin_client):
    """With no engine configured the page says the embedded index answers, and an empty outbox."""
    page = admin_client.get("/admin/search_status/").content.decode()
    assert "未配置（使用内置索引）" in page and "<dt>积压</dt><dd>0</dd>" in page
