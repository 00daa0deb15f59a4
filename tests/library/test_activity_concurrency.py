"""Two devices beating at the same moment on PostgreSQL: the member's row lock makes them share one clock."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections

from library import activity
from library.models import ItemProgress
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.services]

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def setup():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (run `make test`)")
    unit = factories.province()
    factories.library_page()
    member = factories.MemberFactory(username="wang", org_unit=unit)
    items = [factories.VideoFactory(title=f"微课{n}", owning_unit=unit) for n in range(2)]
    return member, items


def test_simultaneous_beats_from_two_devices_are_not_double_counted(setup):
    """Ten rounds of two devices beating at the same instant (20 s of real time each round) credit about 20 s per
    round in all, not 40: the second beat of a round waits for the first and sees the time already credited."""
    member, items = setup
    activity.progress_heartbeat(member=member, item=items[0], position=0, active_seconds=0, now=T0)
    errors = []

    def beat(item, now):
        try:
            activity.progress_heartbeat(member=member, item=item, position=1, active_seconds=20, now=now)
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    for round_number in range(1, 11):
        now = T0 + timedelta(seconds=20 * round_number)
        threads = [threading.Thread(target=beat, args=(item, now)) for item in items]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    credited = sum(ItemProgress.objects.filter(member=member).values_list("study_seconds", flat=True))
    assert 200 <= credited <= 200 + activity.GRACE_SECONDS * 2
