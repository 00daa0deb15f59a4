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
    return {"device": device, "credential": credential, "channel": notices, **tree}


def test_a_batch_is_stored_once_even_when_sent_twice(lobby):
    now = timezone.now()
    batch = {"plays": [_play(now - timedelta(seconds=20)), _play(now - timedelta(seconds=10))]}
    auth = {"HTTP_AUTHORIZATION": f"Bearer {lobby['credential']}"}
    first = Client().post(PLAYS, batch, content_type="application/json", **auth)
    again = Client().post(PLAYS, batch, content_type="application/json", **auth)
    assert first.json() == {"stored": 2, "duplicates": 0, "refused": []}
    assert again.json() == {"stored": 0, "duplicates": 2, "refused": []}
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


# --- Attacks on the plays API (issue 18) ----------------------------------------------------------------------------


def _client() -> Client:
    return Client(raise_request_exception=False)


def _bearer(credential: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {credential}"}


@pytest.fixture
def device(tree):
    made, credential = paired_device(tree["units"]["zouping"], tree["editors"]["zouping_editor"])
    return made, credential


def _one_play(**fields) -> dict:
    play = {
        "id": "6f1c1f1e-4c1e-4f1e-9c1e-1f1e1f1e1f1e",
        "started_at": "2026-12-07T10:00:00+08:00",
        "seconds": 5,
    }
    play.update(fields)
    return {"plays": [play]}


def test_plays_with_a_naive_started_at_are_a_clear_400_not_a_500(device):
    """Attack: a play whose ``started_at`` has no time zone. ``record_of`` compares it with an aware now ->
    TypeError -> 500 (and the player retries the batch for ever). Expected: 4xx with a Chinese detail."""
    _made, credential = device
    answer = _client().post(
        PLAYS, _one_play(started_at="2026-12-07T10:00:00"), content_type="application/json", **_bearer(credential)
    )
    assert 400 <= answer.status_code < 500
    assert PlayRecord.objects.count() == 0


def test_a_play_with_a_channel_id_beyond_32_bits_is_refused_cleanly(device):
    """Attack: a play naming ``channel`` = 2**40 (PlayIn.channel is an unbounded int, PlayRecord.channel_id an
    IntegerField). PostgreSQL: integer out of range -> 500 and the whole batch is lost at each retry. Expected: 4xx
    (or the id dropped), no 500."""
    _made, credential = device
    answer = _client().post(PLAYS, _one_play(channel=2**40), content_type="application/json", **_bearer(credential))
    assert answer.status_code != 500


def test_a_play_carrying_a_nul_byte_is_refused_without_losing_the_batch_for_ever(device):
    """Attack: one play of a batch with ``"asset": "video:1\\u0000"``. On PostgreSQL the bulk insert raises ValueError
    -> 500; the player keeps the batch and resends it for ever, so every good play queued with it is never stored.
    Expected: a 4xx naming the bad field (or the NUL dropped), never a 500."""
    _made, credential = device
    answer = _client().post(
        PLAYS, _one_play(asset="video:1\u0000"), content_type="application/json", **_bearer(credential)
    )
    assert answer.status_code != 500


def test_a_play_of_a_channel_never_sent_to_the_screen_is_not_stored_as_that_channels_play(tree):
    """Attack: a 邹平 screen reports plays naming 沂南's channel (or channel -1, entry -5). ``record_of`` stores any
    integer as ``channel_id``/``entry_id``, so per-channel proof of play (who aired 沂南's programme, and where) can be
    forged by any screen of another unit. Expected: a channel/entry not in the screen's manifest is refused (4xx) or
    stored without it."""
    units, editors = tree["units"], tree["editors"]
    foreign = channel(units["yinan"], name="沂南自办", entries=["沂南通知"])
    _zouping_screen, credential = paired_device(units["zouping"], editors["zouping_editor"])
    _client().post(PLAYS, _one_play(channel=foreign.pk), content_type="application/json", **_bearer(credential))
    assert not PlayRecord.objects.filter(channel_id=foreign.pk).exists()


def test_one_bad_play_of_a_batch_is_refused_and_the_good_ones_are_stored(lobby):
    """A batch with one play the server refuses (a NUL, a start without a time zone): the good plays are stored, the
    answer is a 422 listing the refused one (index, id, Chinese detail), so the player may drop the batch without
    losing a play and the bad one never blocks its queue. A channel the screen was sent keeps its id."""
    now = timezone.now()
    good = _play(now - timedelta(minutes=1), channel=lobby["channel"].pk, entry=None)
    nul = _play(now, asset="video:1\u0000")
    naive = {**_play(now), "started_at": "2026-12-07T10:00:00"}
    answer = _client().post(
        PLAYS, {"plays": [good, nul, naive]}, content_type="application/json", **_bearer(lobby["credential"])
    )
    assert answer.status_code == 422
    body = answer.json()
    assert body["stored"] == 1 and [play["index"] for play in body["refused"]] == [1, 2]
    assert [play["id"] for play in body["refused"]] == [nul["id"], naive["id"]]
    assert "asset" in body["refused"][0]["detail"] and "started_at" in body["refused"][1]["detail"]
    assert list(PlayRecord.objects.values_list("id", "channel_id")) == [(uuid.UUID(good["id"]), lobby["channel"].pk)]


def test_a_play_of_another_units_channel_is_stored_without_the_channel(tree):
    """The forged channel and entry are dropped, not the play: the screen's air time still counts."""
    units, editors = tree["units"], tree["editors"]
    foreign = channel(units["yinan"], name="沂南自办", entries=["沂南通知"])
    _screen, credential = paired_device(units["zouping"], editors["zouping_editor"])
    entry = foreign.entries.first()
    answer = _client().post(
        PLAYS,
        {"plays": [_play(timezone.now(), channel=foreign.pk, entry=entry.pk)]},
        content_type="application/json",
        **_bearer(credential),
    )
    assert answer.status_code == 200 and answer.json()["stored"] == 1
    assert list(PlayRecord.objects.values_list("channel_id", "entry_id")) == [(None, None)]
