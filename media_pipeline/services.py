"""Writes: uploading assets, and running transcode jobs from claim to published renditions."""

import hashlib
import logging
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import hls
from .commands import hls_ladder_command, poster_command
from .errors import Cancelled, EncodeError, MediaPipelineError, StorageError
from .ladder import fit_within, plan_variants
from .models import MediaAsset, Rendition, TranscodeJob
from .probe import ProbeResult, probe_file
from .profiles import HLS_WEB, POSTER
from .runner import check_run, run_ffmpeg
from .selectors import transcode_job_latest

logger = logging.getLogger(__name__)

HASH_CHUNK_BYTES = 4 * 1024 * 1024
PROGRESS_WRITE_SECONDS = 1.0  # at most one progress/lease UPDATE per second per job
ENCODE_SHARE = 0.9  # progress 0..0.9 is the ladder encode; the rest is poster, packaging and storing
RETRY_BASE_SECONDS = 30
State = TranscodeJob.State


# --- Assets -------------------------------------------------------------------------------------------


def media_asset_create(*, file: File, uploaded_by=None) -> MediaAsset:
    """Store an uploaded master and queue its transcode; the same bytes uploaded again reuse the asset."""
    sha256, size = _digest(file)
    existing = _asset_with_renditions(sha256=sha256)
    if existing is not None:
        return existing
    with transaction.atomic():
        asset = MediaAsset(original_name=_base_name(file), sha256=sha256, size=size, uploaded_by=uploaded_by)
        asset.file.save(_upload_name(file, sha256), file, save=False)
        asset.save()
        transcode_job_enqueue(asset=asset)
    return asset


def media_asset_replace_file(*, asset: MediaAsset, file: File, uploaded_by=None) -> MediaAsset:
    """An editor swaps a bad master for a good one: stop running work, store the file, transcode again."""
    sha256, size = _digest(file)
    old_name = asset.file.name
    with transaction.atomic():
        for job in asset.transcode_jobs.filter(state__in=[State.QUEUED, *TranscodeJob.ACTIVE_STATES]):
            transcode_job_cancel(job=job)
        asset.file.save(_upload_name(file, sha256), file, save=False)
        asset.original_name, asset.sha256, asset.size = _base_name(file), sha256, size
        asset.kind, asset.duration, asset.width, asset.height, asset.probe = (
            MediaAsset.Kind.UNKNOWN,
            None,
            None,
            None,
            {},
        )
        if uploaded_by is not None:
            asset.uploaded_by = uploaded_by
        asset.save()
        transcode_job_enqueue(asset=asset)
        if old_name and old_name != asset.file.name:
            transaction.on_commit(lambda: default_storage.delete(old_name))
    return asset


def media_asset_probe_store(*, asset: MediaAsset, probe: ProbeResult) -> MediaAsset:
    asset.kind = probe.kind
    asset.duration = probe.duration
    asset.width, asset.height = (probe.width, probe.height) if probe.has_video else (None, None)
    asset.probe = probe.to_dict()
    asset.save(update_fields=["kind", "duration", "width", "height", "probe"])
    return asset


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


def _asset_with_renditions(*, sha256: str) -> MediaAsset | None:
    # Reuse only an asset whose latest job is done or still under way; a failed one deserves a fresh try.
    for asset in MediaAsset.objects.filter(sha256=sha256).order_by("-id"):
        job = transcode_job_latest(asset=asset)
        if job is not None and job.state not in (State.FAILED, State.CANCELLED):
            return asset
    return None


def _base_name(file: File) -> str:
    return PurePosixPath(str(file.name or "").replace("\\", "/")).name[:255]


def _upload_name(file: File, sha256: str) -> str:
    # The hash, not the user's file name, names the stored file: no odd characters, no collisions.
    suffix = PurePosixPath(_base_name(file)).suffix.lower()[:10]
    return f"{sha256[:32]}{suffix}"


# --- Queueing ----------------------------------------------------------------------------------------


def transcode_job_enqueue(*, asset: MediaAsset, priority: int = 0) -> TranscodeJob:
    job = TranscodeJob.objects.create(asset=asset, priority=priority)
    _enqueue_task(job)
    return job


def _enqueue_task(job: TranscodeJob, *, delay_seconds: float = 0) -> None:
    # Imported here: tasks.py imports this module.
    from .tasks import transcode_job_task

    run_after = timezone.now() + timedelta(seconds=delay_seconds) if delay_seconds else None
    # django-tasks priorities run -100..100.
    task = transcode_job_task.using(priority=max(-100, min(100, job.priority)), run_after=run_after)
    job_id = job.id
    # After commit: a worker must never pick up a job id its transaction has not made visible yet.
    transaction.on_commit(lambda: task.enqueue(job_id))


def transcode_job_cancel(*, job: TranscodeJob) -> bool:
    """Cancel a queued or running job; a running worker notices at its next progress report."""
    updated = TranscodeJob.objects.filter(pk=job.pk, state__in=[State.QUEUED, *TranscodeJob.ACTIVE_STATES]).update(
        state=State.CANCELLED, finished_at=timezone.now(), lease_owner="", lease_expires_at=None
    )
    job.refresh_from_db()
    return bool(updated)


