"""What tests build, in one place: organisation units (and a small tree with the demo's codes), members and editors
with their unit's roles, library items of every kind and role, documents, media assets and captions.

Call a factory with the fields the test is about; the rest get working defaults::

    LibraryItemFactory(owning_unit=unit, kind="video", access="members")
    LibraryItemFactory(role="episode")  # and its series, of the same kind and unit
    EditorFactory(org_unit=units["zouping"], username="zouping_editor")

Units and members are made through cms.services, as the site makes them: each unit gets its collection, each editor
their unit's role groups with the roles' permissions. Items, documents, assets and captions are plain rows
(``objects.create``): no item service, no media pipeline, no events. A test about those calls them itself.

The fixtures built on these (``unit``, ``unit_tree``, ``editors``, ``library_page``) are in tests/conftest.py.
"""

import factory
from django.core.files.base import ContentFile
from factory.django import DjangoModelFactory
from wagtail.models import Site

from cms.models import LighthouseDocument, Member, OrgUnit
from cms.services import member_create, org_unit_create
from library.models import LibraryItem, LibraryPage
from media_pipeline.models import Caption, MediaAsset

PASSWORD = "pw-123456"
Level = OrgUnit.Level

# --- Organisation -------------------------------------------------------------------------------------------------


class OrgUnitFactory(factory.Factory):
    """A unit, made by the service (so it has its collection); a province unless told otherwise. An existing code
    gives back that unit, as the service does."""

    class Meta:
        model = OrgUnit

    name = factory.Sequence(lambda n: f"单位{n}")
    code = factory.Sequence(lambda n: f"unit-{n}")
    level = Level.PROVINCE
    parent = None

    @classmethod
    def _create(cls, model_class, *, parent, name, code, level):
        return org_unit_create(parent=parent, name=name, code=code, level=level)


def province() -> OrgUnit:
    """山东省 (code ``shandong``) on its own: the unit most tests' items belong to."""
    return OrgUnitFactory(name="山东省", code="shandong", level=Level.PROVINCE)


# (name, code, level, parent code): a part of the demo's tree, with its codes (cms/demo/data.py)
TREE = [
    ("滨州市", "binzhou", Level.CITY, "shandong"),
    ("邹平市", "zouping", Level.COUNTY, "binzhou"),
    ("临沂市", "linyi", Level.CITY, "shandong"),
    ("沂南县", "yinan", Level.COUNTY, "linyi"),
]
LOCAL_UNITS = [
    ("黛溪街道", "zouping-daixi", Level.TOWNSHIP, "zouping"),
    ("黛溪街道第一党支部", "zouping-daixi-1", Level.BRANCH, "zouping-daixi"),
    ("马牧池乡", "yinan-mamuchi", Level.TOWNSHIP, "yinan"),
    ("常山庄村党支部", "yinan-mamuchi-changshanzhuang", Level.BRANCH, "yinan-mamuchi"),
]


def unit_tree(*, local: bool = False) -> dict[str, OrgUnit]:
    """山东省 → 滨州市 → 邹平市 and 山东省 → 临沂市 → 沂南县, by code, as in the demo; ``local`` adds a township and a
    branch under each county (every level of the tree)."""
    units = {"shandong": province()}
    for name, code, level, parent in TREE + (LOCAL_UNITS if local else []):
        units[code] = OrgUnitFactory(name=name, code=code, level=level, parent=units[parent])
    return units


# --- Members ------------------------------------------------------------------------------------------------------


class MemberFactory(factory.Factory):
    """A member (by the service: a unit's roles put them in its role groups), password ``PASSWORD``."""

    class Meta:
        model = Member

    username = factory.Sequence(lambda n: f"member{n}")
    password = PASSWORD
    real_name = ""
    phone = None
    org_unit = None
    roles = ()
    is_superuser = False

    @classmethod
    def _create(cls, model_class, **fields):
        return member_create(**fields)


class EditorFactory(MemberFactory):
    """An editor of a unit (a new province unless given): the unit's editor group, its admin and library rights."""

    username = factory.Sequence(lambda n: f"editor{n}")
    org_unit = factory.SubFactory(OrgUnitFactory)
    roles = ("editor",)


def editor(unit: OrgUnit, username: str, role: str = "editor") -> Member:
    """A member of ``unit`` with one role (``editor``, ``administrator``, ``secretary``), named ``username``."""
    return EditorFactory(org_unit=unit, username=username, real_name=username, roles=(role,))


# The demo's editors (cms/demo/data.py EDITORS) of the units in unit_tree: (username, real name, unit code)
DEMO_EDITORS = [
    ("sheng_editor", "省级编辑", "shandong"),
    ("binzhou_editor", "滨州市编辑", "binzhou"),
    ("zouping_editor", "邹平市编辑", "zouping"),
    ("yinan_editor", "沂南县编辑", "yinan"),
]


