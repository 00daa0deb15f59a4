"""Pages of a newspaper issue in the admin, and the article areas drawn on them."""

import io
import json

import pytest
from django.core.files.images import ImageFile
from PIL import Image as PILImage

from cms.models import LighthouseImage, Member
from library.models import ArticleArea, IssuePage
from tests.factories import NewspaperFactory

pytestmark = pytest.mark.django_db
RECT = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.4], [0.1, 0.4]]


@pytest.fixture
def newspaper(unit_tree):
    unit = unit_tree["zouping"]
    title = NewspaperFactory(role="series", title="邹平日报", owning_unit=unit)
    issue = NewspaperFactory(role="issue", title="2026-11-01", parent=title, owning_unit=unit)
    article = NewspaperFactory(role="article", title="头版头条", parent=issue, position=1, owning_unit=unit)
    return issue, article


def _image():
    buffer = io.BytesIO()
    PILImage.new("RGB", (200, 300), "white").save(buffer, "PNG")
    image = LighthouseImage(title="版面")
    image.file.save("page.png", ImageFile(buffer, name="page.png"), save=False)
    image.save()
    return image


def _login(client, username):
    client.force_login(Member.objects.get(username=username))


def test_editor_adds_pages_to_own_issue_only(client, editors, newspaper):
    """The pages list of an issue offers “add” with the issue and next number filled in; a page is saved with
    its image; another county's editor gets a 404 for the page and cannot file pages under the issue."""
    issue, _article = newspaper
    image = _image()
    _login(client, "zouping_editor")
    form = client.get(f"/admin/library_issue_pages/new/?issue={issue.pk}").context["form"]
    assert form.initial["issue"] == str(issue.pk) and form.initial["number"] == 1
    data = {"issue": issue.pk, "number": 1, "name": "要闻", "image": image.pk, "text": "头版"}
    assert client.post("/admin/library_issue_pages/new/", data).status_code == 302
    page = IssuePage.objects.get()
    assert (page.issue, page.name, page.image) == (issue, "要闻", image)
    duplicate = client.post("/admin/library_issue_pages/new/", data)
    assert duplicate.status_code == 200 and IssuePage.objects.count() == 1
    assert "要闻" in client.get(f"/admin/library_issue_pages/?issue={issue.pk}").content.decode()

    _login(client, "yinan_editor")
    assert client.get(f"/admin/library_issue_pages/edit/{page.pk}/").status_code == 404
    assert client.get(f"/admin/library_issue_pages/areas/{page.pk}/").status_code == 404
    assert client.post("/admin/library_issue_pages/new/", data | {"number": 2}).status_code == 200
    assert IssuePage.objects.count() == 1


def test_areas_are_saved_as_fractions_and_bad_ones_refused(client, editors, newspaper):
    """Drawn rectangles are stored as 0–1 points for the issue's own articles; fewer than three points, a point
    off the page or another issue's article is refused with a Chinese message and nothing changes."""
    issue, article = newspaper
    page = IssuePage.objects.create(issue=issue, number=1, name="要闻", image=_image())
    stranger = NewspaperFactory(role="article", title="别期文章", owning_unit=issue.owning_unit)
    url = f"/admin/library_issue_pages/areas/{page.pk}/"
    _login(client, "zouping_editor")
    editor = client.get(url).content.decode()
    assert "areas_editor.js" in editor and f'"pk": {article.pk}' in editor  # the issue's articles to pick from
    assert client.post(url, {"areas": json.dumps([{"article": article.pk, "points": RECT}])}).status_code == 302
    assert ArticleArea.objects.get().points == RECT

    for bad, message in [
        ([{"article": article.pk, "points": RECT[:2]}], "至少要有三个顶点"),
        ([{"article": article.pk, "points": [[0.1, 0.1], [1.2, 0.1], [0.5, 0.5]]}], "超出了版面范围"),
        ([{"article": stranger.pk, "points": RECT}], "不属于这一期"),
        ("not json", "格式不正确"),
    ]:
        payload = bad if isinstance(bad, str) else json.dumps(bad)
        response = client.post(url, {"areas": payload})
        assert response.status_code == 400 and message in response.content.decode()
    assert list(ArticleArea.objects.values_list("article_id", flat=True)) == [article.pk]

    assert client.post(url, {"areas": "[]"}).status_code == 302
    assert not ArticleArea.objects.exists()
