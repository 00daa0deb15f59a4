"""Roles (cms.services, cms.selectors): which groups each unit gets, what each role's group may do and where, and
that an editor's rights end at the edge of their own part of the tree."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page
from wagtail.permissions import policy_registry

from cms.models import Member, OrgUnit, SectionPage, UnitRole
from cms.selectors import unit_and_ancestors, units_managed_by
from cms.services import (
    ROLE_COLLECTION_PERMISSIONS,
    member_create,
    org_unit_create,
    org_unit_ensure_roles,
    org_unit_set_section_page,
)
from tests.factories import OrgUnitFactory, editor

pytestmark = pytest.mark.django_db

EDITOR_PAGE_RIGHTS = {"add_page", "change_page", "publish_page"}
MODEL_RIGHTS = {
    "wagtailadmin.access_admin",
    "library.add_libraryitem",
    "library.change_libraryitem",
    "library.view_libraryitem",
    "library.delete_libraryitem",
    "media_pipeline.view_transcodejob",
}


def _with_section(unit: OrgUnit, parent_page: Page) -> SectionPage:
    page = parent_page.add_child(instance=SectionPage(title=unit.name, slug=unit.code, org_unit=unit))
    org_unit_set_section_page(unit=unit, page=page)
    return page


@pytest.fixture
def tree():
    """山东省 → 滨州市 → 邹平市 → 黛溪街道 → 支部, and 临沂市 beside 滨州市; each city and county has a section page."""
    province = OrgUnitFactory(name="山东省", code="sheng", level=OrgUnit.Level.PROVINCE)
    binzhou = OrgUnitFactory(name="滨州市", code="binzhou", level=OrgUnit.Level.CITY, parent=province)
    linyi = OrgUnitFactory(name="临沂市", code="linyi", level=OrgUnit.Level.CITY, parent=province)
    zouping = OrgUnitFactory(name="邹平市", code="zouping", level=OrgUnit.Level.COUNTY, parent=binzhou)
    daixi = OrgUnitFactory(name="黛溪街道", code="daixi", level=OrgUnit.Level.TOWNSHIP, parent=zouping)
    branch = OrgUnitFactory(name="第一支部", code="daixi-1", level=OrgUnit.Level.BRANCH, parent=daixi)
    root_page = _with_section(province, Page.get_first_root_node())
    binzhou_page, linyi_page = _with_section(binzhou, root_page), _with_section(linyi, root_page)
    zouping_page = _with_section(zouping, binzhou_page)
    units = {unit.code: OrgUnit.objects.get(pk=unit.pk) for unit in (province, binzhou, linyi, zouping, daixi, branch)}
    pages = {"sheng": root_page, "binzhou": binzhou_page, "linyi": linyi_page, "zouping": zouping_page}
    return units, pages


def _page_rights(group: Group) -> dict[int, set[str]]:
    rights: dict[int, set[str]] = {}
    for grant in GroupPagePermission.objects.filter(group=group).select_related("permission"):
        rights.setdefault(grant.page_id, set()).add(grant.permission.codename)
    return rights


def _collection_rights(group: Group) -> dict[int, set[str]]:
    rights: dict[int, set[str]] = {}
    for grant in GroupCollectionPermission.objects.filter(group=group).select_related("permission"):
        rights.setdefault(grant.collection_id, set()).add(grant.permission.codename)
    return rights


def _model_rights(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


# --- Which roles each level has -----------------------------------------------------------------------------


def test_each_level_gets_its_own_roles(tree):
    """Province, city and county units have an editor and an administrator group, named after the unit; a
    township has no role groups; a branch has only its secretary."""
    units, _pages = tree
    for code in ("sheng", "binzhou", "zouping"):
        groups = org_unit_ensure_roles(unit=units[code])
        assert set(groups) == {UnitRole.Role.EDITOR, UnitRole.Role.ADMINISTRATOR}
        assert groups[UnitRole.Role.EDITOR].name == f"{units[code].name}·编辑"
    assert org_unit_ensure_roles(unit=units["daixi"]) == {}
    assert set(org_unit_ensure_roles(unit=units["daixi-1"])) == {UnitRole.Role.SECRETARY}


def test_ensuring_roles_again_changes_nothing(tree):
    """Asking for a unit's roles twice gives the same groups with the same rights: no second group, no
    duplicated grant (demo loading and section page changes rely on it)."""
    units, _pages = tree
    first = org_unit_ensure_roles(unit=units["binzhou"])
    grants = (GroupPagePermission.objects.count(), GroupCollectionPermission.objects.count())
    again = org_unit_ensure_roles(unit=units["binzhou"])
    assert again == first and Group.objects.filter(name__startswith="滨州市").count() == 2
    assert (GroupPagePermission.objects.count(), GroupCollectionPermission.objects.count()) == grants


# --- What each role may do, and where -----------------------------------------------------------------------


def test_an_editor_edits_and_publishes_below_the_units_section_page(tree):
    """A city's editors may add, change and publish pages under the city's section page and nowhere else,
    manage pictures and documents in the city's collection only, open the admin, and manage library items
    and see transcode jobs (which items and jobs is the library's and the pipeline's scoping)."""
    units, pages = tree
    group = org_unit_ensure_roles(unit=units["binzhou"])[UnitRole.Role.EDITOR]
    assert _page_rights(group) == {pages["binzhou"].pk: EDITOR_PAGE_RIGHTS}
    assert _collection_rights(group) == {units["binzhou"].collection_id: set(ROLE_COLLECTION_PERMISSIONS)}
    assert _model_rights(group) == MODEL_RIGHTS


def test_an_administrator_may_also_lock_and_bulk_delete(tree):
    """A unit's administrators have the editors' rights and may also lock pages and delete page subtrees."""
    units, pages = tree
    group = org_unit_ensure_roles(unit=units["zouping"])[UnitRole.Role.ADMINISTRATOR]
    assert _page_rights(group) == {pages["zouping"].pk: EDITOR_PAGE_RIGHTS | {"bulk_delete_page", "lock_page"}}
    assert _collection_rights(group) == {units["zouping"].collection_id: set(ROLE_COLLECTION_PERMISSIONS)}
    assert _model_rights(group) == MODEL_RIGHTS


def test_a_branch_secretary_has_no_rights_in_the_admin(tree):
    """A secretary is a member role: no model, page or collection right, not even opening the admin."""
    units, _pages = tree
    group = org_unit_ensure_roles(unit=units["daixi-1"])[UnitRole.Role.SECRETARY]
    assert not group.permissions.exists() and not _page_rights(group) and not _collection_rights(group)
    secretary = member_create(username="shuji", password="pw-123456", org_unit=units["daixi-1"], roles=("secretary",))
    assert not secretary.has_perm("wagtailadmin.access_admin")


def test_page_rights_follow_a_section_page_set_later(tree):
    """Roles created before their unit had a section page get the page rights when it is set, on that page."""
    units, pages = tree
    unit = org_unit_create(parent=units["binzhou"], name="博兴县", code="boxing", level=OrgUnit.Level.COUNTY)
    group = org_unit_ensure_roles(unit=unit)[UnitRole.Role.EDITOR]
    assert _page_rights(group) == {}
    page = _with_section(unit, pages["binzhou"])
    assert _page_rights(group) == {page.pk: EDITOR_PAGE_RIGHTS}


def test_a_units_collection_sits_in_its_parents(tree):
    """Each unit gets its own collection inside its parent unit's, so rights on a city's collection reach its
    counties' pictures and documents; creating a unit again by its code returns it unchanged."""
    units, _pages = tree
    county, city = units["zouping"].collection, units["binzhou"].collection
    assert county.get_parent() == city and city.get_parent() == units["sheng"].collection
    assert units["sheng"].collection.get_parent() == Collection.get_first_root_node()
    again = org_unit_create(parent=units["linyi"], name="别的名字", code="zouping", level=OrgUnit.Level.COUNTY)
    assert again == units["zouping"] and again.name == "邹平市"


