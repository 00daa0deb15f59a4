"""Writes: uploading assets and captions, queueing jobs, and running a job from claim to published renditions.

An upload starts one "analyse" job (light queue): it probes the master, measures its loudness once, and
then starts one job per applicable group of profiles (``steps.profiles.JOB_GROUPS``). Each group job runs its
steps into a work folder, checks every output, stores every file, and only then creates Rendition rows, in
the same transaction that marks it done: nothing half-written is ever served.

This module is also the pipeline's front door for writes by other apps (``__all__``): besides its own services it
hands out taking and releasing a resumable upload (``uploads/resumable.py``) and the bulk-ingest sources
(``uploads/ingest.py``), so that nobody imports its internals.
"""

import hashlib
import logging
import re
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import events
from .errors import Cancelled, MediaPipelineError, editor_message, unexpected_error
from .jobs import analysis, producers, publishing, recovery
from .jobs.chunks import ChunkCoordinator
from .jobs.leases import advance, claim, keep_alive, owned, progress_reporter
from .jobs.sources import local_copy
from .models import Caption, MediaAsset, Rendition, TranscodeChunk, TranscodeJob
from .selectors import asset_progress, transcode_job_latest
from .steps.contract import StepContext
from .steps.profiles import GROUPS, QUEUE_LIGHT
from .uploads.ingest import FolderSource, StorageSource
from .uploads.resumable import upload_release, upload_take

__all__ = [
    "FolderSource",
    "StorageSource",
    "caption_attach",
    "media_asset_create",
    "media_asset_refresh_state",
    "media_asset_replace_file",
    "media_asset_set_options",
    "transcode_job_cancel",
    "transcode_job_enqueue",
    "transcode_job_prioritise",
    "transcode_job_retry",
    "transcode_job_run",
    "transcode_job_watch",
    "transcode_jobs_requeue_stale",
    "upload_release",
    "upload_take",
]

logger = logging.getLogger(__name__)

HASH_CHUNK_BYTES = 4 * 1024 * 1024
ENCODE_SHARE = 0.85  # progress 0..0.85 is the steps; the rest is checking and storing
RETRY_BASE_SECONDS = 30
PRIORITY_PREMIERE = 100  # django-tasks' maximum: the RQ backend puts such jobs at the front of the queue
ANALYSE = "analyse"
WORK_DIR_NAME = re.compile(r"^(?:job|chunk)(?P<job>\d+)-")  # job<pk>-… (a job), chunk<pk>-<index>-… (a chunk)
State = TranscodeJob.State


# --- Assets -------------------------------------------------------------------------------------------


def media_asset_create(*, file: File, uploaded_by=None, options: dict | None = None, priority: int = 0) -> MediaAsset:
    """Store an uploaded master and queue its analysis; the same bytes uploaded again reuse the asset."""
    sha256, size = _digest(file)
    existing = _asset_in_use(sha256=sha256)
    if existing is not None:
        return existing
    with transaction.atomic():
        asset = MediaAsset(
            original_name=_base_name(file), sha256=sha256, size=size, uploaded_by=uploaded_by, options=options or {}
        )
        asset.file.save(_upload_name(file, sha256), file, save=False)
        asset.save()
        transcode_job_enqueue(asset=asset, priority=priority)
    return asset


def media_asset_replace_file(*, asset: MediaAsset, file: File, uploaded_by=None) -> MediaAsset:
    """An editor swaps a bad master for a good one: stop running work, store the file, start again."""
    sha256, size = _digest(file)
    old_name = asset.file.name
    with transaction.atomic():
        for job in asset.transcode_jobs.filter(state__in=[State.QUEUED, *TranscodeJob.ACTIVE_STATES]):
            transcode_job_cancel(job=job)
        asset.file.save(_upload_name(file, sha256), file, save=False)
        asset.original_name, asset.sha256, asset.size = _base_name(file), sha256, size
        asset.kind, asset.duration, asset.probe = MediaAsset.Kind.UNKNOWN, None, {}
        asset.width = asset.height = None
        if uploaded_by is not None:
            asset.uploaded_by = uploaded_by
        asset.save()
        transcode_job_enqueue(asset=asset)
        if old_name and old_name != asset.file.name:
            transaction.on_commit(lambda: default_storage.delete(old_name))
    return asset


def media_asset_set_options(*, asset: MediaAsset, options: dict) -> MediaAsset:
    """Per-item choices: extra groups wanted (public screens), portrait fill, focal point. A group newly
    wanted, or whose choices changed, runs now if the asset is already analysed."""
    merged = {**asset.options, **options}
    if merged == asset.options:
        return asset
    asset.options = merged
    with transaction.atomic():
        asset.save(update_fields=["options"])
        for group in analysis.groups_for(asset=asset):
            if transcode_job_latest(asset=asset, group=group) is None or group in analysis.OPTION_GROUPS:
                _rerun_group(asset, group)
    return asset


