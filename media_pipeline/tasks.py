"""Background tasks: thin wrappers that take ids and call a service."""

import os
import socket
import uuid

from django_tasks import task

from .services import transcode_job_run


@task(queue_name="media")
def transcode_job_task(job_id: int) -> None:
    # Enqueued on the job group's queue ("media" for video work, "media_light" for probing, pictures and
    # documents) by services._enqueue_task. The worker id is unique per run, so a lease names one process.
    worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    transcode_job_run(job_id=job_id, worker_id=worker_id)


@task(queue_name="media")
def transcode_chunk_task(chunk_id: int) -> None:
    # One slice of a long ladder (jobs/chunks.py); whoever claims it first encodes it, the others do nothing.
    from .jobs.chunks import transcode_chunk_run

    worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    transcode_chunk_run(chunk_id=chunk_id, worker_id=worker_id)
