"""Background work: drain the search outbox (the work itself is in services)."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from search.models import OutboxEntry
from search.services import search_outbox_drain_all


def _schedule_retry() -> None:
    # Failed entries carry their next_attempt_at; one deferred run picks them up. A run that finds nothing
    # due schedules nothing, so parallel retry chains die out instead of multiplying.
    next_at = OutboxEntry.objects.filter(next_attempt_at__isnull=False).order_by("next_attempt_at").first()
    if next_at is not None:
        run_after = max(next_at.next_attempt_at, timezone.now() + timedelta(seconds=1))
        search_outbox_drain_task.using(run_after=run_after).enqueue()


@task(queue_name="search")
def search_outbox_drain_task() -> int:
    drained = search_outbox_drain_all()
    if OutboxEntry.objects.filter(attempts__gt=0).exists():
        _schedule_retry()
    return drained