# --- Members in roles, and the edges of their rights --------------------------------------------------------


def test_member_create_puts_members_in_their_units_role_groups(tree):
    """A member created with roles at a unit is in exactly those groups; created again, they are updated, not
    duplicated."""
    units, _pages = tree
    member = editor(units["binzhou"], "binzhou_admin", role="administrator")
    assert set(member.groups.values_list("unit_role__unit__code", "unit_role__role")) == {("binzhou", "administrator")}
    again = member_create(username="binzhou_admin", password="pw-123456", real_name="新名字", org_unit=units["binzhou"])
    assert again.pk == member.pk and again.real_name == "新名字"
    assert Member.objects.filter(username="binzhou_admin").count() == 1


def test_a_city_editor_cannot_act_on_another_city(tree):
    """滨州市's editor edits 滨州市's pages and its counties', uploads into their collections, and can do none of it
    in 临沂市 or on the province's page."""
    units, pages = tree
    user = editor(units["binzhou"], "binzhou_editor")
    for code, allowed in (("binzhou", True), ("zouping", True), ("linyi", False), ("sheng", False)):
        tester = pages[code].specific.permissions_for_user(user)
        assert (tester.can_edit(), tester.can_publish(), tester.can_add_subpage()) == (allowed,) * 3, code
    image_policy = policy_registry.get_by_type(get_image_model())
    may_add = set(image_policy.collections_user_has_permission_for(user, "add"))
    assert {units["binzhou"].collection, units["zouping"].collection} <= may_add
    assert not may_add & {units["linyi"].collection, units["sheng"].collection}
    elsewhere = get_image_model().objects.create(
        title="临沂", file=get_test_image_file(), collection=units["linyi"].collection
    )
    assert not image_policy.user_has_permission_for_instance(user, "change", elsewhere)


