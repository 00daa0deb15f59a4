"""Proof of play on PostgreSQL: ``screens_playrecord`` is partitioned by day (Beijing days) on ``started_at``.

The parent table and a DEFAULT partition are made by migration 0003; ``partitions_ensure`` creates the day
partitions from ``DAYS_BEHIND`` days ago to ``DAYS_AHEAD`` days ahead (the plays service calls it once a day per
process before it writes, so no scheduler is needed). Plays are clamped to that range on arrival
(``screens.plays.recording``), so a row never lands in the default partition of a day that gets its own partition
later (PostgreSQL refuses to attach a range the default partition already holds rows of). Days older than
``SCREENS_PLAY_RETENTION_DAYS`` are dropped whole (``partitions_drop_old``: ``DROP TABLE screens_playrecord_YYYYMMDD``,
no row-by-row delete, no table bloat), by the same once-a-day call: nothing else deletes a play. On SQLite it is a
plain table: there old rows are deleted by the same call.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection

from ..models import SCHEDULE_TIME_ZONE

TABLE = "screens_playrecord"
DAYS_BEHIND = 8
DAYS_AHEAD = 3

CREATE_PARENT = f"""
CREATE TABLE {TABLE} (
    id uuid NOT NULL,
    device_id bigint NOT NULL,
    unit_id bigint NOT NULL,
    channel_id integer NULL,
    entry_id integer NULL,
    asset varchar(200) NOT NULL,
    started_at timestamp with time zone NOT NULL,
    seconds double precision NOT NULL,
    manifest_version varchar(64) NOT NULL,
    received_at timestamp with time zone NOT NULL,
    clock_suspect boolean NOT NULL,
    PRIMARY KEY (id, started_at)
) PARTITION BY RANGE (started_at);
CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT;
CREATE INDEX screens_play_unit_day ON {TABLE} (unit_id, started_at);
"""


def partition_name(day: date) -> str:
    return f"{TABLE}_{day:%Y%m%d}"


def partition_sql(day: date) -> str:
    """The statement creating ``day``'s partition: Beijing midnight to midnight."""
    start = datetime.combine(day, datetime.min.time(), SCHEDULE_TIME_ZONE)
    end = start + timedelta(days=1)
    return (
        f"CREATE TABLE IF NOT EXISTS {partition_name(day)} PARTITION OF {TABLE}"
        f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    )


def partitions_ensure(*, today: date, using=None) -> list[str]:
    """Create the missing day partitions around ``today`` (PostgreSQL only); returns the names now present."""
    conn = using or connection
    if conn.vendor != "postgresql":
        return []
    days = [today + timedelta(days=offset) for offset in range(-DAYS_BEHIND, DAYS_AHEAD + 1)]
    with conn.cursor() as cursor:
        for day in days:
            cursor.execute(partition_sql(day))
    return [partition_name(day) for day in days]


def partitions_drop_old(*, today: date, using=None) -> list[str]:
    """Drop the day partitions (PostgreSQL) or delete the rows (SQLite) older than ``SCREENS_PLAY_RETENTION_DAYS``
    before ``today``; returns the dropped partitions' names (SQLite: none). Delivery rates of those days go too."""
    conn = using or connection
    # Never inside the days partitions_ensure makes (it would make them again, empty, the next day).
    keep_from = today - timedelta(days=max(settings.SCREENS_PLAY_RETENTION_DAYS, DAYS_BEHIND + 1))
    if conn.vendor != "postgresql":
        start = datetime.combine(keep_from, datetime.min.time(), SCHEDULE_TIME_ZONE)
        with conn.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE started_at < %s", [start])
        return []
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        names = sorted(row[0] for row in cursor.fetchall())
        old = [name for name in names if _day_of(name) is not None and _day_of(name) < keep_from]
        for name in old:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")  # a name read from the catalogue, checked by _day_of
    return old


def _day_of(name: str) -> date | None:
    """The day of a partition named by ``partition_name``; None for any other (the DEFAULT partition)."""
    suffix = name.removeprefix(f"{TABLE}_")
    if len(suffix) != 8 or not suffix.isdigit():
        return None
    try:
        return datetime.strptime(suffix, "%Y%m%d").date()
    except ValueError:
        return None
