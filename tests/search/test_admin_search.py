"""Wagtail's admin search finds Chinese: pages, documents and images, on the database backend (SQLite or
PostgreSQL, whichever the run uses) and on a real OpenSearch node (`make test`, or services/up)."""

import logging
import os
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Page
from wagtail.search.backends import get_search_backend

from cms.models import LighthouseDocument, LighthouseImage, Member, StandardPage
from cms.settings.base import wagtail_search_backends
from search.admin_backends.engine import SearchBackend as engine_backend
from search.admin_backends.engine_analysis import index_settings

SEARCH_URL = os.environ.get("SEARCH_URL", "")
ON_OPENSEARCH = bool(SEARCH_URL) and os.environ.get("SEARCH_ENGINE", "opensearch") == "opensearch"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def index_at_once(settings):
    """modelsearch indexes a saved object in a task: run it as it is enqueued, as a worker would."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": settings.TASK_QUEUES}
    }


def _engine_settings(urls: list[str], prefix: str) -> dict:
    return {"BACKEND": "search.admin_backends.engine", "ENGINE": "opensearch", "URLS": urls, "INDEX_PREFIX": prefix}


@pytest.fixture(
    params=[
        "database",
        pytest.param(
            "opensearch",
            marks=[
                pytest.mark.services,
                pytest.mark.skipif(not ON_OPENSEARCH, reason="needs a real OpenSearch node: SEARCH_URL is unset"),
            ],
        ),
    ]
)
def backend(request, settings):
    """The admin search backend under test; on OpenSearch, on a fresh index prefix deleted afterwards."""
    if request.param == "database":
        settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "search.admin_backends.database"}}
        yield get_search_backend()
        return
    prefix = f"lhtest-admin-{uuid.uuid4().hex[:8]}-"
    settings.WAGTAILSEARCH_BACKENDS = {"default": _engine_settings(SEARCH_URL.split(","), prefix)}
    search_backend = get_search_backend()
    yield search_backend
    search_backend.es.indices.delete(index=f"{prefix}*", params={"ignore_unavailable": "true"})


def _refresh(search_backend):
    """Make what was just written searchable (an engine shows writes after a refresh; a database at once)."""
    if hasattr(search_backend, "es"):
        search_backend.es.indices.refresh(index=f"{search_backend.index_prefix}*")


def _page(title, **fields):
    root = Page.get_first_root_node()
    return root.add_child(instance=StandardPage(title=title, slug=f"p-{uuid.uuid4().hex[:10]}", **fields))


@pytest.fixture
def pages(backend):
    made = {
        "party": _page("学习党史的好书"),
        "history": _page("中国共产党历史"),
        "farm": _page("乡村振兴实用技术"),
        "english": _page("Lighthouse handbook"),
    }
    _refresh(backend)
    return made


@pytest.fixture
def admin_client(client):
    client.force_login(Member.objects.create_superuser(username="root", password="pw-123456"))
    return client


def _titles(results) -> set[str]:
    return {result.title for result in results}


def test_pages_are_found_by_chinese_words_characters_and_traditional_forms(pages):
    """A two-character word, a lone character, a word inside a longer run and a traditional query all find
    their pages, by search and by autocomplete; an unrelated word finds nothing."""
    pages_ = StandardPage.objects.all()
    assert _titles(pages_.search("党史")) == {"学习党史的好书"}
    assert _titles(pages_.search("历史")) == {"中国共产党历史"}
    assert _titles(pages_.search("党")) == {"学习党史的好书", "中国共产党历史"}
    assert _titles(pages_.search("黨史")) == {"学习党史的好书"}
    assert _titles(pages_.search("航天")) == set()
    assert _titles(pages_.autocomplete("党史")) == {"学习党史的好书"}
    assert _titles(pages_.autocomplete("共产党")) == {"中国共产党历史"}
    assert _titles(pages_.autocomplete("Light")) == {"Lighthouse handbook"}


def test_queries_without_words_find_nothing_and_do_not_fail(pages):
    """Punctuation, emoji and query syntax are no words: an empty answer, never an error."""
    for query in ["！！", "🙂🙂", "title:*", "AND ("]:
        assert list(StandardPage.objects.search(query)) == []
        assert list(StandardPage.objects.autocomplete(query)) == []


def test_a_changed_title_is_found_by_its_new_words_only(backend, pages):
    """Saving a page replaces its stored terms: the new title finds it, the old one no longer does."""
    page = pages["farm"]
    page.title = "红楼梦有声书"
    page.save()
    _refresh(backend)
    assert _titles(StandardPage.objects.search("红楼梦")) == {"红楼梦有声书"}
    assert _titles(StandardPage.objects.search("乡村振兴")) == set()


def test_editor_finds_a_chinese_page_in_the_admin_page_search(admin_client, pages):
    """The admin's page search (搜索) shows the page whose title holds 党史, and not the others."""
    html = admin_client.get("/admin/pages/search/", {"q": "党史"}).content.decode()
    assert "学习党史的好书" in html and "乡村振兴实用技术" not in html


