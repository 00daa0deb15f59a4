"""Proof of play: a device reports plays in batches (idempotent by the play's id), a start its clock cannot have
seen is clamped and flagged, and the plays roll up into a unit subtree's delivery rate against the resolver's
schedule."""

import uuid
from datetime import date, datetime, timedelta
from uuid import uuid4

import pytest
from django.test import Client
from django.utils import timezone

from screens.models import SCHEDULE_TIME_ZONE, PlayRecord, Priority
from screens.plays.partitions import partition_sql
from screens.plays.recording import ReportedPlay
from screens.selectors import delivery_rate
from screens.services import plays_record

from .conftest import channel, paired_device, rule

pytestmark = pytest.mark.django_db
PLAYS = "/api/v1/screens/device/plays"


def _play(started_at: datetime, seconds: float = 10.0, **fields) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "channel": 1,
        "entry": 2,
        "asset": "rendition:3",
        "seconds": seconds,
        "started_at": started_at.isoformat(),
        "manifest_version": "v1",
        **fields,
    }


@pytest.fixture
def lobby(tree):
    units, editors = tree["units"], tree["editors"]
    notices = channel(units["zouping"], name="通知", entries=["今晚停电检修"])
    rule(units["zouping"], notices, Priority.OWN)
    device, credential = paired_device(units["zouping"], editors["zouping_editor"])
    return {"device": device, "credential": credential, **tree}


def test_a_batch_is_stored_once_even_when_sent_twice(lobby):
    now = timezone.now()
    batch = {"plays": [_play(now - timedelta(seconds=20)), _play(now - timedelta(seconds=10))]}
    auth = {"HTTP_AUTHORIZATION": f"Bearer {lobby['credential']}"}
    first = Client().post(PLAYS, batch, content_type="application/json", **auth)
    again = Client().post(PLAYS, batch, content_type="application/json", **auth)
    assert first.json() == {"stored": 2, "duplicates": 0}
    assert again.json() == {"stored": 0, "duplicates": 2}
    rows = PlayRecord.objects.filter(device_id=lobby["device"].pk)
    assert rows.count() == 2 and {row.unit_id for row in rows} == {lobby["device"].unit_id}
    assert not any(row.clock_suspect for row in rows)


def test_a_start_the_server_cannot_believe_is_clamped_and_flagged(lobby):
    now = timezone.now()
    batch = {"plays": [_play(now + timedelta(days=400)), _play(now - timedelta(days=30))]}
    answer = Client().post(
        PLAYS, batch, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {lobby['credential']}"
    )
    assert answer.status_code == 200
    rows = list(PlayRecord.objects.all())
    assert all(row.clock_suspect and abs((row.started_at - row.received_at).total_seconds()) < 1 for row in rows)


def test_plays_need_a_device_credential(lobby):
    answer = Client().post(PLAYS, {"plays": []}, content_type="application/json")
    assert answer.status_code == 401 and "凭证" in answer.json()["detail"]


def test_delivery_rate_of_a_subtree_is_played_over_scheduled(lobby):
    """An all-day rule on one screen schedules 86,400 s; 21,600 s reported played is 25 %, for the county and for
    the province above it; a unit beside it sees neither."""
    units = lobby["units"]
    day = date(2026, 12, 7)
    noon = datetime(2026, 12, 7, 12, tzinfo=SCHEDULE_TIME_ZONE)
    PlayRecord.objects.all().delete()
    lobby["device"].__class__.objects.filter(pk=lobby["device"].pk).update(paired_at=noon - timedelta(days=1))
    for hour in range(6):
        PlayRecord.objects.create(
            id=uuid.uuid4(),
            device_id=lobby["device"].pk,
            unit_id=lobby["device"].unit_id,
            asset="",
            seconds=3600,
            started_at=noon + timedelta(hours=hour),
            received_at=noon,
            manifest_version="",
        )
    for unit in (units["zouping"], units["shandong"]):
        delivery = delivery_rate(unit=unit, day=day)
        assert (delivery.screens, delivery.scheduled_seconds, delivery.played_seconds) == (1, 86400, 21600)
        assert delivery.rate == 0.25
    other = units["yinan"]
    assert delivery_rate(unit=other, day=day).played_seconds == 0


