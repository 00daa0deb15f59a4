"""The shared factories and fixtures (tests/factories.py, tests/conftest.py) build what they promise."""

import pytest

from cms.models import OrgUnit
from library.models import LibraryItem
from tests.factories import (
    PASSWORD,
    CaptionFactory,
    EbookFactory,
    EditorFactory,
    LibraryItemFactory,
    LighthouseDocumentFactory,
    MediaAssetFactory,
    MemberFactory,
    NewspaperFactory,
    OrgUnitFactory,
    unit_tree,
)

pytestmark = pytest.mark.django_db


def test_units_come_from_the_service_with_a_collection_and_a_code_is_made_once():
    """Each unit has its collection, like the site's; asking for a code again gives the same unit."""
    province = OrgUnitFactory(name="山东省", code="shandong")
    city = OrgUnitFactory(parent=province, level=OrgUnit.Level.CITY)
    assert province.collection and city.collection and city.get_parent() == province
    assert OrgUnitFactory(code="shandong") == province
    units = unit_tree(local=True)
    assert units["shandong"] == province
    assert [units[code].level for code in ("binzhou", "zouping", "zouping-daixi", "zouping-daixi-1")] == [
        "city",
        "county",
        "township",
        "branch",
    ]
    assert units["yinan"].get_parent() == units["linyi"]


def test_editors_have_their_units_rights_and_members_sign_in(editors, unit_tree):
    """The demo's editors edit library items within their unit; a member has a password and no admin."""
    zouping = editors["zouping_editor"]
    assert zouping.org_unit == unit_tree["zouping"] and zouping.has_perm("library.change_libraryitem")
    assert set(editors) == {"sheng_editor", "binzhou_editor", "zouping_editor", "yinan_editor"}
    member = MemberFactory(org_unit=unit_tree["yinan"])
    assert member.check_password(PASSWORD) and not member.has_perm("wagtailadmin.access_admin")
    assert EditorFactory().org_unit.level == "province"


def test_items_of_every_kind_and_role_with_parents_access_and_tags(unit):
    """A child role gets a parent of its kind and unit (an article an issue in a title); unit access opens the
    item to its owning unit; tags are added."""
    article = NewspaperFactory(owning_unit=unit, role="article", tags=["党史"])
    issue = article.parent
    assert (issue.role, issue.kind, issue.owning_unit) == ("issue", "newspaper", unit)
    assert (issue.parent.role, issue.parent.parent) == ("series", None)
    assert list(article.tags.names()) == ["党史"]
    closed = EbookFactory(owning_unit=unit, access="unit")
    assert closed.access_unit == unit and closed.kind == "ebook"
    for kind in LibraryItem.Kind.values:
        for role in LibraryItem.Role.values:
            item = LibraryItemFactory(kind=kind, role=role)
            assert (
                item.is_published and item.access == "public" and (item.parent is None) == (role in ("item", "series"))
            )


def test_documents_assets_and_captions():
    """A document stores its bytes under its name; an asset names its master; a caption stores its text."""
    document = LighthouseDocumentFactory(filename="notes.txt", data="不忘初心".encode())
    assert document.title == "notes.txt" and document.file.read().decode() == "不忘初心"
    assert MediaAssetFactory(kind="audio").file.name.endswith(".m4a")
    caption = CaptionFactory(text="1\n00:00:00,000 --> 00:00:01,000\n灯塔\n")
    assert caption.asset.kind == "video" and "灯塔" in caption.file.read().decode()
