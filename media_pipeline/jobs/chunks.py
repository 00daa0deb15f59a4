"""Chunks of a long ladder, spread over every heavy worker.

The ladder job's worker coordinates: it records the chunks and queues one task per chunk, so any idle heavy
worker (on any machine) can take one; meanwhile it encodes the audio and every chunk nobody has claimed,
then waits for the rest, fetches what other workers stored, and joins (``web_hls``). A chunk's worker builds
the same command from the same stored probe, encodes under its own lease and stores the files under
``work/chunks/<job>/``; if it dies, its lease runs out and the coordinator takes the chunk back. The
coordinator stores the chunks it encodes itself there too, so when it dies, its job is requeued and the next
attempt (on any machine) reuses every chunk already stored and encodes only the rest.
"""

import logging
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import BadInputError, Cancelled, EncodeError, MediaPipelineError, editor_message, unexpected_error
from ..ffmpeg.encoders import encoder_in_force
from ..ffmpeg.ladder import plan_variants, video_only
from ..ffmpeg.runner import check_run, run_ffmpeg
from ..models import TranscodeChunk, TranscodeJob
from ..steps import chunked_ladder
from ..steps.profiles import GROUPS, PROFILES
from .analysis import stored_probe
from .sources import local_copy

logger = logging.getLogger(__name__)
STORE_PREFIX = "work/chunks"
ChunkState = TranscodeChunk.State


def _lease_end():
    return timezone.now() + timedelta(seconds=settings.MEDIA_JOB_LEASE_SECONDS)


def _claimable(now) -> Q:
    return Q(state=ChunkState.QUEUED) | Q(state=ChunkState.RUNNING, lease_expires_at__lt=now)