def test_editor_finds_chinese_documents_and_images(admin_client, backend):
    """The documents and images listings find their Chinese titles."""
    document = LighthouseDocument(title="党史学习资料汇编")
    document.file.save("notes.txt", ContentFile(b"notes"), save=True)
    LighthouseDocument(title="果树栽培").file.save("other.txt", ContentFile(b"other"), save=True)
    LighthouseImage.objects.create(title="红色教育基地照片", file=get_test_image_file())
    _refresh(backend)
    documents = admin_client.get("/admin/documents/", {"q": "党史"}).content.decode()
    assert "党史学习资料汇编" in documents and "果树栽培" not in documents
    assert "红色教育基地照片" in admin_client.get("/admin/images/", {"q": "教育"}).content.decode()


def test_update_index_rebuilds_the_configured_backend(backend, pages):
    """`manage.py update_index` rebuilds the index (on an engine: a new index behind the alias) and the pages
    are still found."""
    call_command("update_index", stdout=open(os.devnull, "w"))
    _refresh(backend)
    assert _titles(StandardPage.objects.search("党史")) == {"学习党史的好书"}


@pytest.mark.skipif(not ON_OPENSEARCH, reason="needs a real OpenSearch node: SEARCH_URL is unset")
@pytest.mark.services
@pytest.mark.parametrize("backend", ["opensearch"], indirect=True)
def test_the_engine_index_has_the_chinese_analysis(backend, pages):
    """An index made on the first save (no update_index yet) already has our analyzers: stored text gives
    characters and bigrams, folded from traditional and full-width forms."""
    index = f"{backend.index_prefix}wagtailcore_page"
    tokens = backend.es.indices.analyze(index=index, body={"analyzer": "edgengram_analyzer", "text": "黨史ＡＢ"})
    assert {token["token"] for token in tokens["tokens"]} >= {"党", "史", "党史", "a", "ab"}
    query_tokens = backend.es.indices.analyze(index=index, body={"analyzer": "standard", "text": "学习党史"})
    assert [token["token"] for token in query_tokens["tokens"]] == ["学习", "习党", "党史"]


def test_saving_a_page_succeeds_while_the_engine_is_down(settings, closed_port_url, admin_client, caplog):
    """With the engine's port closed, creating and editing pages still works (the failure is logged), and the
    admin page search answers from the database instead of an error page."""
    settings.WAGTAILSEARCH_BACKENDS = {"default": _engine_settings([closed_port_url], "lhtest-admin-down-")}
    with caplog.at_level(logging.ERROR, logger="modelsearch"):
        page = _page("学习党史的好书")
        page.title = page.draft_title = "学习党史的好书（第二版）"
        page.save()
    assert StandardPage.objects.get(pk=page.pk).title == "学习党史的好书（第二版）"
    assert any("search backend" in record.getMessage() for record in caplog.records)
    response = admin_client.get("/admin/pages/search/", {"q": "党史"})
    assert response.status_code == 200 and "学习党史的好书（第二版）" in response.content.decode()


def test_settings_pick_the_backend_from_the_environment():
    """No SEARCH_URL: the database backend. SEARCH_URL (several nodes allowed): the engine backend, on the
    admin's own index prefix."""
    assert wagtail_search_backends("", "opensearch", "lh") == {"default": {"BACKEND": "search.admin_backends.database"}}
    engine = wagtail_search_backends("http://a:9200, http://b:9200", "opensearch", "lh")["default"]
    assert engine["BACKEND"] == "search.admin_backends.engine" and engine["ENGINE"] == "opensearch"
    assert engine["URLS"] == ["http://a:9200", "http://b:9200"] and engine["INDEX_PREFIX"] == "lh-admin-"


def test_elasticsearch_gets_its_own_backend_with_the_same_analysis(closed_port_url):
    """SEARCH_ENGINE=elasticsearch uses modelsearch's backend for the installed elasticsearch client, and the
    index it would create carries the same CJK analyzers."""
    from modelsearch.backends.elasticsearch8 import Elasticsearch8SearchBackend

    backend = engine_backend(
        {"ENGINE": "elasticsearch", "URLS": [closed_port_url, closed_port_url.replace("127.0.0.1", "localhost")]}
    )
    assert isinstance(backend, Elasticsearch8SearchBackend)
    analysis = backend.settings["settings"]["analysis"]
    assert analysis["analyzer"] == {**analysis["analyzer"], **index_settings()["settings"]["analysis"]["analyzer"]}
    assert "cjk_bigram" in analysis["analyzer"]["standard"]["filter"]
