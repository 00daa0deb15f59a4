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
