"""Leases: which worker holds a job, for how long, and the conditional UPDATEs that keep two from racing.

Every write a running job makes goes through ``owned()``: if the job was cancelled or its lease passed to
another worker, the UPDATE touches no row and the worker stops (``errors.Cancelled``).
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from ..errors import Cancelled
from ..models import TranscodeJob

State = TranscodeJob.State
PROGRESS_WRITE_SECONDS = 1.0  # at most one progress/lease UPDATE per second per job


def lease_end():
    return timezone.now() + timedelta(seconds=settings.MEDIA_JOB_LEASE_SECONDS)


def claim(*, job_id: int, worker_id: str) -> bool:
    """Queued, or active with an expired lease (its worker died): one conditional UPDATE, one winner."""
    now = timezone.now()
    claimable = Q(state=State.QUEUED) | Q(state__in=TranscodeJob.ACTIVE_STATES, lease_expires_at__lt=now)
    return bool(
        TranscodeJob.objects.filter(claimable, pk=job_id).update(
            state=State.PROBING,
            lease_owner=worker_id,
            lease_expires_at=lease_end(),
            attempts=F("attempts") + 1,
            started_at=now,
            progress=0.0,
        )
    )


def owned(job: TranscodeJob, worker_id: str, state: str | None = None):
    states = [state] if state else TranscodeJob.ACTIVE_STATES
    return TranscodeJob.objects.filter(pk=job.pk, lease_owner=worker_id, state__in=states)


def advance(job: TranscodeJob, worker_id: str, state: str, **fields) -> None:
    """Move to ``state`` and renew the lease, or raise Cancelled when the job is no longer ours."""
    if not owned(job, worker_id).update(state=state, lease_expires_at=lease_end(), **fields):
        raise Cancelled()


def progress_reporter(job: TranscodeJob, worker_id: str, *, start: float, share: float):
    """A step's progress callback: maps the step's 0..1 onto [start, start+share] of the job, renews the
    lease, and answers False (stop ffmpeg) once the job is no longer ours. Writes are throttled."""
    last_write = [0.0]

    def report(fraction: float) -> bool:
        now = timezone.now().timestamp()
        if now - last_write[0] < PROGRESS_WRITE_SECONDS and fraction < 1.0:
            return True
        last_write[0] = now
        progress = round(start + max(0.0, min(1.0, fraction)) * share, 4)
        return bool(owned(job, worker_id).update(progress=progress, lease_expires_at=lease_end()))

    return report


def keep_alive(job: TranscodeJob, worker_id: str):
    """A callback for long stretches without progress lines (downloads, output checks): renews the lease at
    most once a second and answers False once the job is no longer ours. Accepts and ignores a fraction."""
    last = [0.0]

    def renew(_fraction: float = 0.0) -> bool:
        now = timezone.now().timestamp()
        if now - last[0] < PROGRESS_WRITE_SECONDS:
            return True
        last[0] = now
        return bool(owned(job, worker_id).update(lease_expires_at=lease_end()))

    return renew
