"""A child item (episode, issue, article) is never more open than the series, title or issue holding it."""

import itertools

import pytest
from django.contrib.auth.models import AnonymousUser

from cms.models import OrgUnit
from cms.services import member_create, org_unit_create
from library.models import LibraryItem
from library.search_documents import indexed_items, item_document
from library.selectors import item_readable, items_page, items_visible_to
from library.services import library_item_save
from search.models import OutboxEntry
from search.selectors import audience_for
from tests.factories import NewspaperFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def units(unit_tree):
    """The province and two counties in different cities."""
    return unit_tree["shandong"], unit_tree["zouping"], unit_tree["yinan"]


def _tree(province):
    title = NewspaperFactory(role="series", title="灯塔日报", owning_unit=province)
    issue = NewspaperFactory(role="issue", title="第1期", parent=title, owning_unit=province)
    article = NewspaperFactory(role="article", title="头版文章", parent=issue, owning_unit=province)
    return title, issue, article


def test_closing_a_title_closes_its_issues_and_articles(units):
    """A title opened only to one county hides its (public) issues and articles from the public and from members of
    another county; members of that county see all three."""
    province, county, other = units
    title, issue, article = _tree(province)
    title.access, title.access_unit = "unit", county
    title.save()
    inside = member_create(username="in", password="pw-123456", org_unit=county)
    outside = member_create(username="out", password="pw-123456", org_unit=other)
    for user in (AnonymousUser(), outside):
        assert not items_visible_to(user).filter(pk__in=[title.pk, issue.pk, article.pk]).exists()
    assert set(items_visible_to(inside).values_list("pk", flat=True)) >= {title.pk, issue.pk, article.pk}


def test_unpublishing_an_issue_hides_its_articles_everywhere(units):
    """An unpublished issue's articles cannot be read and are not search documents."""
    province, *_ = units
    _title, issue, article = _tree(province)
    issue.is_published = False
    issue.save()
    assert not item_readable(user=AnonymousUser(), item=article)
    assert item_document(article) is None


def test_search_documents_take_the_most_closed_access_of_the_chain(units):
    """An article of a members-only title is indexed as members-only, whatever its own setting says."""
    province, *_ = units
    title, _issue, article = _tree(province)
    title.access = "members"
    title.save()
    assert item_document(article).access == "members"


def test_changing_a_parents_access_reindexes_its_children(units):
    """Saving a title with a new access records its issues and articles for search too."""
    province, *_ = units
    title, issue, article = _tree(province)
    OutboxEntry.objects.all().delete()
    title.access = "members"
    library_item_save(item=title, user=None)
    doc_ids = set(OutboxEntry.objects.values_list("doc_id", flat=True))
    assert {f"library.libraryitem:{pk}" for pk in (title.pk, issue.pk, article.pk)} <= doc_ids


def test_list_pages_need_no_parent_join(units, django_assert_max_num_queries):
    """Browse lists show top-level rows, whose visibility needs no parent: the page stays one query."""
    province, *_ = units
    _tree(province)
    with django_assert_max_num_queries(1):
        items, _cursor = items_page(user=AnonymousUser())
    assert [item.title for item in items] == ["灯塔日报"]


def test_search_shows_an_item_to_a_member_exactly_when_the_library_lets_them_open_it():
    """For every combination of openings along a title → issue → article chain (public, members, or opened to
    山东省, 济南市, 青岛市 or 历下区 below 济南市), search's audience rule applied to each item's document shows it to a
    member of each unit (and to a visitor) exactly when items_visible_to lets them open it. Openings to units that
    do not nest (济南市 inside 青岛市) open it to nobody, and the narrower of two nested units decides (an article
    opened to 山东省 in a periodical opened to 济南市 is not shown to 青岛市)."""
    province = org_unit_create(parent=None, name="山东省", code="sd", level=OrgUnit.Level.PROVINCE)
    jinan = org_unit_create(parent=province, name="济南市", code="jn", level=OrgUnit.Level.CITY)
    qingdao = org_unit_create(parent=province, name="青岛市", code="qd", level=OrgUnit.Level.CITY)
    lixia = org_unit_create(parent=jinan, name="历下区", code="lx", level=OrgUnit.Level.COUNTY)
    openings = [("public", None), ("members", None)] + [("unit", unit) for unit in (province, jinan, qingdao, lixia)]
    combos = list(itertools.product(openings, repeat=3))
    new = LibraryItem.objects.bulk_create
    fields = {"kind": "newspaper", "owning_unit": province}
    titles = new(LibraryItem(title=f"报{n}", role="series", **_opened(c[0]), **fields) for n, c in enumerate(combos))
    issues = new(
        LibraryItem(title=f"期{n}", role="issue", parent=titles[n], **_opened(c[1]), **fields)
        for n, c in enumerate(combos)
    )
    new(
        LibraryItem(title=f"文{n}", role="article", parent=issues[n], **_opened(c[2]), **fields)
        for n, c in enumerate(combos)
    )
    documents = {item.pk: item_document(item) for item in indexed_items()}
    readers = [AnonymousUser()] + [
        member_create(username=unit.code, password="pw-123456", org_unit=unit)
        for unit in (province, jinan, qingdao, lixia)
    ]
    for reader in readers:
        audience = audience_for(reader)
        found = {pk for pk, doc in documents.items() if doc and audience.allows(doc.access, doc.access_unit_id)}
        assert found == set(items_visible_to(reader).values_list("pk", flat=True)), reader
    article = LibraryItem.objects.get(title=f"文{combos.index((openings[0], openings[3], openings[2]))}")
    assert (documents[article.pk].access, documents[article.pk].access_unit_id) == ("unit", jinan.pk)


def _opened(opening) -> dict:
    access, unit = opening
    return {"access": access, "access_unit": unit}