class ChunkCoordinator:
    """What the ladder step may ask of the engine about chunks (the step itself never touches the database)."""

    def __init__(self, job: TranscodeJob, worker_id: str):
        self.job, self.worker_id = job, worker_id

    def start(self, chunks: list[chunked_ladder.Chunk]) -> None:
        """Record the plan (again, after a crash: stored chunks are kept) and tell the other workers."""
        from ..tasks import transcode_chunk_task

        last = chunks[-1].index
        for chunk in chunks:
            row, created = TranscodeChunk.objects.get_or_create(
                job=self.job,
                index=chunk.index,
                defaults={"start": chunk.start, "end": chunk.end, "first_segment": chunk.first_segment},
            )
            if not created and (row.start, row.end) != (chunk.start, chunk.end):
                raise EncodeError(_("分段转码的计划有变，系统将自动重试"), f"chunk {chunk.index}")
            # Done without stored files (its files went with a work folder, before coordinators stored theirs):
            # encode it again. Failed in an earlier attempt: this attempt (a retry) gives it another chance.
            if (row.state == ChunkState.DONE and not row.stored_files) or row.state == ChunkState.FAILED:
                row.state, row.error = ChunkState.QUEUED, ""
            row.last = chunk.index == last
            row.save(update_fields=["state", "error", "last"])
        task = transcode_chunk_task.using(queue_name=GROUPS[self.job.group].queue, priority=self.job.priority)
        ids = list(self._rows().filter(state=ChunkState.QUEUED).values_list("pk", flat=True))
        transaction.on_commit(lambda: [task.enqueue(chunk_id) for chunk_id in ids])

    def claim_next(self) -> chunked_ladder.Chunk | None:
        """The first chunk no live worker holds, now held by the coordinator; None when there is none."""
        for row in self._rows().filter(_claimable(timezone.now())).order_by("index"):
            if _claim(row.pk, self.worker_id):
                return _as_chunk(row)
        return None

    def renew(self, chunk: chunked_ladder.Chunk) -> None:
        self._rows().filter(index=chunk.index, lease_owner=self.worker_id).update(lease_expires_at=_lease_end())

    def finish_local(self, chunk: chunked_ladder.Chunk, folder: Path) -> None:
        """Store the chunk encoded here (in ``folder``) and mark it done: if this worker dies before the join,
        the job's next attempt fetches it instead of encoding it again."""
        row = self._rows().get(index=chunk.index)
        stored = _store_chunk(self.job, chunk.index, folder, lambda: _still_ours(row, self.worker_id))
        done = self._rows().filter(index=chunk.index, lease_owner=self.worker_id, state=ChunkState.RUNNING)
        if not done.update(state=ChunkState.DONE, lease_expires_at=None, stored_files=stored):
            for name in stored:
                default_storage.delete(name)
            raise Cancelled()

    def remaining(self) -> int:
        """Chunks not yet done; raises the reason when one has failed for good."""
        failed = self._rows().filter(state=ChunkState.FAILED).first()
        if failed is not None:
            # Its worker already said why, in Chinese; it failed for good there, so do not retry the job.
            raise BadInputError(failed.error)
        return self._rows().exclude(state=ChunkState.DONE).count()

    def done_seconds(self) -> float:
        return sum(end - start for start, end in self._rows().filter(state=ChunkState.DONE).values_list("start", "end"))

    def fetch(self, work_dir: Path) -> None:
        """Download every chunk stored by another worker or an earlier attempt into the folder
        ``chunked_ladder.join_chunks`` reads (the chunks this attempt encoded are there already)."""
        for row in self._rows().exclude(stored_files=[]).exclude(lease_owner=self.worker_id):
            target = chunked_ladder.chunk_dir(work_dir, _as_chunk(row))
            prefix = f"{_store_prefix(self.job)}/{row.index:03d}/"
            for name in row.stored_files:
                path = target / name.removeprefix(prefix)
                path.parent.mkdir(parents=True, exist_ok=True)
                with default_storage.open(name, "rb") as stored, path.open("wb") as local:
                    shutil.copyfileobj(stored, local, 4 * 1024 * 1024)

    def cleanup(self) -> None:
        """Delete what other workers stored. The engine calls this once the job has ended (published, failed
        or cancelled), never between the join and publishing: an attempt that fails there fetches them again."""
        for row in self._rows().exclude(stored_files=[]):
            for name in row.stored_files:
                default_storage.delete(name)
            TranscodeChunk.objects.filter(pk=row.pk).update(stored_files=[])

    def _rows(self):
        return TranscodeChunk.objects.filter(job=self.job)


def _claim(chunk_id: int, worker_id: str) -> bool:
    return bool(
        TranscodeChunk.objects.filter(_claimable(timezone.now()), pk=chunk_id).update(
            state=ChunkState.RUNNING, lease_owner=worker_id, lease_expires_at=_lease_end(), attempts=F("attempts") + 1
        )
    )


def _as_chunk(row: TranscodeChunk) -> chunked_ladder.Chunk:
    return chunked_ladder.Chunk(row.index, row.start, row.end, row.first_segment)


def _store_prefix(job: TranscodeJob) -> str:
    return f"{STORE_PREFIX}/{job.pk}"


# --- One chunk on any worker ---------------------------------------------------------------------------


def transcode_chunk_run(*, chunk_id: int, worker_id: str) -> TranscodeChunk | None:
    """Claim one chunk, encode it, store its files; None when there was nothing to claim."""
    if not TranscodeChunk.objects.filter(pk=chunk_id, job__state__in=TranscodeJob.ACTIVE_STATES).exists():
        return None  # the job ended (done, failed, cancelled) or is waiting in the queue
    if not _claim(chunk_id, worker_id):
        return None  # the coordinator or another worker has it
    row = TranscodeChunk.objects.select_related("job__asset").get(pk=chunk_id)
    work_dir = Path(tempfile.mkdtemp(prefix=f"chunk{row.job_id}-{row.index}-", dir=_work_root()))
    try:
        stored = _encode_and_store(row, worker_id, work_dir)
        ours = TranscodeChunk.objects.filter(
            pk=row.pk, lease_owner=worker_id, state=ChunkState.RUNNING, job__state__in=TranscodeJob.ACTIVE_STATES
        )
        if not ours.update(state=ChunkState.DONE, lease_expires_at=None, stored_files=stored):
            for name in stored:
                default_storage.delete(name)
    except Cancelled:
        logger.info("Chunk %s stopped: job cancelled or chunk taken over", row)
    except MediaPipelineError as exc:
        _chunk_failed(row, worker_id, exc)
    except Exception as exc:
        logger.exception("Chunk %s crashed", row)
        _chunk_failed(row, worker_id, unexpected_error(exc))
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    row.refresh_from_db()
    return row