def _rerun_group(asset: MediaAsset, group: str) -> None:
    """Run a group again with the asset's new captions or options, once the asset is analysed. A queued job
    of the group will read them when it starts; a running one is working from the old ones: cancel it."""
    analysed = transcode_job_latest(asset=asset, group=ANALYSE)
    if analysed is None or analysed.state != State.DONE:
        return  # the analysis fans out with whatever the asset has by then
    current = transcode_job_latest(asset=asset, group=group)
    if current is not None and current.state == State.QUEUED:
        return
    if current is not None and current.state in TranscodeJob.ACTIVE_STATES:
        transcode_job_cancel(job=current)
    transcode_job_enqueue(asset=asset, group=group, parent=analysed, priority=analysed.priority)


def caption_attach(*, asset: MediaAsset, file: File, language: str = "zh-Hans", label: str = "中文") -> Caption:
    """Attach or replace a caption track, then re-run the groups that use captions (web ladder, screens)."""
    with transaction.atomic():
        caption, _created = Caption.objects.get_or_create(asset=asset, language=language, defaults={"label": label})
        old_name = caption.file.name
        caption.label = label
        caption.file.save(f"{asset.sha256[:16]}-{language}{PurePosixPath(file.name or '').suffix[:5]}", file)
        if old_name and old_name != caption.file.name:
            transaction.on_commit(lambda: default_storage.delete(old_name))
        for group in analysis.groups_for(asset=asset):
            if group in analysis.CAPTION_GROUPS:
                _rerun_group(asset, group)
        # Inside the transaction: receivers only record what to do after commit, so one editor's save that attaches
        # captions and changes an item is one piece of work for them, and nothing happens if it rolls back.
        events.captions_changed.send(sender=MediaAsset, asset_id=asset.pk)
    return caption