def test_only_administrators_lock_pages(tree):
    """Locking a page is an administrator's right: the county's administrator may, its editor may not."""
    units, pages = tree
    page = pages["zouping"].specific
    assert page.permissions_for_user(editor(units["zouping"], "zp_admin", role="administrator")).can_lock()
    assert not page.permissions_for_user(editor(units["zouping"], "zp_editor")).can_lock()


def test_units_managed_by_is_the_subtree_of_the_managing_roles(tree):
    """Which units someone manages: the whole subtree under each unit where they are editor or administrator,
    every unit for superusers, none for visitors, plain members and secretaries."""
    units, _pages = tree
    city_editor = editor(units["binzhou"], "binzhou_editor")
    assert set(units_managed_by(city_editor).values_list("code", flat=True)) == {
        "binzhou",
        "zouping",
        "daixi",
        "daixi-1",
    }
    both = editor(units["zouping"], "two_hats", role="administrator")
    both.groups.add(org_unit_ensure_roles(unit=units["linyi"])[UnitRole.Role.EDITOR])
    assert set(units_managed_by(both).values_list("code", flat=True)) == {"zouping", "daixi", "daixi-1", "linyi"}
    boss = member_create(username="boss", password="pw-123456", is_superuser=True)
    assert units_managed_by(boss).count() == OrgUnit.objects.count()
    plain = member_create(username="dangyuan", password="pw-123456", org_unit=units["daixi-1"])
    secretary = editor(units["daixi-1"], "shuji", role="secretary")
    for nobody in (AnonymousUser(), plain, secretary):
        assert not units_managed_by(nobody).exists()


def test_a_member_sees_content_from_their_unit_and_those_above(tree):
    """A member's own unit and the units above it are where "this unit and below" content reaches them from;
    a sibling city is not among them, and a member without a unit has none."""
    units, _pages = tree
    member = member_create(username="dangyuan", password="pw-123456", org_unit=units["zouping"])
    assert set(unit_and_ancestors(member).values_list("code", flat=True)) == {"zouping", "binzhou", "sheng"}
    assert not unit_and_ancestors(member_create(username="visitor", password="pw-123456")).exists()
