import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from library.models import LibraryItem
from search.selectors import search_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(embedded, make_item, drain):
    make_item("党史公开课", access=LibraryItem.Access.PUBLIC)
    make_item("党史内部学习资料", access=LibraryItem.Access.MEMBERS)
    drain()


def _titles(user, **kwargs):
    return sorted(hit.title for hit in search_items(query="党史", user=user, **kwargs).hits)


def test_anonymous_sees_only_public(items):
    """Anonymous visitors never see members-only items (nor count them)."""
    results = search_items(query="党史", user=AnonymousUser())
    assert [hit.title for hit in results.hits] == ["党史公开课"] and results.total == 1


def test_member_sees_public_and_members(items):
    """A signed-in member sees public and members-only items."""
    member = get_user_model().objects.create_user(username="member", password="x")
    assert _titles(member) == ["党史公开课", "党史内部学习资料"]


def test_inactive_user_sees_only_public(items):
    """A deactivated account is treated as anonymous."""
    member = get_user_model().objects.create_user(username="gone", password="x", is_active=False)
    assert _titles(member) == ["党史公开课"]


def test_kind_filter(embedded, make_item, drain):
    """The kind filter narrows results to one type."""
    make_item("党史音频", kind=LibraryItem.Kind.AUDIO)
    make_item("党史视频", kind=LibraryItem.Kind.VIDEO)
    drain()
    assert _titles(None, kind="audio") == ["党史音频"]


@pytest.fixture
def tree(unit):
    """山东省 → 济南市 → 历下区, and 青岛市 beside 济南市."""
    from cms.services import org_unit_create

    city = org_unit_create(parent=unit, name="济南市", code="jn", level="city")
    county = org_unit_create(parent=city, name="历下区", code="lx", level="county")
    other = org_unit_create(parent=unit, name="青岛市", code="qd", level="city")
    return {"province": unit, "city": city, "county": county, "other": other}


def test_audience_of_a_member_lists_their_unit_and_every_unit_above(tree):
    """A member of 历下区 may see what 历下区, 济南市 or 山东省 opened "to this unit and below"; not 青岛市's."""
    from cms.services import member_create
    from search.selectors import audience_for

    member = member_create(username="lx", password="pw-123456", real_name="lx", org_unit=tree["county"], roles=())
    audience = audience_for(member)
    assert set(audience.unit_ids) == {tree["county"].pk, tree["city"].pk, tree["province"].pk}
    assert audience.allows("unit", tree["city"].pk)
    assert not audience.allows("unit", tree["other"].pk)
    assert audience.levels == ("public", "members") and not audience.all_units


def test_audience_of_anonymous_and_superuser():
    """Anonymous visitors see public only; superusers see every unit's documents."""
    from search.selectors import audience_for

    assert audience_for(AnonymousUser()).levels == ("public",)
    assert not audience_for(None).allows("members", None)
    admin = get_user_model()(username="root", is_superuser=True, is_active=True)
    assert audience_for(admin).allows("unit", 12345)


def test_unit_items_found_only_by_members_of_that_unit_or_below(embedded, tree, make_item, drain):
    """An item opened to 济南市 and below is found by a 历下区 member, never by 青岛市 or anonymous visitors."""
    from cms.services import member_create

    make_item("党史济南读本", access=LibraryItem.Access.UNIT, access_unit=tree["city"])
    drain()
    inside = member_create(username="in", password="pw-123456", real_name="in", org_unit=tree["county"], roles=())
    outside = member_create(username="out", password="pw-123456", real_name="out", org_unit=tree["other"], roles=())
    assert _titles(inside) == ["党史济南读本"]
    assert _titles(outside) == []
    assert _titles(AnonymousUser()) == []