def demo_editors(units: dict[str, OrgUnit]) -> dict[str, Member]:
    """The demo's province, city and county editors, by username, in a tree from unit_tree."""
    return {
        username: EditorFactory(username=username, real_name=real_name, org_unit=units[code])
        for username, real_name, code in DEMO_EDITORS
    }


# --- Site ---------------------------------------------------------------------------------------------------------


def library_page() -> LibraryPage:
    """The library's page (数字图书馆, /library/) under the default site's root: item pages have URLs."""
    page = LibraryPage.objects.first()
    if page is None:
        root = Site.objects.get(is_default_site=True).root_page
        page = root.add_child(instance=LibraryPage(title="数字图书馆", slug="library"))
    return page


# --- Files --------------------------------------------------------------------------------------------------------


class LighthouseDocumentFactory(DjangoModelFactory):
    """A document with a file: ``data`` (bytes) stored as ``filename``; a short text file unless told."""

    class Meta:
        model = LighthouseDocument

    class Params:
        filename = factory.Sequence(lambda n: f"document{n}.txt")
        data = "灯塔照亮前路".encode()

    title = factory.SelfAttribute("filename")
    file = factory.LazyAttribute(lambda o: ContentFile(o.data, name=o.filename))


class MediaAssetFactory(DjangoModelFactory):
    """A media asset's row, its master named but not stored (``file`` a path); state as the model's default
    (pending) unless told: nothing is probed or transcoded."""

    class Meta:
        model = MediaAsset

    kind = MediaAsset.Kind.VIDEO
    file = factory.LazyAttributeSequence(
        lambda o, n: f"uploads/2026/01/asset{n}.{'m4a' if o.kind == MediaAsset.Kind.AUDIO else 'mp4'}"
    )


SRT = "1\n00:00:01,000 --> 00:00:03,000\n灯塔照亮前路\n"


class CaptionFactory(DjangoModelFactory):
    """A caption row and its file (``text``, SRT) on an asset; no captions_changed event (caption_attach sends it)."""

    class Meta:
        model = Caption

    class Params:
        text = SRT
        filename = "zh.srt"

    asset = factory.SubFactory(MediaAssetFactory)
    file = factory.LazyAttribute(lambda o: ContentFile(o.text.encode(), name=o.filename))


# --- Library items ------------------------------------------------------------------------------------------------

# A child's parent's role: an episode is in a series, an issue in a periodical's or newspaper's title (series), an
# article in an issue.
PARENT_ROLE = {
    LibraryItem.Role.EPISODE: LibraryItem.Role.SERIES,
    LibraryItem.Role.ISSUE: LibraryItem.Role.SERIES,
    LibraryItem.Role.ARTICLE: LibraryItem.Role.ISSUE,
}


class LibraryItemFactory(DjangoModelFactory):
    """A published, public library item (an article unless told) of a new province unless ``owning_unit`` is given.

    A child role (episode, issue, article) without a ``parent`` gets one of the same kind and unit (an article's
    issue gets its title too); ``access="unit"`` without an ``access_unit`` opens it to the owning unit; ``tags``
    (a list of names) are added after the row is saved. Other fields are the model's defaults."""

    class Meta:
        model = LibraryItem
        skip_postgeneration_save = True

    kind = LibraryItem.Kind.ARTICLE
    role = LibraryItem.Role.ITEM
    title = factory.Sequence(lambda n: f"条目{n}")
    owning_unit = factory.SubFactory(OrgUnitFactory)
    access = LibraryItem.Access.PUBLIC
    access_unit = factory.Maybe(
        factory.LazyAttribute(lambda o: o.access == LibraryItem.Access.UNIT),
        yes_declaration=factory.SelfAttribute("owning_unit"),
        no_declaration=None,
    )
    parent = factory.Maybe(
        factory.LazyAttribute(lambda o: o.role in PARENT_ROLE),
        yes_declaration=factory.SubFactory(
            "tests.factories.LibraryItemFactory",
            kind=factory.SelfAttribute("..kind"),
            role=factory.LazyAttribute(lambda o: PARENT_ROLE[o.factory_parent.role]),
            owning_unit=factory.SelfAttribute("..owning_unit"),
        ),
        no_declaration=None,
    )

    @factory.post_generation
    def tags(item, create, names, **kwargs):
        if create and names:
            item.tags.add(*names)


class VideoFactory(LibraryItemFactory):
    kind = LibraryItem.Kind.VIDEO


class AudioFactory(LibraryItemFactory):
    kind = LibraryItem.Kind.AUDIO


class EbookFactory(LibraryItemFactory):
    kind = LibraryItem.Kind.EBOOK


class PeriodicalFactory(LibraryItemFactory):
    kind = LibraryItem.Kind.PERIODICAL


class NewspaperFactory(LibraryItemFactory):
    kind = LibraryItem.Kind.NEWSPAPER
