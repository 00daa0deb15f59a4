"""What search engines and share cards read: /sitemap.xml on the served host with the library's open items and
their dates, and on every page type a meta description, Open Graph tags and a canonical link from the page's own
data, never telling anyone about what they may not open (issue 16, item 6)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from lxml import etree, html
from wagtail.models import Page, Site

from cms.models import HomePage, StandardPage
from courses.selectors import course_open_to
from library.models import LibraryItem
from tests.courses.conftest import make_course
from tests.factories import AudioFactory, EbookFactory, MemberFactory

pytestmark = pytest.mark.django_db

HOST = "dangjian.example.cn"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _head(response) -> dict:
    """The share tags of a page: description, canonical and og:* by name."""
    assert response.status_code == 200
    tree = html.fromstring(response.content)
    found = {meta.get("property") or meta.get("name"): meta.get("content") for meta in tree.iter("meta")}
    found["canonical"] = tree.find(".//link[@rel='canonical']").get("href")
    found["title"] = tree.findtext(".//title")
    return found


def _shares(head: dict, *, title: str, description: str, url: str) -> None:
    assert head["og:title"] == title and head["description"] == head["og:description"] == description
    assert head["canonical"] == head["og:url"] == url
    assert head["og:image"].startswith(f"http://{HOST}/")


@pytest.fixture
def world(unit, library_page):
    """A home page as the site's root with a standard page under it, the library and items at every access."""
    site = Site.objects.get(is_default_site=True)
    home = Page.get_first_root_node().add_child(instance=HomePage(title="灯塔-党建在线", slug="lighthouse"))
    site.root_page = home
    site.hostname = "localhost"  # the demo's record: the sitemap must not say it to a crawler of HOST
    site.save()
    library_page.move(home, pos="last-child")
    home.add_child(instance=StandardPage(title="入党须知", slug="join", body="<p>申请入党的<b>条件</b>和程序。</p>"))
    items = {
        "public": EbookFactory(owning_unit=unit, title="公开读本", summary="人人可读的读本。"),
        "members": EbookFactory(owning_unit=unit, title="党员读本", summary="党员才能读的摘要。", access="members"),
        "unit": EbookFactory(owning_unit=unit, title="单位读本", access="unit", access_unit=unit),
        "draft": EbookFactory(owning_unit=unit, title="草稿读本", is_published=False),
    }
    series = AudioFactory(owning_unit=unit, title="党员有声", role="series", access="members")
    items["closed_child"] = AudioFactory(owning_unit=unit, title="一集", role="episode", parent=series)
    return {"home": home, "items": items}


def test_sitemap_lists_open_pages_and_items_on_the_served_host(client, world):
    """Every URL in /sitemap.xml is on the host the crawler asked for (not the Site record's localhost); the home
    page, ordinary pages and the library are there, and the public item with its lastmod; members-only,
    unit-only, unpublished items and an episode of a members-only series are not."""
    response = client.get("/sitemap.xml", HTTP_HOST=HOST)
    assert response.status_code == 200
    urls = {
        url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
        for url in etree.fromstring(response.content).iter(f"{SITEMAP}url")
    }
    assert urls and all(loc.startswith(f"http://{HOST}/") for loc in urls)
    assert {f"http://{HOST}/", f"http://{HOST}/join/", f"http://{HOST}/library/"} <= set(urls)
    items = world["items"]
    public = f"http://{HOST}/library/item/{items['public'].pk}/"
    assert urls[public] == timezone.localtime(items["public"].updated_at).date().isoformat()
    for closed in ("members", "unit", "draft", "closed_child"):
        assert f"/library/item/{items[closed].pk}/" not in response.content.decode(), closed


def test_every_page_type_has_a_description_open_graph_and_canonical(client, world):
    """The home page (its title once, no " · 灯塔" repeated), an ordinary page (its body's text), the library
    page and a public item (its summary, its own URL) each carry a meta description, og:title, og:description,
    an absolute og:image and a canonical link, all from their own data and on the served host."""
    home = _head(client.get("/", HTTP_HOST=HOST))
    assert home["title"] == "灯塔-党建在线"
    _shares(home, title="灯塔-党建在线", description="灯塔-党建在线", url=f"http://{HOST}/")
    page = _head(client.get("/join/", HTTP_HOST=HOST))
    assert page["title"] == "入党须知 · 灯塔"
    _shares(page, title="入党须知", description="申请入党的条件和程序。", url=f"http://{HOST}/join/")
    _shares(
        _head(client.get("/library/", HTTP_HOST=HOST)),
        title="数字图书馆",
        description="数字图书馆",
        url=f"http://{HOST}/library/",
    )
    item = world["items"]["public"]
    url = f"http://{HOST}/library/item/{item.pk}/"
    _shares(_head(client.get(url, HTTP_HOST=HOST)), title="公开读本", description="人人可读的读本。", url=url)


def test_a_course_page_shares_its_own_data_and_a_units_course_stays_out(client, world, unit):
    """A course open to everyone shares its title and 导语 and is in the sitemap; a course for one unit is neither
    in the sitemap nor readable (404) to a crawler, so its tags tell nobody outside anything."""
    from courses.models import CourseIndexPage

    index = world["home"].add_child(instance=CourseIndexPage(title="灯塔大课堂", slug="courses"))
    open_course = make_course(index, issue=7, summary="本期学习二十大报告。")
    unit_course = make_course(index, issue=8, summary="内部导语。", audience_unit=unit)
    assert not course_open_to(member=AnonymousUser(), course=unit_course)
    head = _head(client.get(open_course.url, HTTP_HOST=HOST))
    _shares(head, title="第7期", description="本期学习二十大报告。", url=f"http://{HOST}{open_course.url}")
    sitemap = client.get("/sitemap.xml", HTTP_HOST=HOST).content.decode()
    assert open_course.url in sitemap and unit_course.url not in sitemap
    assert client.get(unit_course.url, HTTP_HOST=HOST).status_code == 404


def test_meta_tags_never_tell_what_the_visitor_may_not_open(client, world):
    """An anonymous visitor at a members-only item gets the sign-in prompt whose tags carry its title and
    请登录后阅读 only (not the summary); a member gets the summary; a unit-only item is a 404 to an outsider."""
    items = world["items"]
    url = f"/library/item/{items['members'].pk}/"
    prompt = client.get(url, HTTP_HOST=HOST)
    head = _head(prompt)
    assert head["og:title"] == "党员读本" and head["og:description"] == "请登录后阅读"
    assert "党员才能读的摘要" not in prompt.content.decode()
    client.force_login(MemberFactory(username="wang", org_unit=None))
    assert _head(client.get(url, HTTP_HOST=HOST))["og:description"] == "党员才能读的摘要。"
    assert client.get(f"/library/item/{items['unit'].pk}/", HTTP_HOST=HOST).status_code == 404
    assert LibraryItem.objects.filter(pk=items["unit"].pk).exists()
