"""The apps' side of sessions and study hours in the JSON API: check-in with the scanned code (idempotent, refused
in Chinese when stale or forged), and the member's year of study hours."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from cms.api_auth import api_token_for
from cms.models import Member
from cms.services import member_create
from courses import services
from courses.sessions import codes

from .conftest import make_course

pytestmark = pytest.mark.django_db
API = "/api/v1/courses"


def _post(client, url, body, member):
    return client.post(
        url, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {api_token_for(member)}"
    )


@pytest.fixture
def session(index_page, bank, lessons, units):
    course = make_course(index_page, bank=bank, issue=41, premiere=timezone.now() - timedelta(hours=1))
    secretary = member_create(username="shuji", password="pw-123456", org_unit=units["daixi-1"])
    Member.objects.filter(pk=secretary.pk).update(party_role="secretary")
    secretary.refresh_from_db()
    return services.session_open(
        by=secretary, course=course, branch=units["daixi-1"], starts_at=timezone.now(), place="会议室", mode="tv"
    )


def test_an_app_checks_in_with_the_scanned_code_once(client, session, member):
    """The code as scanned checks the member in; the same again says created false; a stale code is 409 and a code
    naming no session is 404, each with a Chinese detail."""
    code = codes.code_for(session)
    first = _post(client, f"{API}/sessions/checkin", {"code": code}, member)
    assert first.status_code == 200 and first.json()["created"] is True and first.json()["branch"] == "第一党支部"
    assert _post(client, f"{API}/sessions/checkin", {"code": code}, member).json()["created"] is False
    stale = codes.code_for(session, now=timezone.now().timestamp() - 300)
    refused = _post(client, f"{API}/sessions/checkin", {"code": stale}, member)
    assert refused.status_code == 409 and "过期" in refused.json()["detail"]
    missing = _post(client, f"{API}/sessions/checkin", {"code": "99999.1:abc"}, member)
    assert missing.status_code == 404 and "签到码无效" in missing.json()["detail"]


def test_the_hours_endpoint_gives_the_members_year(client, session, member):
    """Attended one session: 2 学时 of 32, not met, no certificate yet; anonymous callers are refused."""
    services.session_check_in(session=session, member=member, token=codes.code_for(session))
    response = client.get(f"{API}/me/hours", HTTP_AUTHORIZATION=f"Bearer {api_token_for(member)}")
    body = response.json()
    assert (body["sessions"], body["session_hours"], body["required"], body["met"]) == (1, 2.0, 32.0, False)
    assert body["certificate_code"] == ""
    assert client.get(f"{API}/me/hours").status_code == 401