def test_day_partitions_run_beijing_midnight_to_midnight():
    sql = partition_sql(date(2026, 12, 7))
    assert "screens_playrecord_20261207 PARTITION OF screens_playrecord" in sql
    assert "FROM ('2026-12-07T00:00:00+08:00') TO ('2026-12-08T00:00:00+08:00')" in sql


def test_days_older_than_the_retention_are_dropped_whole_and_newer_ones_kept(settings):
    """Proof of play is kept SCREENS_PLAY_RETENTION_DAYS: older days go (on PostgreSQL their partitions are dropped,
    on SQLite their rows deleted), the day at the limit and every newer one stay, and the DEFAULT partition too."""
    from django.db import connection

    from screens.plays.partitions import partition_name, partitions_drop_old

    settings.SCREENS_PLAY_RETENTION_DAYS = 30
    today = date(2026, 12, 7)
    old_day, kept_day = today - timedelta(days=31), today - timedelta(days=30)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(partition_sql(old_day))
            cursor.execute(partition_sql(kept_day))

    def played(day: date) -> PlayRecord:
        start = datetime.combine(day, datetime.min.time(), SCHEDULE_TIME_ZONE) + timedelta(hours=9)
        return PlayRecord.objects.create(
            id=uuid.uuid4(), device_id=1, unit_id=1, started_at=start, seconds=10, received_at=start
        )

    old, kept = played(old_day), played(kept_day)
    dropped = partitions_drop_old(today=today)
    assert set(PlayRecord.objects.values_list("id", flat=True)) == {kept.id}
    assert old.id != kept.id
    if connection.vendor == "postgresql":
        assert dropped == [partition_name(old_day)]
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_class WHERE relname = %s", ["screens_playrecord_default"])
            assert cursor.fetchone() == (1,)
    else:
        assert dropped == []


def test_one_screen_over_reporting_cannot_hide_the_silence_of_the_others(tree):
    """Of 邹平's two lobby screens (both scheduled all day) one is dark and reports nothing; the other (or
    anything holding its credential) POSTs one play of 86,400 s, or 500 overlapping plays per batch. ``delivery_rate``
    sums the subtree's seconds and caps only the *total* at the subtree's scheduled time, so 邹平 shows 100 % although
    half its screen time played. Expected: each screen's played time is capped at its own schedule (overlapping plays
    of one screen counted once), so the rate is at most 50 %."""
    units, editors = tree["units"], tree["editors"]
    lobby = channel(units["zouping"], name="邹平大厅", screen_type="landscape", entries=["欢迎"])
    rule(units["zouping"], lobby, Priority.OWN)
    talker, _credential = paired_device(units["zouping"], editors["zouping_editor"], name="一号屏")
    paired_device(units["zouping"], editors["zouping_editor"], name="二号屏")
    now = timezone.now()
    day = now.astimezone(SCHEDULE_TIME_ZONE).date()
    start_of_day = datetime.combine(day, datetime.min.time(), SCHEDULE_TIME_ZONE)
    plays = [
        ReportedPlay(
            id=uuid4(),
            channel=lobby.pk,
            entry=None,
            asset="",
            started_at=start_of_day,
            seconds=86400,
            manifest_version="",
        )
        for _twice in range(2)  # two overlapping whole-day plays: more than both screens' schedule together
    ]
    plays_record(device=talker, plays=plays, now=now)
    delivery = delivery_rate(unit=units["zouping"], day=day, moment=now)
    assert delivery.screens == 2 and delivery.scheduled_seconds > 0
    assert delivery.rate <= 0.5
