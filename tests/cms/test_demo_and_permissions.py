"""The demo organisation and the rule that editors work only in their own part of the tree."""

import pytest
from django.core.management import call_command
from wagtail.models import Page

from cms.models import EducationBasePage, HomePage, Member, OrgUnit, SectionPage

pytestmark = pytest.mark.django_db


def _can_edit(username, page):
    user = Member.objects.get(username=username)
    return page.permissions_for_user(user).can_edit()


def test_demo_has_the_sixteen_cities_and_real_counties(demo):
    """The organisation tree holds Shandong's 16 prefecture-level cities and the named counties under them."""
    cities = set(OrgUnit.objects.filter(level="city").values_list("name", flat=True))
    assert len(cities) == 16 and {"济南市", "青岛市", "菏泽市", "滨州市"} <= cities
    zouping = OrgUnit.objects.get(name="邹平市")
    assert zouping.get_parent().name == "滨州市" and zouping.get_parent().get_parent().name == "山东省"
    assert OrgUnit.objects.filter(level="branch").exists()


def test_load_demo_is_idempotent(demo):
    """Running the demo loader again creates no duplicate units, pages or members."""
    counts = (OrgUnit.objects.count(), Page.objects.count(), Member.objects.count())
    call_command("load_demo", "--no-media")
    assert (OrgUnit.objects.count(), Page.objects.count(), Member.objects.count()) == counts


def test_county_editor_edits_own_county_only(demo):
    """A county editor can edit the county's pages but not the province's or another county's."""
    zouping = SectionPage.objects.get(org_unit__code="zouping")
    yinan = SectionPage.objects.get(org_unit__code="yinan")
    home = HomePage.objects.get()
    assert _can_edit("zouping_editor", zouping)
    assert not _can_edit("zouping_editor", home)
    assert not _can_edit("zouping_editor", yinan)
    assert not _can_edit("zouping_editor", EducationBasePage.objects.get())


def test_city_and_province_editors_reach_down_the_tree(demo):
    """Content flows down: a city editor edits its counties' pages; the province editor edits everything."""
    zouping = SectionPage.objects.get(org_unit__code="zouping")
    assert _can_edit("binzhou_editor", zouping)
    assert not _can_edit("binzhou_editor", SectionPage.objects.get(org_unit__code="yinan"))
    assert _can_edit("sheng_editor", zouping) and _can_edit("sheng_editor", HomePage.objects.get())


def test_branch_secretary_has_no_page_rights(demo):
    """A branch secretary is a member role, not an editor: no page in the CMS is editable."""
    assert not _can_edit("changshanzhuang_secretary", HomePage.objects.get())


def _library_demo_checks():
    from library.models import ArticleArea, IssuePage, ItemList, LibraryItem

    items = LibraryItem.objects.filter(source="demo")
    assert set(items.values_list("kind", flat=True)) == set(LibraryItem.Kind.values)
    assert set(items.values_list("role", flat=True)) == set(LibraryItem.Role.values)
    for kind in ("video", "audio"):
        series = items.get(kind=kind, role="series")
        assert series.children.filter(role="episode").count() == 2 and series.creators
    assert items.get(kind="audio", role="series").title.startswith("灯塔有声")
    ebooks = items.filter(kind="ebook")
    assert ebooks.count() == 2 and all(book.isbn and book.clc and book.creators for book in ebooks)
    issue = items.get(kind="periodical", role="issue")
    assert issue.parent.role == "series" and issue.children.count() == 2
    page = IssuePage.objects.get(issue__kind="newspaper")
    assert ArticleArea.objects.filter(page=page).count() == 2
    assert all(len(area.points) == 4 for area in ArticleArea.objects.all())
    picks = ItemList.objects.get(title="本月推荐", kind="curated", is_published=True)
    assert picks.entries.count() == 7
    return items, page


def test_library_demo_without_files(client, demo):
    """The library demo without files: every kind and role, series with two episodes, e-books with ISBN, CLC and
    credits, a periodical issue with two articles, a newspaper page with two article areas and 本月推荐, shown on
    the library's front page with counts; loading again adds nothing."""
    from cms.demo import demo_load
    from library.models import LibraryItem

    demo_load(log=lambda line: None, media=False, library=True)
    items, page = _library_demo_checks()
    assert page.image is None and not items.filter(media_asset__isnull=False).exists()
    count = LibraryItem.objects.count()
    demo_load(log=lambda line: None, media=False, library=True)
    assert LibraryItem.objects.count() == count
    html = client.get("/library/").content.decode()
    assert "本月推荐" in html and "党史微课" in html and "共 " in html


def test_library_demo_with_files(demo):
    """With media, the same rows carry their files: episodes and the PDF/EPUB e-books and the periodical issue
    go to the media pipeline through the library service, the article has a cover image, the newspaper page a
    page image."""
    from cms.demo import demo_load
    from media_pipeline.models import TranscodeJob

    demo_load(log=lambda line: None, media=True)
    items, page = _library_demo_checks()
    assert page.image is not None and page.image.width == 1200
    assert items.get(title="图说沂蒙红嫂").cover is not None
    assert all(items.get(external_id=key).media_asset_id for key in ("ebook-shouce", "ebook-duben"))
    assert items.get(kind="periodical", role="issue").document is not None
    assert items.filter(role="episode", media_asset__isnull=False).count() == 4
    assert TranscodeJob.objects.exists()
