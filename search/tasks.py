"""Background work: drain the search outbox (the work itself is in services)."""

from datetime import timedelta

from django.db.models import Min
from django.utils import timezone
from django_tasks import task

from search.models import OutboxEntry
from search.services import search_outbox_drain_all


def _schedule_retry() -> None:
    """One deferred run for when the first waiting entry is due (entries carry their own back-off)."""
    first = OutboxEntry.objects.filter(next_attempt_at__isnull=False).aggregate(at=Min("next_attempt_at"))["at"]
    if first is not None:
        run_after = max(first, timezone.now() + timedelta(seconds=1))
        search_outbox_drain_task.using(run_after=run_after).enqueue()


def _due() -> bool:
    return OutboxEntry.objects.exclude(next_attempt_at__gt=timezone.now()).exists()


@task(queue_name="search")
def search_outbox_drain_task() -> int:
    """Drain everything due; if entries are left waiting, schedule the next try.

    A run that found nothing due schedules nothing, so the retry chains of many runs enqueued during an outage
    merge into one instead of multiplying. A run that dies still schedules the retries of what waits (then fails);
    what it left due, the next run or `manage.py search_drain` (cron) picks up.
    """
    had_work = _due()
    try:
        return search_outbox_drain_all()
    finally:
        if had_work:
            _schedule_retry()