def transcode_jobs_requeue_stale() -> int:
    """Jobs whose worker stopped renewing its lease (killed, machine lost) go back to the queue."""
    now, requeued = timezone.now(), 0
    stale = TranscodeJob.objects.filter(state__in=TranscodeJob.ACTIVE_STATES, lease_expires_at__lt=now)
    for job in stale:
        still_stale = TranscodeJob.objects.filter(
            pk=job.pk, state__in=TranscodeJob.ACTIVE_STATES, lease_expires_at__lt=now
        )
        if job.attempts >= settings.MEDIA_JOB_MAX_ATTEMPTS:
            message = _("转码进程多次意外中断，已停止重试")
            still_stale.update(
                state=State.FAILED, error=message, finished_at=now, lease_owner="", lease_expires_at=None
            )
            continue
        # The conditional UPDATE is the lock: two watchdogs cannot both requeue one job.
        if still_stale.update(state=State.QUEUED, progress=0.0, lease_owner="", lease_expires_at=None):
            logger.warning("Requeued transcode job %s: lease held by %s expired", job.pk, job.lease_owner)
            _enqueue_task(job)
            requeued += 1
    return requeued


# --- Running ------------------------------------------------------------------------------------------


def transcode_job_run(*, job_id: int, worker_id: str) -> TranscodeJob | None:
    """Claim the job and run it to done/failed. Returns None when there was nothing to claim."""
    if not _claim(job_id=job_id, worker_id=worker_id):
        return None  # done, cancelled, or another worker holds a live lease: change nothing
    job = TranscodeJob.objects.select_related("asset").get(pk=job_id)
    work_root = Path(settings.MEDIA_WORK_DIR)
    work_root.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix=f"job{job.pk}-", dir=work_root))
    try:
        _run_claimed(job, worker_id, work_dir)
    except Cancelled:
        logger.info("Transcode job %s stopped: cancelled or taken over", job.pk)
    except MediaPipelineError as exc:
        _record_failure(job, worker_id, exc)
    except Exception as exc:
        logger.exception("Transcode job %s crashed", job.pk)
        _record_failure(job, worker_id, EncodeError(_("转码时发生内部错误"), repr(exc)))
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    job.refresh_from_db()
    return job


def _claim(*, job_id: int, worker_id: str) -> bool:
    """A conditional UPDATE, so two workers racing for one job cannot both win."""
    now = timezone.now()
    claimable = Q(state=State.QUEUED) | Q(state__in=TranscodeJob.ACTIVE_STATES, lease_expires_at__lt=now)
    return bool(
        TranscodeJob.objects.filter(claimable, pk=job_id).update(
            state=State.PROBING,
            lease_owner=worker_id,
            lease_expires_at=_lease_end(),
            attempts=F("attempts") + 1,
            started_at=now,
            progress=0.0,
        )
    )


def _run_claimed(job: TranscodeJob, worker_id: str, work_dir: Path) -> None:
    source = _local_source(job.asset, work_dir)
    probe = probe_file(source)
    media_asset_probe_store(asset=job.asset, probe=probe)
    _advance(job, worker_id, State.ENCODING)
    out_dir = work_dir / "out"
    hls_dir, poster_name = out_dir / "hls", "poster.jpg"
    args = hls_ladder_command(profile=HLS_WEB, probe=probe, source=source, out_dir=hls_dir)
    check_run(run_ffmpeg(args, duration=probe.duration, on_progress=_progress_reporter(job, worker_id)))
    if probe.has_video:
        args = poster_command(profile=POSTER, probe=probe, source=source, out_path=out_dir / poster_name)
        check_run(run_ffmpeg(args, duration=probe.duration))
    _advance(job, worker_id, State.PACKAGING, progress=ENCODE_SHARE)
    variants = plan_variants(HLS_WEB, probe)
    stats = hls.write_master(hls_dir, variants, frame_rate=min(probe.fps, HLS_WEB.max_frame_rate))
    _advance(job, worker_id, State.STORING)
    prefix = f"renditions/{job.asset_id}/{job.pk}"
    sizes = _store_tree(out_dir, prefix, job, worker_id)
    renditions = [_hls_rendition(job, prefix, stats, sizes)]
    if probe.has_video:
        poster_size = fit_within(probe.width, probe.height, POSTER.max_width, POSTER.max_height)
        renditions.append(_poster_rendition(job, f"{prefix}/{poster_name}", poster_size, sizes))
    _publish(job, worker_id, renditions)


def _local_source(asset: MediaAsset, work_dir: Path) -> Path:
    """ffmpeg needs a local file: local storage gives its path, S3 gets a streamed download."""
    try:
        return Path(asset.file.path)
    except NotImplementedError:
        target = work_dir / f"source{PurePosixPath(asset.file.name).suffix}"
        with asset.file.open("rb") as remote, target.open("wb") as local:
            shutil.copyfileobj(remote, local, HASH_CHUNK_BYTES)
        return target


