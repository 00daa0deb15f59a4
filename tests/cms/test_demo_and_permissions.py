"""The demo organisation and the rule that editors work only in their own part of the tree."""

import pytest
from django.core.management import call_command
from wagtail.models import Page

from cms.models import EducationBasePage, HomePage, Member, OrgUnit, SectionPage

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    """The demo structure (organisation, roles, pages, editors) without its media, which other tests cover."""
    call_command("load_demo", "--no-media")


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
