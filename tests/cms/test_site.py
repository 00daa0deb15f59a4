"""The public site skeleton: Chinese first, accessible chrome, large type, sitemap and robots."""

import pytest

pytestmark = pytest.mark.django_db


def test_home_is_chinese_with_skip_link_and_city_sections(client, demo):
    """Home renders in zh-hans whatever the browser asks, with a skip link and the cities' sections."""
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en").content.decode()
    assert '<html lang="zh-hans"' in html and 'href="#main"' in html and "跳到正文" in html
    assert "济南市" in html and "菏泽市" in html


def test_english_only_by_choice(client, demo):
    """The language switch sets a cookie; then the chrome is English."""
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert '<html lang="en"' in html and "Skip to content" in html


def test_large_type_toggle_persists(client, demo):
    """Pressing 大字模式 sets a cookie and every page then carries the large-type class."""
    response = client.post("/preferences/large-type/", {"next": "/library/"})
    assert response.status_code == 302 and response["Location"] == "/library/"
    assert 'class="large-type"' in client.get("/").content.decode()
    client.post("/preferences/large-type/", {"next": "https://evil.example/"})
    assert 'class="large-type"' not in client.get("/").content.decode()


def test_sitemap_and_robots(client, demo):
    """The sitemap lists section pages and robots.txt points to it and keeps crawlers out of the admin."""
    sitemap = client.get("/sitemap.xml").content.decode()
    assert "/zouping/" in sitemap or "/binzhou/zouping/" in sitemap
    robots = client.get("/robots.txt").content.decode()
    assert "Disallow: /admin/" in robots and "sitemap.xml" in robots


def test_education_base_page(client, demo):
    """The demo's education base (沂蒙红嫂纪念馆) is a page with its address."""
    html = client.get("/linyi/yinan/yimeng-hongsao/").content.decode()
    assert "沂蒙红嫂纪念馆" in html and "沂南县马牧池乡" in html
