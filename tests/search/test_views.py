import pytest
from django.urls import reverse

from search.models import IndexEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def base_template(settings, tmp_path):
    """A stand-in base.html (the site's own arrives with the lead's templates)."""
    (tmp_path / "base.html").write_text(
        "<main>{% block content %}{% endblock %}</main><title>{% block title %}{% endblock %}</title>",
        encoding="utf-8",
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]


@pytest.fixture
def page(client, base_template, embedded):
    def get(**params):
        response = client.get(reverse("search"), params)
        assert response.status_code == 200
        return response.content.decode()

    return get


def test_search_page_has_a_search_form(page):
    """The page offers a labelled search box (keyboard-usable, no JavaScript)."""
    html = page()
    assert 'type="search" name="q"' in html and '<label for="search-q">' in html


def test_results_show_link_kind_and_snippet(page, make_item, drain):
    """A result shows the title link, the kind label and a highlighted snippet."""
    item = make_item("红楼梦有声书", body="曹雪芹著，名家演播。")
    drain()
    html = page(q="红楼梦")
    url = IndexEntry.objects.get(doc_id=f"library.libraryitem:{item.pk}").url
    assert f'<a href="{url}"><mark>红楼梦</mark>有声书</a>' in html
    assert "电子书" in html
    assert "<mark>曹雪芹</mark>" not in html and "曹雪芹著" in html


def test_no_results_message(page):
    """A query that matches nothing says so plainly."""
    assert "没有找到" in page(q="不存在的词语")


@pytest.mark.parametrize(
    "params", [{"q": "<script>x</script>"}, {"q": "党史", "page": "abc"}, {"q": "党史", "page": "999999"}]
)
def test_bad_input_is_answered(page, params):
    """Script in the query is escaped; bad or huge page numbers still give a page."""
    html = page(**params)
    assert "<script>x" not in html


def test_pagination(page, make_item, drain):
    """More results than fit on a page give a next-page link."""
    for number in range(25):
        make_item(f"党史故事第{number}集")
    drain()
    html = page(q="党史")
    assert 'rel="next"' in html and "page=2" in html
    assert 'rel="prev"' in page(q="党史", page="2")