def _progress_reporter(job: TranscodeJob, worker_id: str):
    """Progress callback for the runner: writes progress and renews the lease, throttled."""
    last_write = [0.0]

    def report(fraction: float) -> bool:
        now = timezone.now().timestamp()
        if now - last_write[0] < PROGRESS_WRITE_SECONDS and fraction < 1.0:
            return True
        last_write[0] = now
        # 0 rows: the job was cancelled or its lease passed to another worker, so stop ffmpeg.
        return bool(
            _owned(job, worker_id, State.ENCODING).update(
                progress=round(fraction * ENCODE_SHARE, 4), lease_expires_at=_lease_end()
            )
        )

    return report


def _advance(job: TranscodeJob, worker_id: str, state: str, **fields) -> None:
    if not _owned(job, worker_id).update(state=state, lease_expires_at=_lease_end(), **fields):
        raise Cancelled()


def _owned(job: TranscodeJob, worker_id: str, state: str | None = None):
    states = [state] if state else TranscodeJob.ACTIVE_STATES
    return TranscodeJob.objects.filter(pk=job.pk, lease_owner=worker_id, state__in=states)


def _lease_end():
    return timezone.now() + timedelta(seconds=settings.MEDIA_JOB_LEASE_SECONDS)


def _store_tree(out_dir: Path, prefix: str, job: TranscodeJob, worker_id: str) -> dict[str, int]:
    """Upload every output file under ``prefix``; return {storage name: bytes}."""
    sizes = {}
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        name = f"{prefix}/{path.relative_to(out_dir).as_posix()}"
        sizes[name] = _store_file(path, name)
        _advance(job, worker_id, State.STORING)  # uploads of big ladders take a while: keep the lease
    return sizes


def _store_file(path: Path, name: str) -> int:
    try:
        # A killed earlier attempt of this job may have left the same name behind; overwrite it, never
        # let the storage pick another name the playlists do not mention.
        if default_storage.exists(name):
            default_storage.delete(name)
        with path.open("rb") as handle:
            saved = default_storage.save(name, File(handle, name=path.name))
    except Exception as exc:
        raise StorageError(_("保存转码结果失败"), repr(exc)) from exc
    if saved != name:
        raise StorageError(_("保存转码结果失败"), f"{name} → {saved}")
    return path.stat().st_size


def _hls_rendition(job: TranscodeJob, prefix: str, stats, sizes: dict[str, int]) -> Rendition:
    top = next((s for s in stats if s.variant.has_video), stats[0])
    return Rendition(
        asset_id=job.asset_id,
        job=job,
        profile=HLS_WEB.name,
        kind=Rendition.Kind.HLS,
        path=f"{prefix}/hls/{hls.MASTER_NAME}",
        width=top.variant.width or None,
        height=top.variant.height or None,
        bandwidth=max(s.peak_bandwidth for s in stats),
        size=sum(size for name, size in sizes.items() if name.startswith(f"{prefix}/hls/")),
    )


def _poster_rendition(job: TranscodeJob, name: str, size: tuple[int, int], sizes: dict[str, int]) -> Rendition:
    return Rendition(
        asset_id=job.asset_id,
        job=job,
        profile=POSTER.name,
        kind=Rendition.Kind.POSTER,
        path=name,
        width=size[0],
        height=size[1],
        size=sizes[name],
    )


def _publish(job: TranscodeJob, worker_id: str, renditions: list[Rendition]) -> None:
    """All files are stored: mark done and create the rows in one transaction, or neither."""
    with transaction.atomic():
        done = _owned(job, worker_id, State.STORING).update(
            state=State.DONE,
            progress=1.0,
            finished_at=timezone.now(),
            lease_owner="",
            lease_expires_at=None,
            error="",
            log_tail="",
        )
        if not done:
            raise Cancelled()
        Rendition.objects.bulk_create(renditions)


def _record_failure(job: TranscodeJob, worker_id: str, exc: MediaPipelineError) -> None:
    job.refresh_from_db(fields=["attempts"])
    retry = exc.transient and job.attempts < settings.MEDIA_JOB_MAX_ATTEMPTS
    fields = {
        "error": str(exc)[:4000],
        "log_tail": exc.log_tail or exc.reason,
        "lease_owner": "",
        "lease_expires_at": None,
    }
    if retry:
        fields.update(state=State.QUEUED, progress=0.0)
    else:
        fields.update(state=State.FAILED, finished_at=timezone.now())
    with transaction.atomic():
        if _owned(job, worker_id).update(**fields) and retry:
            # Back-off doubles per attempt: a storage outage gets time to pass.
            _enqueue_task(job, delay_seconds=RETRY_BASE_SECONDS * 2 ** (job.attempts - 1))
    logger.warning("Transcode job %s %s: %s", job.pk, "will retry" if retry else "failed", exc)