def _digest(file: File) -> tuple[str, int]:
    """SHA-256 and size in one streaming pass (masters can be gigabytes)."""
    digest, size, limit = hashlib.sha256(), 0, settings.MEDIA_UPLOAD_MAX_BYTES
    file.seek(0)
    for chunk in file.chunks(HASH_CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
        if size > limit:
            raise ValidationError(_("文件超过允许的最大大小（%(limit)d 字节）") % {"limit": limit})
    file.seek(0)
    if size == 0:
        raise ValidationError(_("文件为空，请重新选择"))
    return digest.hexdigest(), size


def _asset_in_use(*, sha256: str) -> MediaAsset | None:
    # Reuse only an asset that is ready or on its way; a failed one deserves a fresh try.
    for asset in MediaAsset.objects.filter(sha256=sha256).exclude(state=MediaAsset.State.FAILED).order_by("-id"):
        if transcode_job_latest(asset=asset, group=ANALYSE) is not None:
            return asset
    return None


def _base_name(file: File) -> str:
    return PurePosixPath(str(file.name or "").replace("\\", "/")).name[:255]


def _upload_name(file: File, sha256: str) -> str:
    # The hash, not the user's file name, names the stored file: no odd characters, no collisions.
    suffix = PurePosixPath(_base_name(file)).suffix.lower()[:10]
    return f"{sha256[:32]}{suffix}"


# --- Queueing ----------------------------------------------------------------------------------------


def transcode_job_enqueue(
    *, asset: MediaAsset, group: str = ANALYSE, priority: int = 0, parent: TranscodeJob | None = None
) -> TranscodeJob:
    job = TranscodeJob.objects.create(asset=asset, group=group, priority=priority, parent=parent)
    _enqueue_task(job)
    media_asset_refresh_state(asset=asset)
    return job


def media_asset_refresh_state(*, asset: MediaAsset) -> None:
    """Copy the current jobs' summary onto the asset (at transitions only, never on progress ticks)."""
    summary = asset_progress(asset=asset)
    MediaAsset.objects.filter(pk=asset.pk).update(state=summary.state, state_error=summary.error[:4000])


def _queue_for(group: str) -> str:
    return QUEUE_LIGHT if group == ANALYSE else GROUPS[group].queue


def _enqueue_task(job: TranscodeJob, *, delay_seconds: float = 0) -> None:
    # Imported here: tasks.py imports this module.
    from .tasks import transcode_job_task

    run_after = timezone.now() + timezone.timedelta(seconds=delay_seconds) if delay_seconds else None
    task = transcode_job_task.using(
        queue_name=_queue_for(job.group), priority=max(-100, min(100, job.priority)), run_after=run_after
    )
    job_id = job.id
    TranscodeJob.objects.filter(pk=job_id).update(due_at=run_after or timezone.now())
    # After commit: a worker must never pick up a job id its transaction has not made visible yet.
    transaction.on_commit(lambda: task.enqueue(job_id))


def transcode_job_cancel(*, job: TranscodeJob) -> bool:
    """Cancel a queued or running job; a running worker notices at its next progress report."""
    updated = TranscodeJob.objects.filter(pk=job.pk, state__in=[State.QUEUED, *TranscodeJob.ACTIVE_STATES]).update(
        state=State.CANCELLED, finished_at=timezone.now(), lease_owner="", lease_expires_at=None
    )
    if updated:
        TranscodeJob.objects.filter(parent=job, state=State.QUEUED).update(
            state=State.CANCELLED, finished_at=timezone.now()
        )
    job.refresh_from_db()
    media_asset_refresh_state(asset=job.asset)
    return bool(updated)


def transcode_job_retry(*, job: TranscodeJob, priority: int | None = None) -> TranscodeJob:
    """A failed or cancelled job runs again as a new job (the old one stays, with its error, as history)."""
    if job.state not in (State.FAILED, State.CANCELLED):
        raise ValidationError(_("只有失败或已取消的任务可以重试"))
    return transcode_job_enqueue(
        asset=job.asset, group=job.group, parent=job.parent, priority=job.priority if priority is None else priority
    )


def transcode_job_prioritise(*, job: TranscodeJob, priority: int = PRIORITY_PREMIERE) -> TranscodeJob:
    """A premiere goes first: queued jobs of the asset are re-queued at the new priority."""
    jobs = [job, *job.children.filter(state=State.QUEUED)] if job.group == ANALYSE else [job]
    for queued in jobs:
        if TranscodeJob.objects.filter(pk=queued.pk, state=State.QUEUED).update(priority=priority):
            queued.priority = priority
            _enqueue_task(queued)  # the old task entry finds the job claimed or done and changes nothing
    job.refresh_from_db()
    return job


def transcode_jobs_requeue_stale() -> int:
    """Jobs whose worker stopped renewing its lease (killed, machine lost) go back to the queue, and the task
    results their dead workers held (jobs and chunks) are closed as failed; queued jobs whose task was lost (a
    queue flushed, Redis down at commit) are enqueued again. Run by the workers' watch tasks and by
    ``media_watchdog``; returns how many jobs were put back."""
    now, requeued = timezone.now(), 0
    lost_before = now - timezone.timedelta(seconds=settings.MEDIA_JOB_REQUEUE_SECONDS)
    for job in TranscodeJob.objects.filter(state=State.QUEUED, due_at__lt=lost_before):
        # A duplicate task is harmless: whichever comes second claims nothing.
        logger.warning("Re-enqueued transcode job %s: still queued %s after it was due", job.pk, now - job.due_at)
        _enqueue_task(job)
        requeued += 1
    dead_owners = _dead_chunk_owners(now)
    for job in TranscodeJob.objects.filter(state__in=TranscodeJob.ACTIVE_STATES, lease_expires_at__lt=now):
        if _requeue_or_fail_stale(job, now):
            requeued += 1
            dead_owners.append(job.lease_owner)
        media_asset_refresh_state(asset=job.asset)
    recovery.close_dead_tasks(dead_owners)
    return requeued


def _dead_chunk_owners(now) -> list[str]:
    # A chunk whose worker died is claimed again by its coordinator (or by the job's next attempt); only the
    # dead task's result needs closing here.
    expired = TranscodeChunk.objects.filter(state=TranscodeChunk.State.RUNNING, lease_expires_at__lt=now)
    return list(expired.values_list("lease_owner", flat=True))


def _requeue_or_fail_stale(job: TranscodeJob, now) -> bool:
    """Requeue one job whose lease expired, or fail it when its attempts ran out; True when it was ours to do."""
    still_stale = TranscodeJob.objects.filter(pk=job.pk, state__in=TranscodeJob.ACTIVE_STATES, lease_expires_at__lt=now)
    if job.attempts >= settings.MEDIA_JOB_MAX_ATTEMPTS:
        message = _("转码进程多次意外中断，请稍后在“转码任务”中点重试；仍不行请联系管理员")
        failed = still_stale.update(
            state=State.FAILED, error=message, finished_at=now, lease_owner="", lease_expires_at=None
        )
        if failed:
            _discard_outputs(job, job.lease_owner)
        return False
    # The conditional UPDATE is the lock: two sweeps cannot both requeue one job.
    if still_stale.update(state=State.QUEUED, progress=0.0, lease_owner="", lease_expires_at=None):
        logger.warning("Requeued transcode job %s: lease held by %s expired", job.pk, job.lease_owner)
        _enqueue_task(job)
        return True
    return False


def transcode_job_watch(*, job_id: int) -> None:
    """A job's watch (jobs/recovery.py): sweep for dead workers, and look again while the job still runs."""
    transcode_jobs_requeue_stale()
    live = TranscodeJob.objects.filter(
        pk=job_id, state__in=TranscodeJob.ACTIVE_STATES, lease_expires_at__gte=timezone.now()
    ).first()
    if live is not None:
        recovery.watch(job_id=job_id, lease_expires_at=live.lease_expires_at)
    else:  # the job's last watch: a cheap moment to clear old ones
        recovery.prune_watch_results()


# --- Running ------------------------------------------------------------------------------------------


def transcode_job_run(*, job_id: int, worker_id: str) -> TranscodeJob | None:
    """Claim the job and run it to done/failed. Returns None when there was nothing to claim."""
    if not claim(job_id=job_id, worker_id=worker_id):
        return None  # done, cancelled, or another worker holds a live lease: change nothing
    job = TranscodeJob.objects.select_related("asset").get(pk=job_id)
    recovery.watch(job_id=job.pk, lease_expires_at=job.lease_expires_at)  # if this process dies, a worker notices
    media_asset_refresh_state(asset=job.asset)
    work_root = Path(settings.MEDIA_WORK_DIR)
    work_root.mkdir(parents=True, exist_ok=True)
    _sweep_work_root(work_root)
    work_dir = Path(tempfile.mkdtemp(prefix=f"job{job.pk}-", dir=work_root))
    try:
        if job.group == ANALYSE:
            _run_analysis(job, worker_id, work_dir)
        else:
            _run_group(job, worker_id, work_dir)
    except Cancelled:
        logger.info("Transcode job %s stopped: cancelled or taken over", job.pk)
    except MediaPipelineError as exc:
        _record_failure(job, worker_id, exc)
    except Exception as exc:
        logger.exception("Transcode job %s crashed", job.pk)
        _record_failure(job, worker_id, unexpected_error(exc))
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    job.refresh_from_db()
    if job.state in (State.FAILED, State.CANCELLED):
        _discard_outputs(job, worker_id)
    media_asset_refresh_state(asset=job.asset)
    return job


def _discard_outputs(job: TranscodeJob, worker_id: str) -> None:
    """A job that ended without publishing leaves nothing behind: partial renditions, stored chunks."""
    try:
        ChunkCoordinator(job, worker_id).cleanup()
        publishing.delete_tree(f"renditions/{job.asset_id}/{job.pk}")
    except Exception:
        logger.exception("Could not delete the partial outputs of transcode job %s", job.pk)


def _sweep_work_root(work_root: Path) -> None:
    """Remove work folders left by workers that were killed (``finally`` never ran): any whose job is not
    running under a live lease. Each machine sweeps its own disk when it starts a job."""
    now = timezone.now()
    for folder in work_root.iterdir():
        match = WORK_DIR_NAME.match(folder.name)
        if not match or not folder.is_dir():
            continue
        live = TranscodeJob.objects.filter(
            pk=int(match["job"]), state__in=TranscodeJob.ACTIVE_STATES, lease_expires_at__gte=now
        )
        if not live.exists():
            shutil.rmtree(folder, ignore_errors=True)


def _run_analysis(job: TranscodeJob, worker_id: str, work_dir: Path) -> None:
    source = _local_source(job, worker_id, work_dir)
    result = analysis.analyse(source=source, on_progress=progress_reporter(job, worker_id, start=0.0, share=0.95))
    asset = job.asset
    asset.kind, asset.duration, asset.probe = result.kind, result.duration, result.probe
    asset.width, asset.height = result.width, result.height
    with transaction.atomic():
        asset.save(update_fields=["kind", "duration", "width", "height", "probe"])
        asset.refresh_from_db(fields=["options"])  # an editor may have changed them while we measured
        _finish(job, worker_id, State.PROBING)
        for group in analysis.groups_for(asset=asset):
            transcode_job_enqueue(asset=asset, group=group, parent=job, priority=job.priority)


def _run_group(job: TranscodeJob, worker_id: str, work_dir: Path) -> None:
    asset = job.asset
    ctx = StepContext(
        source=_local_source(job, worker_id, work_dir),
        probe=analysis.stored_probe(asset=asset),
        out_dir=work_dir / "out",
        work_dir=work_dir,
        loudness=analysis.stored_loudness(asset=asset),
        captions=_local_captions(asset, work_dir),
        options=asset.options,
        chunks=ChunkCoordinator(job, worker_id),
    )
    advance(job, worker_id, State.ENCODING)
    outputs = producers.run_group(
        group=GROUPS[job.group],
        ctx=ctx,
        reporter=lambda start, share: progress_reporter(
            job, worker_id, start=start * ENCODE_SHARE, share=share * ENCODE_SHARE
        ),
    )
    advance(job, worker_id, State.PACKAGING, progress=ENCODE_SHARE)
    producers.verify_outputs(outputs=outputs, ctx=ctx, keep_alive=keep_alive(job, worker_id))
    advance(job, worker_id, State.STORING)
    prefix = f"renditions/{asset.pk}/{job.pk}"
    sizes = publishing.store_outputs(
        outputs=outputs, out_dir=ctx.out_dir, prefix=prefix, keep_lease=lambda: advance(job, worker_id, State.STORING)
    )
    renditions = publishing.renditions_for(job=job, outputs=outputs, prefix=prefix, sizes=sizes)
    with transaction.atomic():
        _finish(job, worker_id, State.STORING)
        Rendition.objects.bulk_create(renditions)
        _announce_after_commit(events.renditions_published, asset_id=asset.pk, group=job.group)
    ctx.chunks.cleanup()  # chunks other workers stored for a long ladder: joined and published now


def _announce_after_commit(signal, **arguments) -> None:
    """Send one of the pipeline's events after commit: a listener that fails is logged by Django's robust on_commit
    and never undoes what was committed."""

    def announce():  # a function, not a partial: Django names a failed robust callback by its __qualname__
        signal.send(sender=MediaAsset, **arguments)

    transaction.on_commit(announce, robust=True)


def _local_source(job: TranscodeJob, worker_id: str, work_dir: Path) -> Path:
    """ffmpeg needs a local file: local storage gives its path, S3 gets a streamed download."""
    asset = job.asset
    target = work_dir / f"source{PurePosixPath(asset.file.name).suffix}"
    return local_copy(asset.file, target, keep_alive=keep_alive(job, worker_id))


def _local_captions(asset: MediaAsset, work_dir: Path) -> tuple:
    from .steps.contract import CaptionTrack

    tracks = []
    for caption in asset.captions.order_by("-is_default", "language"):
        suffix = PurePosixPath(caption.file.name).suffix
        path = local_copy(caption.file, work_dir / "captions-in" / f"{caption.language}{suffix}")
        tracks.append(CaptionTrack(caption.language, caption.label, path, caption.is_default))
    return tuple(tracks)


def _finish(job: TranscodeJob, worker_id: str, state: str) -> None:
    """Mark done, inside the caller's transaction with the rows it creates; or raise Cancelled."""
    # lease_owner stays: it records which worker finished the job (state, not the lease, guards it now).
    done = owned(job, worker_id, state).update(
        state=State.DONE,
        progress=1.0,
        finished_at=timezone.now(),
        lease_expires_at=None,
        error="",
        log_tail="",
    )
    if not done:
        raise Cancelled()


def _technical_detail(exc: MediaPipelineError) -> str:
    """The reason (ffmpeg's last line, a mismatch list, a Python repr) and the log tail, for administrators."""
    if exc.reason and exc.reason not in exc.log_tail:
        return f"{exc.reason}\n{exc.log_tail}".strip()
    return exc.log_tail or exc.reason


def _record_failure(job: TranscodeJob, worker_id: str, exc: MediaPipelineError) -> None:
    job.refresh_from_db(fields=["attempts"])
    retry = exc.transient and job.attempts < settings.MEDIA_JOB_MAX_ATTEMPTS
    fields = {
        # The editor reads error; the tool's words stay in log_tail, which only administrators see.
        "error": str(editor_message(exc, retrying=retry))[:4000],
        "log_tail": _technical_detail(exc),
        "lease_owner": "",
        "lease_expires_at": None,
    }
    if retry:
        fields.update(state=State.QUEUED, progress=0.0)
    else:
        fields.update(state=State.FAILED, finished_at=timezone.now())
    with transaction.atomic():
        if owned(job, worker_id).update(**fields) and retry:
            # Back-off doubles per attempt: a storage outage gets time to pass.
            _enqueue_task(job, delay_seconds=RETRY_BASE_SECONDS * 2 ** (job.attempts - 1))
    logger.warning("Transcode job %s %s: %s", job.pk, "will retry" if retry else "failed", exc)
