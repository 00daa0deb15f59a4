"""Pages on weak networks (cms/project/page_delivery.py): compressed, briefly cached for visitors, revalidated."""

import gzip

import pytest

from tests import factories

pytestmark = pytest.mark.django_db

SIGN_IN = "/login/"


def test_a_page_comes_gzipped_when_the_browser_accepts_it(client):
    """With Accept-Encoding gzip the sign-in page comes gzipped (a Chinese page shrinks to a fraction) and decodes to
    the same page; without it, plain."""
    plain = client.get(SIGN_IN)
    squeezed = client.get(SIGN_IN, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert squeezed["Content-Encoding"] == "gzip" and "Accept-Encoding" in squeezed["Vary"]
    assert len(squeezed.content) * 2 < len(plain.content)
    assert "登录" in gzip.decompress(squeezed.content).decode()
    assert not plain.has_header("Content-Encoding")


def test_an_anonymous_page_is_kept_a_minute_in_the_browser_only(client, settings):
    """A page for a visitor who is not signed in and gets no cookie but the CSRF one (every page has a form):
    private, PAGE_CACHE_SECONDS, varying on Cookie (signing in fetches it anew); a session cookie means no-cache."""
    settings.PAGE_CACHE_SECONDS = 60
    factories.library_page()
    response = client.get("/library/")
    assert response.status_code == 200
    assert sorted(response["Cache-Control"].split(", ")) == ["max-age=60", "private"]
    assert "Cookie" in response["Vary"]
    client.post("/preferences/large-type/", {"next": "/library/"})  # a preference kept in a cookie
    assert "max-age=60" in client.get("/library/")["Cache-Control"]


def test_a_signed_in_members_page_is_always_revalidated_and_304_when_unchanged(client):
    """For a signed-in member every page is asked again (no-cache), and an unchanged page answers 304 without a
    body (its ETag)."""
    factories.library_page()
    client.force_login(factories.MemberFactory())
    response = client.get("/library/")
    assert "no-cache" in response["Cache-Control"] and "private" in response["Cache-Control"]
    again = client.get("/library/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code in (200, 304)  # 304 when nothing on the page moved (a CSRF token may have)


def test_a_views_own_cache_decision_is_kept(client):
    """The sign-in page says never cache (Django's never_cache); that stands."""
    response = client.get(SIGN_IN)
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_byte_ranges_and_streams_are_left_alone(client, settings, local_media, tmp_path):
    """A streamed file is neither compressed nor given page headers: Range requests and lengths stay exact."""
    from django.http import FileResponse, HttpRequest

    from cms.project.page_delivery import PageDeliveryMiddleware

    path = tmp_path / "a.txt"
    path.write_text("灯塔" * 1000, encoding="utf-8")
    middleware = PageDeliveryMiddleware(lambda request: FileResponse(path.open("rb"), content_type="text/plain"))
    request = HttpRequest()
    request.method = "GET"
    request.META["HTTP_ACCEPT_ENCODING"] = "gzip"
    response = middleware(request)
    assert not response.has_header("Content-Encoding") and not response.has_header("Cache-Control")
    response.close()
