"""The branch secretary's way back in for a member who forgot their password (the sign-in page's 找支部书记重设):
the secretary sees their own branch's members and sets a temporary password shown to them once; nobody else can."""

import pytest
from django.contrib.auth import authenticate

from cms.models import Member
from cms.services import member_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def branch_people(db):
    """A branch secretary (by the roster's party role), a member of that branch and one of another branch."""
    from tests import factories

    units = factories.unit_tree(local=True)
    secretary = member_create(username="shuji", password="pw-123456789", org_unit=units["zouping-daixi-1"])
    Member.objects.filter(pk=secretary.pk).update(party_role="secretary")
    elder = member_create(
        username="laowang", password="forgotten-one", real_name="王大爷", org_unit=units["zouping-daixi-1"]
    )
    stranger = member_create(username="other", password="pw-123456789", org_unit=units["yinan-mamuchi-changshanzhuang"])
    return Member.objects.get(pk=secretary.pk), elder, stranger


def test_the_secretary_resets_a_members_password_once(client, branch_people, rf):
    """The list shows the branch's members (phones masked); 重设密码 shows a temporary password once, which then
    signs the member in; the old one no longer does."""
    secretary, elder, _stranger = branch_people
    client.force_login(secretary)
    page = client.get("/branch/members/").content.decode()
    assert "王大爷" in page and "重设密码" in page
    shown = client.post("/branch/members/", {"member": elder.pk}, follow=True).content.decode()
    password = shown.split("新的临时密码是：")[1][:10]
    request = rf.post("/login/")
    assert authenticate(request, username="laowang", password=password) is not None
    assert authenticate(request, username="laowang", password="forgotten-one") is None
    assert "新的临时密码是" not in client.get("/branch/members/").content.decode()


def test_nobody_else_resets_and_strangers_are_not_listed(client, branch_people):
    """A member of another branch is not listed and cannot be named in the POST; a plain member gets a 404."""
    secretary, elder, stranger = branch_people
    client.force_login(secretary)
    assert "other" not in client.get("/branch/members/").content.decode()
    assert client.post("/branch/members/", {"member": stranger.pk}).status_code == 404
    client.force_login(elder)
    assert client.get("/branch/members/").status_code == 404
    assert client.post("/branch/members/", {"member": secretary.pk}).status_code == 404