def _encode_and_store(row: TranscodeChunk, worker_id: str, work_dir: Path) -> list[str]:
    job = row.job
    profile = PROFILES[GROUPS[job.group].profiles[0]]
    probe = stored_probe(asset=job.asset)
    source = local_copy(
        job.asset.file,
        work_dir / f"source{Path(job.asset.file.name).suffix}",
        keep_alive=lambda: _still_ours(row, worker_id),
    )
    args = chunked_ladder.chunk_command(
        chunk=_as_chunk(row),
        last=row.last,
        source=source,
        probe=probe,
        profile=profile,
        variants=video_only(plan_variants(profile, probe)),
        work_dir=work_dir,
        # The same choice as the coordinator's on a uniform fleet; a worker whose encoder differs makes an
        # init segment the join refuses (chunked_ladder._check_same_init), never a silently broken ladder.
        encoder=encoder_in_force(),
    )
    check_run(run_ffmpeg(args, duration=row.end - row.start, on_progress=lambda _f: _still_ours(row, worker_id)))
    folder = chunked_ladder.chunk_dir(work_dir, _as_chunk(row))
    return _store_chunk(job, row.index, folder, lambda: _still_ours(row, worker_id))


def _store_chunk(job: TranscodeJob, index: int, folder: Path, renew) -> list[str]:
    """Copy one encoded chunk's files to ``work/chunks/<job>/<index>/``, renewing the lease after each file."""
    prefix = f"{_store_prefix(job)}/{index:03d}"
    stored = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = f"{prefix}/{path.relative_to(folder).as_posix()}"
        if default_storage.exists(name):
            default_storage.delete(name)
        with path.open("rb") as handle:
            stored.append(default_storage.save(name, File(handle, name=path.name)))
        renew()
    return stored


def _still_ours(row: TranscodeChunk, worker_id: str) -> bool:
    """Renew the chunk's lease while its job still runs; False (stop ffmpeg) when either was taken away."""
    return bool(
        TranscodeChunk.objects.filter(
            pk=row.pk, lease_owner=worker_id, state=ChunkState.RUNNING, job__state__in=TranscodeJob.ACTIVE_STATES
        ).update(lease_expires_at=_lease_end())
    )


def _chunk_failed(row: TranscodeChunk, worker_id: str, exc: MediaPipelineError) -> None:
    row.refresh_from_db(fields=["attempts"])
    retry = exc.transient and row.attempts < settings.MEDIA_JOB_MAX_ATTEMPTS
    # The job shows a failed chunk's error to the editor (ChunkCoordinator.remaining): the sentence only; the
    # tool's words go to the log below.
    fields = {"error": str(editor_message(exc, retrying=retry))[:4000], "lease_owner": "", "lease_expires_at": None}
    fields["state"] = ChunkState.QUEUED if retry else ChunkState.FAILED
    # Requeued chunks need no task of their own: the coordinator claims whatever is left.
    TranscodeChunk.objects.filter(pk=row.pk, lease_owner=worker_id).update(**fields)
    logger.warning("Chunk %s %s: %s", row, "requeued" if retry else "failed", exc)


def _work_root() -> Path:
    root = Path(settings.MEDIA_WORK_DIR)
    root.mkdir(parents=True, exist_ok=True)
    return root
