"""Proof of play on PostgreSQL: ``screens_playrecord`` is partitioned by day (Beijing days) on ``started_at``.

The parent table and a DEFAULT partition are made by migration 0003; ``partitions_ensure`` creates the day
partitions from ``DAYS_BEHIND`` days ago to ``DAYS_AHEAD`` days ahead (the plays service calls it once a day per
process before it writes, so no scheduler is needed). Plays are clamped to that range on arrival
(``screens.plays.recording``), so a row never lands in the default partition of a day that gets its own partition
later (PostgreSQL refuses to attach a range the default partition already holds rows of). Old days are dropped
whole (``DROP TABLE screens_playrecord_YYYYMMDD``): nothing else deletes a play. On SQLite it is a plain table and
this does nothing.
"""

from datetime import date, datetime, timedelta

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
