"""Search tools through a role: the province's editors look after synonyms, promoted results and the search statistics
(a city or county editor does not, and the status page stays with whoever runs the servers); promotions are named by
the promoted item's title, never by its index id ("library.libraryitem:28")."""

import json
import re

import pytest
from django.test import Client

from cms.models import Member
from search.engines.choice import get_embedded_engine
from search.models import Promotion, Synonym
from search.registry import SearchDocument

pytestmark = pytest.mark.django_db

TOOLS = ["/admin/search_synonyms/", "/admin/search_promotions/", "/admin/search_report/"]


@pytest.fixture
def promoted(demo, embedded):
    get_embedded_engine().index(
        [SearchDocument(doc_id="library.libraryitem:28", kind="video", title="党史微课 第1集：南湖红船", url="/l/28/")]
    )
    return Promotion.objects.create(query="党史", doc_id="library.libraryitem:28")


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(Member.objects.get(username=username))
    return client


def menu_labels(client: Client) -> str:
    """The sidebar's labels (Wagtail writes the menu as JSON, with Chinese escaped)."""
    html = client.get("/admin/").content.decode()
    props = re.search(r'<script id="wagtail-sidebar-props" type="application/json">(.*?)</script>', html, re.S)
    return " ".join(re.findall(r'"label": "([^"]*)"', json.dumps(json.loads(props.group(1)), ensure_ascii=False)))


def screen(client: Client, url: str) -> str:
    """The HTML of an admin screen (a chooser answers with its HTML inside JSON)."""
    response = client.get(url)
    if response["Content-Type"].startswith("application/json"):
        return response.json()["html"]
    return response.content.decode()


def test_province_editor_opens_every_search_tool(promoted):
    """The province editor sees 搜索 in the menu and opens synonyms, promotions (adding one too), the statistics
    and the index chooser; the status page under Settings stays closed."""
    client = signed_in("sheng_editor")
    assert {"搜索", "同义词", "推荐结果", "搜索统计"} <= set(menu_labels(client).split())
    for url in [*TOOLS, "/admin/search_synonyms/new/", "/admin/search_promotions/new/", "/admin/search_index_chooser/"]:
        assert client.get(url).status_code == 200, url
    response = client.post("/admin/search_synonyms/new/", {"terms": "红船，南湖红船", "is_active": "on"})
    assert response.status_code == 302 and Synonym.objects.filter(terms="红船，南湖红船").exists()
    assert client.get("/admin/search_status/").status_code in (302, 403)


@pytest.mark.parametrize("username", ["binzhou_editor", "zouping_editor"])
def test_city_and_county_editors_have_no_search_tools(promoted, username):
    """Synonyms and promotions change search for the whole province: a city or county editor opens none of them."""
    client = signed_in(username)
    assert "推荐结果" not in menu_labels(client)
    for url in [*TOOLS, "/admin/search_index_chooser/"]:
        assert client.get(url).status_code in (302, 403), url


def test_promotions_are_named_by_the_items_title(promoted):
    """The promotion list, edit page and history name the promoted item by its title; the chooser lists titles and
    Chinese kinds, and no screen shows the index id."""
    client = signed_in("sheng_editor")
    for url in [
        "/admin/search_promotions/",
        f"/admin/search_promotions/edit/{promoted.pk}/",
        f"/admin/search_promotions/history/{promoted.pk}/",
        "/admin/search_index_chooser/",
    ]:
        html = screen(client, url)
        assert "党史微课 第1集：南湖红船" in html, url
        assert "library.libraryitem:28" not in re.sub(r'(value|data-[\w-]+|href)="[^"]*"', "", html), url
    chooser = screen(client, "/admin/search_index_chooser/")
    assert re.search(r">\s*视频\s*<", chooser) and re.search(r">\s*公开\s*<", chooser)
    assert str(Promotion.objects.get(pk=promoted.pk)) == "党史 → 党史微课 第1集：南湖红船"
