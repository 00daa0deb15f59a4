"""Recovery from a dead worker, done by the workers themselves: no watchdog process is needed.

Every claim of a job schedules a watch task on the light queue for just after its lease would run out
(``watch``). Whichever worker runs it sweeps (``services.transcode_jobs_requeue_stale``): jobs whose lease ran
out go back to the queue, and the task their dead worker was running is closed as failed in the task backend
(``close_dead_tasks``), so no task result stays "running" for ever. While the watched job still runs, the watch
schedules itself again for the new end of its lease. ``manage.py media_watchdog`` runs the same sweep by hand.

A lease owner names its process and the task result it runs (``worker_name``): that is how the sweep finds the
result row of a task whose process was killed.
"""

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta

from django.db import transaction

logger = logging.getLogger(__name__)
WATCH_MARGIN_SECONDS = 1.0  # after the lease's end, so a live worker's renewal is never taken for death
# A running job leaves one finished watch per lease period (2 min): on the database backend those rows would pile
# up (an archive's thousands of encodes, hundreds of thousands of rows); a day of them is kept for whoever looks.
WATCH_RESULTS_KEPT = timedelta(days=1)


class WorkerLost(Exception):
    """Recorded on the task result of a task whose process died (killed, out of memory, machine lost)."""


def worker_name(task_result_id: str = "") -> str:
    """host:pid:nonce[:task result id], unique per run; the last part lets recovery close the task's result."""
    name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return f"{name}:{task_result_id}" if task_result_id else name


def task_result_id_of(lease_owner: str) -> str:
    parts = lease_owner.split(":")
    return parts[3] if len(parts) >= 4 else ""


def watch(*, job_id: int, lease_expires_at: datetime) -> None:
    """Schedule the job's watch for just after ``lease_expires_at`` (after the caller's transaction commits)."""
    from ..steps.profiles import QUEUE_LIGHT
    from ..tasks import transcode_job_watch_task

    run_after = lease_expires_at + timedelta(seconds=WATCH_MARGIN_SECONDS)
    task = transcode_job_watch_task.using(queue_name=QUEUE_LIGHT, run_after=run_after)
    transaction.on_commit(lambda: task.enqueue(job_id), robust=True)


def prune_watch_results(*, older_than: timedelta = WATCH_RESULTS_KEPT) -> int:
    """Delete the database backend's finished watch results older than ``older_than``; RQ expires its own."""
    from django.utils import timezone
    from django_tasks.base import TaskResultStatus

    from ..tasks import transcode_job_watch_task

    if not _is_database_backend(transcode_job_watch_task.get_backend()):
        return 0
    from django_tasks_db.models import DBTaskResult

    old = DBTaskResult.objects.filter(
        task_path=transcode_job_watch_task.module_path,
        status=TaskResultStatus.SUCCESSFUL,
        finished_at__lt=timezone.now() - older_than,
    )
    return old.delete()[0]


def close_dead_tasks(lease_owners: list[str]) -> int:
    """Mark the task results run by these dead lease owners as failed: in the database backend directly (the
    count is returned), in RQ through its own abandoned-job cleanup (returns 0)."""
    from ..tasks import transcode_job_task

    backend = transcode_job_task.get_backend()
    ids = [result_id for result_id in map(task_result_id_of, lease_owners) if result_id]
    if _is_database_backend(backend):
        return _close_database_results(ids) if ids else 0
    if _is_rq_backend(backend):
        _close_rq_jobs(backend, set(ids))
    return 0


def _is_database_backend(backend) -> bool:
    from django_tasks_db import DatabaseBackend

    return isinstance(backend, DatabaseBackend)


def _is_rq_backend(backend) -> bool:
    try:
        from django_tasks_rq import RQBackend
    except ImportError:  # not installed: not in use
        return False
    return isinstance(backend, RQBackend)


def _close_database_results(ids: list[str]) -> int:
    from django.utils import timezone
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    closed = DBTaskResult.objects.filter(id__in=ids, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
        traceback=(
            "WorkerLost: the process running this task stopped renewing its lease (killed, out of memory, or its "
            "machine lost); the job went back to the queue.\n"
        ),
    )
    if closed:
        logger.warning("Closed %d task result(s) of dead workers as failed", closed)
    return closed


def _close_rq_jobs(backend, ids: set[str]) -> None:
    # RQ fails a job whose work-horse stopped its heartbeat itself (AbandonedJobError, the failure callback
    # run, the job in the failed registry), but only once that heartbeat ran out (about 90 s) and at its next
    # maintenance (every 10 minutes). Our expired lease already proves the process gone: mark its entries
    # expired and let RQ's own cleanup fail them now.
    import django_rq
    from django_tasks_rq.backend import Job

    for name in backend.queues:
        try:
            registry = django_rq.get_queue(name, job_class=Job).started_job_registry
            for entry in registry.connection.zrange(registry.key, 0, -1):
                if registry.parse_job_id(entry) in ids:
                    registry.connection.zadd(registry.key, {entry: 0}, xx=True)
            registry.cleanup()
        except Exception:
            logger.exception("Could not close the dead workers' jobs in RQ queue %s", name)
