"""Stored files and choosers of items that are closed by something other than their own row (issue 11, item 2):
the page images of a members-only or closed newspaper issue, the Wagtail document a withdrawn e-book left behind,
and the editor's item chooser, which must honour a closed series, title or issue as the site does.
"""

from io import BytesIO
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image
from wagtail.models import ReferenceIndex, Site

from cms.models import LighthouseDocument, LighthouseImage, OrgUnit, StandardPage
from cms.services import member_create, org_unit_create
from library.admin.selectors import items_choosable_by
from library.models import IssuePage, LibraryItem, LibraryPage

pytestmark = pytest.mark.django_db
API = "/api/v1/library"


@pytest.fixture(autouse=True)
def _on_local_disk(local_media):
    """Plain and signed /media/ URLs are local disk's (on S3 every image URL is presigned)."""


@pytest.fixture
def units():
    province = org_unit_create(parent=None, name="山东省", code="shandong", level=OrgUnit.Level.PROVINCE)
    county = org_unit_create(parent=province, name="邹平市", code="zouping", level=OrgUnit.Level.COUNTY)
    Site.objects.get(is_default_site=True).root_page.add_child(instance=LibraryPage(title="数字图书馆", slug="library"))
    return {"province": province, "county": county}


@pytest.fixture
def member(units):
    return member_create(username="wang", password="pw-123456", org_unit=units["county"])


def _jpeg() -> bytes:
    out = BytesIO()
    Image.new("RGB", (40, 60), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def _issue_with_page(units, **issue_fields) -> tuple[LibraryItem, LighthouseImage]:
    title = LibraryItem.objects.create(
        kind="newspaper", role="series", title="灯塔日报", owning_unit=units["province"], **issue_fields
    )
    issue = LibraryItem.objects.create(
        kind="newspaper", role="issue", title="第1期", owning_unit=units["province"], parent=title
    )
    image = LighthouseImage.objects.create(
        title="第1版", file=ContentFile(_jpeg(), name="page1.jpg"), width=40, height=60
    )
    IssuePage.objects.create(issue=issue, number=1, name="要闻", image=image)
    return issue, image


def _page_image_url(client, issue) -> str:
    pages = client.get(f"{API}/items/{issue.pk}/renditions").json()["issue_pages"]
    return pages[0]["image_url"]


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_page_images_of_a_members_only_title_need_a_signature(client, units, member):
    """A 版面 image of an issue under a members-only title is refused at its plain /media/ name (original and
    rendition) to anyone; the member reading the issue gets a signed URL that serves it."""
    issue, image = _issue_with_page(units, access="members")
    assert client.get(f"/media/{image.file.name}").status_code == 404
    client.force_login(member)
    signed = _page_image_url(client, issue)
    assert "s=" in urlsplit(signed).query
    assert client.get(_local(signed)).status_code == 200
    rendition_name = urlsplit(signed).path.removeprefix("/media/")
    assert Client().get(f"/media/{rendition_name}").status_code == 404
    assert client.get(f"/media/{image.file.name}").status_code == 404  # even for the member: only signed


def test_page_images_of_a_public_issue_stay_public(client, units):
    """A public issue's page image is still served at its plain name (pages cache them for weak networks)."""
    issue, image = _issue_with_page(units)
    assert client.get(f"/media/{image.file.name}").status_code == 200
    assert client.get(_local(_page_image_url(client, issue))).status_code == 200


def test_closing_the_title_closes_its_page_images(client, units):
    """Unpublishing the title makes its issues' page images refuse their plain URL at once."""
    issue, image = _issue_with_page(units)
    LibraryItem.objects.filter(pk=issue.parent_id).update(is_published=False)
    assert client.get(f"/media/{image.file.name}").status_code == 404


def _document(name: str) -> LighthouseDocument:
    return LighthouseDocument.objects.create(title=name, file=ContentFile(b"%PDF-1.4 BOOK", name=name))


def test_a_withdrawn_books_document_is_no_longer_served(client, units, member):
    """The takedown drops the document from the item and the file stays in storage: its old /documents/<id>/
    URL is refused to the public and to members (login first, then 404), and still opens for an editor."""
    document = _document("withdrawn.pdf")
    book = LibraryItem.objects.create(
        kind="ebook", title="旧读本", owning_unit=units["province"], download="readers", document=document
    )
    assert client.get(document.url).status_code == 200
    LibraryItem.objects.filter(pk=book.pk).update(document=None)
    assert client.get(document.url).status_code == 302  # to the sign-in page
    client.force_login(member)
    assert client.get(document.url).status_code == 404
    editor = member_create(username="editor", password="pw-123456", org_unit=units["province"])
    editor.is_superuser = True
    editor.save()
    client.force_login(editor)
    assert client.get(document.url).status_code == 200


def test_a_document_a_public_page_links_is_served(client, units):
    """A document used by no item but linked from a live, public page is served to anyone (the reference index
    records the link); once the page is unpublished it is not."""
    document = _document("notice.pdf")
    root = Site.objects.get(is_default_site=True).root_page
    page = root.add_child(
        instance=StandardPage(
            title="通知", slug="notice", body=f'<p><a linktype="document" id="{document.pk}">通知</a></p>'
        )
    )
    page.save_revision().publish()
    ReferenceIndex.create_or_update_for_object(page)  # Wagtail's own task keeps the index; here, at once
    assert client.get(document.url).status_code == 200
    page.unpublish()
    assert client.get(document.url).status_code == 302


def test_chooser_leaves_out_public_children_of_closed_parents(units):
    """An editor of another unit may choose what anyone may open, not a public article whose title is
    members-only (the site and the API refuse it to the public)."""
    closed = LibraryItem.objects.create(
        kind="newspaper", role="series", title="内部参考", owning_unit=units["province"], access="members"
    )
    issue = LibraryItem.objects.create(
        kind="newspaper", role="issue", title="第1期", owning_unit=units["province"], parent=closed
    )
    open_title = LibraryItem.objects.create(
        kind="newspaper", role="series", title="灯塔日报", owning_unit=units["province"]
    )
    other = org_unit_create(parent=None, name="河北省", code="hebei", level=OrgUnit.Level.PROVINCE)
    editor = member_create(username="other-editor", password="pw-123456", org_unit=other)
    choosable = set(items_choosable_by(editor).values_list("pk", flat=True))
    assert open_title.pk in choosable
    assert closed.pk not in choosable and issue.pk not in choosable
