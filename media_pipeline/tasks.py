"""Background tasks: thin wrappers that take ids and call a service."""

from django_tasks import task

from .jobs.recovery import worker_name
from .services import transcode_job_run, transcode_job_watch
from .steps.profiles import QUEUE_LIGHT


@task(queue_name="media", takes_context=True)
def transcode_job_task(context, job_id: int) -> None:
    # Enqueued on the job group's queue ("media" for video work, "media_light" for probing, pictures and
    # documents) by services._enqueue_task. The worker id is unique per run, so a lease names one process; it
    # also names this task's result, so recovery can close it if the process dies (jobs/recovery.py).
    transcode_job_run(job_id=job_id, worker_id=worker_name(context.task_result.id))


@task(queue_name="media", takes_context=True)
def transcode_chunk_task(context, chunk_id: int) -> None:
    # One slice of a long ladder (jobs/chunks.py); whoever claims it first encodes it, the others do nothing.
    from .jobs.chunks import transcode_chunk_run

    transcode_chunk_run(chunk_id=chunk_id, worker_id=worker_name(context.task_result.id))


@task(queue_name=QUEUE_LIGHT)
def transcode_job_watch_task(job_id: int) -> None:
    # Scheduled by every claim for just after the lease would run out (jobs/recovery.py): the workers
    # themselves hand a dead worker's job back, with no watchdog process.
    transcode_job_watch(job_id=job_id)


@task(queue_name=QUEUE_LIGHT)
def upload_expire_task(upload_id: str) -> None:
    # Scheduled by each resumable upload for when it could have expired (uploads/resumable.py).
    from .uploads.resumable import upload_expire_check

    upload_expire_check(upload_id=upload_id)
