"""Bulk import of library items from CSV, JSON and MARC files: command line and admin screen both land here.

A run is idempotent by (source, external_id): new rows are created, changed rows updated field by field, the rest
counted unchanged, and fields an editor changed by hand (``item.edited_fields``) are kept as the editor left them.
Rows go in by chunks of ``CHUNK_SIZE``, parents before children, each chunk in one transaction with the batch's
counts, row report and ``steps_done``, so a crash leaves a true account of what got in and where to go on from.
Bulk writes send no ``post_save``: search's outbox is told of the rows explicitly (and, for rows whose opening
changed, of everything under them), and browse counts are refreshed once per batch.

Interrupted batches: the process running a batch holds it under a lease (``leases``), renewed with every
chunk. A batch whose process is gone (its lease ran out, or it ran on this machine and no longer exists) becomes
"中断": every import start looks for such batches, and so does ``import_batch_check_task``, which each running batch
schedules on the ordinary workers. An interrupted batch resumes from its first uncommitted chunk ("继续导入" in the
admin, ``library_import --resume ID``): the chunks before it are skipped, rows that went in one by one inside that
chunk are skipped too, and the counts and report carry on, so the finished batch counts every row once. The file is
read again and must be the same bytes (``run_options["sha256"]``). A dry run that was interrupted starts again.

The admin checks every upload first (a dry run) and keeps the file, with its SHA-256, for 正式导入
(``import_batch_confirm``): the real run of exactly those bytes, started once however often it is asked for, and
all or nothing (one transaction; a row rejected that the dry run accepted rolls it back), optionally bringing new
items in unpublished for review.

Each column's checks and the words they understand are in ``columns``; comparing a row with the stored item
and the bulk writes of credits and tags are in ``writes``.
"""

import csv
import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.images import ImageFile, get_image_dimensions
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.utils.file import hash_filelike

from cms.models import LighthouseImage, OrgUnit
from cms.selectors import units_managed_by
from library.catalogue.identifiers import isbn_normalise
from library.models import ImportBatch, ItemCredit, LibraryItem
from library.services import (
    OPENING_FIELDS,
    item_year,
    library_changed,
    library_items_opening_changed,
    library_statistics_refresh,
)
from library.text.cleaning import neutralise_formula
from media_pipeline.errors import MediaPipelineError
from media_pipeline.services import FolderSource, StorageSource, media_asset_create

from .columns import CLEANERS, Planned, choice_maps, guess_kind, media_row_defaults, unknown_columns
from .leases import worker_gone, worker_id
from .readers import ImportReadError, Row, format_from_name, read_rows
from .writes import DRY_RUN_NEW, credits_line, credits_write, current_credits_and_tags, item_diff, tags_write

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1000
BULK_ROWS = 1000  # an import that wrote this many rows refreshes the planner's statistics at its end
REPORT_LIMIT = 50_000  # report entries kept; a file rejected wholesale should not make a 100 MB JSON column
# A running batch's lease: renewed by every chunk, so a chunk (with its media files) may take this long.
STALE_AFTER = timedelta(minutes=15)
QUEUED_STALE_AFTER = timedelta(hours=24)  # an admin upload no worker started
RESUME_DAYS = 7  # an interrupted admin batch keeps its upload this long for "继续导入"
CONFIRM_TTL = timedelta(hours=24)  # an admin dry run keeps its file this long for 正式导入
# 正式导入 is one transaction; on SQLite that is the database's one write lock, and other writers (members' study
# time, editors' saves) wait at most the busy timeout (10 s). Measured on a shared 2-core machine: 5,000 rows
# 1.6 s, 20,000 rows 9.5 s. Larger files go in by resumable chunks there (the confirm box says so beforehand);
# PostgreSQL locks rows, not the database, and takes every file in one transaction.
SQLITE_ATOMIC_ROWS = 10_000
CHECK_EVERY = timedelta(minutes=1)  # how often a running batch's check task looks for a dead process
MODEL_LABEL = "library.libraryitem"
State = ImportBatch.State
Progress = Callable[[int, int], object]


class RowError(Exception):
    """One row cannot go in: ``errors`` is {column: [messages]}."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


class _NotAsChecked(Exception):
    """正式导入 rejected rows its dry run accepted: roll the whole file back."""

    def __init__(self, lines: list[int]):
        super().__init__(lines)
        self.lines = lines


class LeaseLost(Exception):
    """Another process has the batch now (this one was taken for dead): stop without writing anything more."""


# --- Services ---------------------------------------------------------------------------------------------------


def import_file(
    *,
    path,
    file_format: str | None,
    source: str,
    unit: OrgUnit,
    user=None,
    dry_run: bool = False,
    files_root=None,
    s3_prefix: str | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
    media: bool = False,
) -> ImportBatch:
    """Import a catalogue file; returns its batch (state done, or failed with ``error`` when the file as a whole
    could not be read). ``files_root`` (a folder) or ``s3_prefix`` is where the rows' ``file``/``cover`` paths are.
    ``media``: a media_ingest manifest, where every row needs a file, and the file's path stands in for a missing
    external_id and its name for a missing title (``media_row_defaults``)."""
    path = Path(path).absolute()
    import_batches_interrupt_stale()
    owner, now = worker_id(), timezone.now()
    options = {"path": str(path), "encoding": encoding, "s3_prefix": s3_prefix, "origin": "command", "media": media}
    options["files_root"] = str(Path(files_root).absolute()) if files_root else None
    batch = ImportBatch.objects.create(
        source=source,
        file_name=path.name[:255],
        file_format=file_format or format_from_name(path.name),
        dry_run=dry_run,
        owning_unit=unit,
        started_by=user if getattr(user, "is_authenticated", False) else None,
        finished_at=now,
        lease_owner=owner,
        lease_expires_at=now + STALE_AFTER,
        run_options=options,
    )
    _check_soon(batch.pk)
    _run(batch, owner=owner, progress=progress)
    return batch


def import_batch_queue(*, upload, file_format: str, source: str, unit: OrgUnit, user, dry_run: bool) -> ImportBatch:
    """An editor's upload from the admin: keep the file in the work folder (with its SHA-256) and run it in the
    background. A dry run's file stays there for ``CONFIRM_TTL`` so that 正式导入 imports exactly these bytes."""
    from library.tasks import import_batch_run_task

    folder = Path(settings.MEDIA_WORK_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}{PurePosixPath(upload.name).suffix.lower()[:10]}"
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for chunk in upload.chunks():
            digest.update(chunk)
            out.write(chunk)
    now = timezone.now()
    options = {"path": str(target), "origin": "admin", "sha256": digest.hexdigest()}
    if dry_run:
        options["expires_at"] = (now + CONFIRM_TTL).isoformat()
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            source=source,
            file_name=PurePosixPath(upload.name).name[:255],
            file_format=file_format if file_format != "auto" else format_from_name(upload.name),
            dry_run=dry_run,
            owning_unit=unit,
            started_by=user,
            finished_at=now,
            lease_expires_at=now + QUEUED_STALE_AFTER,
            run_options=options,
        )
        transaction.on_commit(lambda: import_batch_run_task.enqueue(batch.pk, str(target)))
    return batch


class ImportConfirmError(Exception):
    """正式导入 cannot start from this dry run; the message (Chinese) says why and what to do."""

    def __init__(self, message: str, *, batch: ImportBatch | None = None):
        super().__init__(message)
        self.message, self.batch = message, batch


def batch_confirmable(batch: ImportBatch, *, now: datetime | None = None) -> bool:
    """Whether 正式导入 may start from this batch: an admin dry run that finished, whose file is still kept (not
    expired) and that no real import was started from yet. ``import_batch_confirm`` checks again, atomically."""
    options = batch.run_options or {}
    return (
        batch.dry_run
        and batch.state == State.DONE
        and options.get("origin") == "admin"
        and not options.get("confirmed_batch")
        and not _expired(options, now=now)
    )


def batch_confirmed_by(batch: ImportBatch) -> int | None:
    """The real import started from this dry run, if any."""
    return (batch.run_options or {}).get("confirmed_batch")


def import_batch_confirm(*, batch: ImportBatch, user, for_review: bool) -> ImportBatch:
    """正式导入: the real import of exactly the file this dry run checked. The file never leaves the server (the
    editor cannot swap it) and must still have the SHA-256 the dry run read; the source, unit and format are the
    dry run's. Of two presses (a double click, two tabs) one starts the import and the other is refused with the
    batch it started: the dry run is marked by one conditional UPDATE inside the new batch's transaction.

    The real run is all or nothing (``atomic``): if it fails, or rejects a row the dry run accepted, nothing of
    it stays in the library (on SQLite, files of more than ``SQLITE_ATOMIC_ROWS`` rows go in by resumable chunks
    instead). ``for_review``: new items arrive unpublished, and the file cannot publish any."""
    from library.tasks import import_batch_run_task

    options = batch.run_options or {}
    if batch_confirmed_by(batch):
        raise ImportConfirmError(_("这个文件已经正式导入过了。"), batch=_confirmed_batch(batch))
    if not batch_confirmable(batch):
        raise ImportConfirmError(_("试运行的文件已过期或不能正式导入，请重新上传并试运行。"))
    path = Path(options["path"])
    try:
        digest = _file_sha256(path)
    except OSError:
        raise ImportConfirmError(_("试运行的文件已不在服务器上（可能已过期），请重新上传并试运行。")) from None
    if digest != options.get("sha256"):
        raise ImportConfirmError(_("试运行后文件被改动过，不能正式导入。请重新上传并试运行。"))
    now = timezone.now()
    run_options = {
        "path": str(path),
        "origin": "admin",
        "sha256": digest,
        "confirmed_from": batch.pk,
        "atomic": confirm_all_or_nothing(batch),
        "for_review": bool(for_review),
        "checked_rejections": _rejected_lines(batch),
    }
    with transaction.atomic():
        real = ImportBatch.objects.create(
            source=batch.source,
            file_name=batch.file_name,
            file_format=batch.file_format,
            dry_run=False,
            owning_unit=batch.owning_unit,
            started_by=user,
            finished_at=now,
            lease_expires_at=now + QUEUED_STALE_AFTER,
            run_options=run_options,
        )
        marked = {**options, "confirmed_batch": real.pk, "confirmed_at": now.isoformat()}
        claimed = ImportBatch.objects.filter(
            pk=batch.pk, dry_run=True, state=State.DONE, run_options__confirmed_batch__isnull=True
        ).update(run_options=marked)
        if not claimed:
            transaction.set_rollback(True)
        else:
            transaction.on_commit(lambda: import_batch_run_task.enqueue(real.pk, str(path)))
    if not claimed:
        batch.refresh_from_db()
        raise ImportConfirmError(_("这个文件已经正式导入过了。"), batch=_confirmed_batch(batch))
    batch.run_options = marked
    return real


def confirm_all_or_nothing(batch: ImportBatch) -> bool:
    """Whether 正式导入 of this dry run runs in one transaction (always, except files too large to hold SQLite's
    write lock for: see ``SQLITE_ATOMIC_ROWS``)."""
    return connection.vendor != "sqlite" or batch.total <= SQLITE_ATOMIC_ROWS


def _confirmed_batch(batch: ImportBatch) -> ImportBatch | None:
    pk = batch_confirmed_by(batch)
    return ImportBatch.objects.filter(pk=pk).first() if pk else None


def _rejected_lines(batch: ImportBatch) -> list[int] | None:
    """The lines the dry run rejected, or None when its report was cut short (then only the count can be held)."""
    if batch.rejected > REPORT_LIMIT:
        return None
    return sorted({entry.get("row") or 0 for entry in batch_rejections(batch)})


def _expired(options: dict, *, now: datetime | None = None) -> bool:
    expires = options.get("expires_at")
    if not expires:
        return True
    return datetime.fromisoformat(expires) <= (now or timezone.now())


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_batch_run_saved(*, batch_id: int, path: str) -> None:
    """Run a batch queued from the admin. Admin imports carry no media files (no folder or prefix to find them
    in): a row naming a ``file`` or ``cover`` is rejected with a message that says to use the command. The saved
    file is deleted once the batch is done or failed, and kept while it can still resume (``RESUME_DAYS``)."""
    import_batches_interrupt_stale()
    import_uploads_sweep()
    owner = worker_id()
    batch = _claim(batch_id=batch_id, owner=owner, queued_only=True)
    if batch is None:
        logger.warning("Import batch %s is not waiting to run; skipped", batch_id)
        if not ImportBatch.objects.filter(pk=batch_id).exists():
            Path(path).unlink(missing_ok=True)
        return
    if not batch.run_options.get("path"):  # queued before batches remembered their file
        batch.run_options = {"path": path, "origin": "admin"}
        ImportBatch.objects.filter(pk=batch.pk).update(run_options=batch.run_options)
    _run(batch, owner=owner)


def import_batch_resume_queue(*, batch: ImportBatch) -> bool:
    """The editor's "继续导入": an interrupted batch goes back to the queue and a worker resumes it from its first
    uncommitted chunk. False when the batch is not interrupted (any more) or cannot resume from the admin."""
    from library.tasks import import_batch_resume_task

    if not batch_resumable_in_admin(batch):
        return False
    now = timezone.now()
    with transaction.atomic():
        queued = ImportBatch.objects.filter(pk=batch.pk, state=State.INTERRUPTED).update(
            state=State.RUNNING, error="", lease_owner="", lease_expires_at=now + QUEUED_STALE_AFTER, finished_at=now
        )
        if queued:
            transaction.on_commit(lambda: import_batch_resume_task.enqueue(batch.pk))
    return bool(queued)


def import_batch_resume(*, batch_id: int, progress: Progress | None = None) -> ImportBatch | None:
    """Resume a batch: one the admin queued again, or an interrupted one (``library_import --resume``). None when
    the batch is neither (done, failed, or running in a live process)."""
    import_batches_interrupt_stale()
    owner = worker_id()
    batch = _claim(batch_id=batch_id, owner=owner, queued_only=False)
    if batch is None:
        return None
    _run(batch, owner=owner, progress=progress)
    return batch


def import_batches_interrupt_stale(*, now: datetime | None = None) -> int:
    """Mark running batches whose process is gone as interrupted (see the module's note); returns how many."""
    now = now or timezone.now()
    running = ImportBatch.objects.filter(state=State.RUNNING)
    expired = Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True, finished_at__lt=now - STALE_AFTER)
    gone = [pk for pk, owner in running.exclude(lease_owner="").values_list("pk", "lease_owner") if worker_gone(owner)]
    message = _("导入进程中断（处理它的进程已停止）。已写入的行保留，其余的行尚未导入。")
    stale = running.filter(expired | Q(pk__in=gone))
    ended = {"state": State.INTERRUPTED, "lease_owner": "", "lease_expires_at": None, "finished_at": now}
    # 正式导入 runs in one transaction: a process that died in it wrote nothing, and resuming starts it over.
    atomic = _("导入进程中断（处理它的进程已停止），没有写入任何条目。继续导入会从头导入整个文件。")
    count = stale.filter(run_options__atomic=True).update(error=atomic, **ended)
    count += stale.update(error=message, **ended)
    if count:
        logger.warning("Marked %d import batch(es) interrupted: their process is gone", count)
    return count


def import_uploads_sweep(*, now: datetime | None = None) -> int:
    """Admin uploads kept in the work folder that nothing will read again: a batch interrupted more than
    ``RESUME_DAYS`` ago gives up (failed, with a message) and loses its file, and a file no running or interrupted
    batch names (its batch row never committed) goes once it is a day old. Returns how many files were removed."""
    now = now or timezone.now()
    abandoned = ImportBatch.objects.filter(state=State.INTERRUPTED, finished_at__lt=now - timedelta(days=RESUME_DAYS))
    message = _("中断超过 %(days)d 天未继续，已放弃；请重新上传文件导入其余的行。") % {"days": RESUME_DAYS}
    abandoned.update(state=State.FAILED, error=message)
    folder = Path(settings.MEDIA_WORK_DIR) / "imports"
    if not folder.is_dir():
        return 0
    live = ImportBatch.objects.filter(state__in=(State.RUNNING, State.INTERRUPTED))
    kept = {options.get("path") for options in live.values_list("run_options", flat=True) if options}
    # A dry run's file waits for 正式导入 until it expires (the batch keeps its path after a real run takes it:
    # that run deletes the file when it ends).
    checked = ImportBatch.objects.filter(dry_run=True, state=State.DONE, started_at__gte=now - CONFIRM_TTL)
    kept |= {
        options.get("path")
        for options in checked.values_list("run_options", flat=True)
        if options and not options.get("confirmed_batch") and not _expired(options, now=now)
    }
    removed = 0
    for path in folder.iterdir():
        if str(path) in kept or not path.is_file():
            continue
        if path.stat().st_mtime < (now - max(CONFIRM_TTL, timedelta(days=1))).timestamp():
            path.unlink(missing_ok=True)
            removed += 1
    if removed:
        logger.info("Removed %d import upload(s) no batch will read again", removed)
    return removed


def import_batch_check(*, batch_id: int) -> None:
    """The check a running batch schedules on the ordinary workers: interrupted batches are marked, and while the
    batch still runs, the next check is scheduled."""
    import_batches_interrupt_stale()
    import_uploads_sweep()
    if ImportBatch.objects.filter(pk=batch_id, state=State.RUNNING).exists():
        _check_soon(batch_id)


def _claim(*, batch_id: int, owner: str, queued_only: bool) -> ImportBatch | None:
    """Take the batch for this process (one conditional UPDATE: of two processes, one wins)."""
    claimable = Q(state=State.RUNNING, lease_owner="")
    if not queued_only:
        claimable |= Q(state=State.INTERRUPTED)
    lease = {"lease_owner": owner, "lease_expires_at": timezone.now() + STALE_AFTER}
    if not ImportBatch.objects.filter(claimable, pk=batch_id).update(state=State.RUNNING, error="", **lease):
        return None
    _check_soon(batch_id)
    return ImportBatch.objects.select_related("owning_unit", "started_by").get(pk=batch_id)


def _check_soon(batch_id: int) -> None:
    from library.tasks import import_batch_check_task

    run_after = timezone.now() + CHECK_EVERY
    # robust: a queue that is down must not stop the import; the next import's start checks as well.
    transaction.on_commit(lambda: import_batch_check_task.using(run_after=run_after).enqueue(batch_id), robust=True)


def _run(batch: ImportBatch, *, owner: str, progress: Progress | None = None) -> None:
    options = batch.run_options
    files = None
    if options.get("files_root"):
        files = FolderSource(Path(options["files_root"]))
    elif options.get("s3_prefix"):
        files = StorageSource(options["s3_prefix"])
    run = _Import(batch=batch, owner=owner, files=files, progress=progress)
    try:
        run.run(path=Path(options["path"]), encoding=options.get("encoding"))
    finally:
        if batch.state in (State.DONE, State.FAILED) and options.get("origin") == "admin":
            if not (batch.dry_run and batch.state == State.DONE):  # a checked file waits for 正式导入
                Path(options["path"]).unlink(missing_ok=True)  # the admin's saved upload: no longer needed


# --- Reading the batch's report ----------------------------------------------------------------------------------


def batch_rejections(batch: ImportBatch) -> list[dict]:
    return [entry for entry in batch.report if entry.get("errors")]


def batch_kept(batch: ImportBatch) -> list[dict]:
    """Rows where a field an editor changed by hand was kept instead of the file's value."""
    return [entry for entry in batch.report if entry.get("kept")]


def batch_rows_processed(batch: ImportBatch) -> int:
    """Rows of the file the batch has accounted for (in the library, unchanged, or rejected)."""
    return batch.created + batch.updated + batch.unchanged + batch.rejected


def batch_resumable_in_admin(batch: ImportBatch) -> bool:
    """An interrupted batch a worker can resume: not one whose media files are in a folder on the machine that ran
    the command (a worker may not see it; the command's ``--resume`` does)."""
    options = batch.run_options or {}
    return batch.state == State.INTERRUPTED and bool(options.get("path")) and not options.get("files_root")


def report_write_rejections(*, batch: ImportBatch, stream) -> None:
    """The rejected rows as CSV (row, external_id, reasons), for the editor to fix and import again. Every cell
    comes from the file one way or another, so none may start a spreadsheet formula (text.cleaning)."""
    writer = csv.writer(stream)
    writer.writerow(["row", "external_id", "errors"])
    for entry in batch_rejections(batch):
        reasons = "；".join(
            f"{column}: {' '.join(messages)}" if column != "__all__" else " ".join(messages)
            for column, messages in entry["errors"].items()
        )
        cells = [str(entry.get("row") or ""), entry.get("external_id") or "", reasons]
        writer.writerow([neutralise_formula(cell) for cell in cells])


# --- The run -----------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one chunk did: committed together with the batch's counts, or not at all."""

    done: dict[str, int] = field(default_factory=dict)  # external_id → pk of rows now in the database
    failed: dict[str, int] = field(default_factory=dict)  # external_id → line of rows rejected
    report: list[dict] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def reject(self, line: int, external_id: str, errors: dict[str, list[str]]) -> None:
        self.report.append({"row": line, "external_id": external_id, "errors": errors})
        if external_id:
            self.failed.setdefault(external_id, line)


class _Import:
    def __init__(self, *, batch: ImportBatch, owner: str, files, progress: Progress | None):
        self.batch, self.owner, self.files, self.progress = batch, owner, files, progress
        self.source, self.dry_run = batch.source, batch.dry_run
        self.now = timezone.now()
        self.totals = Outcome()
        self.rejected = 0
        self.steps, self.step_lines = batch.steps_done, list(batch.step_lines)  # see _save
        self.user = batch.started_by
        self.unit = batch.owning_unit
        self.unit_ids: dict[str, int | None] = {}  # access_unit codes seen so far (the tree may be large)
        self.managed: dict[int, bool] = {}  # unit id → whether the importing user manages it
        self.virtual: set[str] = set()  # dry run: rows of this file that would have gone in
        self.choices = choice_maps()
        self.credit_labels = {value: str(label) for value, label in ItemCredit.Role.choices}
        options = batch.run_options or {}
        self.for_review = bool(options.get("for_review"))  # new items unpublished; the file publishes nothing
        self.atomic = bool(options.get("atomic"))  # 正式导入 from the admin: all or nothing
        self.media = bool(options.get("media"))  # media_ingest: every row is a master file

    def run(self, *, path: Path, encoding: str | None) -> None:
        logger.info(
            "Import batch %s (%s, source %s) started at step %s", self.batch.pk, path.name, self.source, self.steps
        )
        self._restore()
        try:
            data = path.read_bytes()
            rows, used = read_rows(data=data, file_format=self.batch.file_format, encoding=encoding)
        except ImportReadError as exc:
            return self._end(State.FAILED, str(exc))
        except OSError:
            logger.exception("Import batch %s: cannot read its file", self.batch.pk)
            return self._end(State.FAILED, self._unreadable())
        if not self._same_file(hashlib.sha256(data).hexdigest()):
            message = _("文件在中断后被改动过，不能接着导入。请重新导入：已写入的行会计为“未变”，不会重复。")
            return self._end(State.FAILED, message)
        if self.media:
            media_row_defaults(rows)
        self.batch.encoding, self.batch.total = used, len(rows)
        self.batch.run_options = {**self.batch.run_options, "unknown_columns": unknown_columns(rows)}
        if self.atomic:
            return self._run_all_or_nothing(rows)
        try:
            self._run_rows(rows)
        except LeaseLost:
            logger.warning("Import batch %s: another process took it over; this one stops", self.batch.pk)
            return
        except Exception:
            logger.exception("Import batch %s interrupted", self.batch.pk)
            message = _("导入出错而中断（原因已记入服务器日志）。已写入的行保留，其余的行尚未导入。")
            self._end(State.INTERRUPTED, message)
            raise
        finally:
            # Chunks committed before a crash are in the library too: their browse counts must not stay stale.
            if not self.dry_run and (self.totals.created or self.totals.updated):
                library_changed()
        self._finish()

    def _finish(self) -> None:
        self.totals.report.sort(key=lambda entry: entry.get("row") or 0)
        self._end(State.DONE)
        if not self.dry_run and self.totals.created + self.totals.updated >= BULK_ROWS:
            library_statistics_refresh()
        logger.info("Import batch %s done: %s", self.batch.pk, self.summary())

    def _run_all_or_nothing(self, rows: list[Row]) -> None:
        """正式导入: every chunk inside one transaction (each chunk a savepoint, so the row-by-row retry still
        works). Any error, or a row rejected that the dry run accepted (the library changed in between), rolls the
        whole file back: the batch fails with a message and the library is as it was."""
        try:
            with transaction.atomic():
                self._run_rows(rows)
                surprise = self._unchecked_rejections()
                if surprise:
                    raise _NotAsChecked(surprise)
        except LeaseLost:
            logger.warning("Import batch %s: another process took it over; this one stops", self.batch.pk)
            return
        except _NotAsChecked as exc:
            lines = "、".join(str(line) for line in exc.lines[:10])
            message = _(
                "正式导入时第 %(lines)s 行被拒绝，而试运行时没有（馆藏在试运行后有了变化）。为免只导入一部分，"
                "本次没有写入任何条目。请重新上传并试运行，查看原因后再正式导入。"
            ) % {"lines": lines}
            return self._end_rolled_back(message)
        except Exception:
            logger.exception("Import batch %s failed; nothing of it was written", self.batch.pk)
            return self._end_rolled_back(_("导入出错（原因已记入服务器日志），没有写入任何条目。请稍后重新试运行。"))
        if self.totals.created or self.totals.updated:
            library_changed()
        self._finish()

    def _unchecked_rejections(self) -> list[int]:
        """Lines this run rejected that the dry run it was confirmed from did not."""
        checked = self.batch.run_options.get("checked_rejections")
        rejected = sorted({entry.get("row") or 0 for entry in self.totals.report if entry.get("errors")})
        if checked is None:  # the dry run's report was cut short: hold it to its count
            dry = ImportBatch.objects.filter(pk=self.batch.run_options.get("confirmed_from")).first()
            return rejected if dry is None or self.rejected > dry.rejected else []
        return [line for line in rejected if line not in set(checked)]

    def _end_rolled_back(self, message: str) -> None:
        self.totals, self.rejected, self.steps, self.step_lines = Outcome(), 0, 0, []
        self._end(State.FAILED, message)

    def unit_managed(self, unit_id: int) -> bool:
        """Whether the importing user may give rows this unit (an import without a user, from the command without
        --user, is the operator's own and may)."""
        if self.user is None:
            return True
        if unit_id not in self.managed:
            self.managed[unit_id] = units_managed_by(self.user).filter(pk=unit_id).exists()
        return self.managed[unit_id]

    def summary(self) -> str:
        b = self.batch
        return f"created {b.created}, updated {b.updated}, unchanged {b.unchanged}, rejected {b.rejected}"

    # -- the batch row: owned by this process while it runs --

    def _owned(self):
        return ImportBatch.objects.filter(pk=self.batch.pk, state=State.RUNNING, lease_owner=self.owner)

    def _unreadable(self) -> str:
        if self.steps:
            return _("原文件已无法读取，不能接着导入。请重新导入同一文件：已写入的行会计为“未变”，不会重复。")
        return _("无法读取文件（原因已记入服务器日志）。")

    def _same_file(self, digest: str) -> bool:
        """The first run remembers the file's digest; a resumed one must read the same bytes."""
        known = self.batch.run_options.get("sha256")
        if known is None:
            self.batch.run_options = {**self.batch.run_options, "sha256": digest}
            self._owned().update(run_options=self.batch.run_options)
        return known in (None, digest)

    def _restore(self) -> None:
        """A resumed batch carries on with its committed counts and report; a dry run starts again."""
        b, t = self.batch, self.totals
        if self.dry_run or not self.steps:
            self.steps, self.step_lines = 0, []
            return
        t.created, t.updated, t.unchanged, t.report = b.created, b.updated, b.unchanged, list(b.report)
        self.rejected = b.rejected
        for entry in b.report:
            if entry.get("errors") and entry.get("external_id") and not entry.get("duplicate"):
                t.failed.setdefault(entry["external_id"], entry["row"])

    def _end(self, state: str, error: str = "") -> None:
        """Record how the run ended, with the committed counts (never those of a chunk that was rolled back)."""
        b, t = self.batch, self.totals
        b.created, b.updated, b.unchanged, b.rejected = t.created, t.updated, t.unchanged, self.rejected
        b.report, b.state, b.error, b.finished_at = t.report[:REPORT_LIMIT], state, error, timezone.now()
        b.steps_done, b.step_lines, b.lease_owner, b.lease_expires_at = self.steps, self.step_lines, "", None
        names = ["created", "updated", "unchanged", "rejected", "report", "state", "error", "finished_at"]
        names += ["steps_done", "step_lines", "lease_owner", "lease_expires_at", "total", "encoding", "run_options"]
        if not self._owned().update(**{name: getattr(b, name) for name in names}):
            logger.warning("Import batch %s: no longer this process's; its end (%s) is not recorded", b.pk, state)

    def _run_rows(self, rows: list[Row]) -> None:
        early, chunks = _prepass(rows)
        if self.steps == 0:
            self._commit(early, step_done=True)
        done = len(early.report)
        self._tick(done, len(rows))
        for step, indexes in enumerate(chunks, start=2):  # step 1 was the early rejections
            if step <= self.steps:
                done += len(indexes)
                continue  # committed before the interruption
            committed = set(self.step_lines)  # rows of this chunk that went in one by one before it
            todo = [i for i in indexes if rows[i].line not in committed]
            plans, outcome = self._plan_rows([rows[i] for i in todo])
            for i in indexes:
                rows[i] = None  # this chunk's raw values are no longer needed: 100,000 rows add up
            self._apply_chunk(plans, outcome)
            done += len(indexes)
            self._tick(done, len(rows))

    def _tick(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)

    # -- one chunk --

    def _plan_rows(self, rows: list[Row]) -> tuple[list[Planned], Outcome]:
        plans, outcome = [], Outcome()
        for row in rows:
            try:
                plans.append(self._plan(row))
            except RowError as exc:
                outcome.reject(row.line, row.values.get("external_id", "").strip(), exc.errors)
        return plans, outcome

    def _apply_chunk(self, plans: list[Planned], outcome: Outcome) -> None:
        """The chunk in one transaction; if the database refuses it, row by row, so one bad row costs only itself
        (with only the rows the planning rejected: what the refused attempt counted was rolled back)."""
        planned = Outcome(failed=dict(outcome.failed), report=list(outcome.report))
        try:
            with transaction.atomic():
                self._apply(plans, outcome)
                self._save(outcome, step_done=True)
        except DatabaseError:
            logger.warning("Import batch %s: a chunk failed; retrying its rows one by one", self.batch.pk)
            self._apply_rows(plans, planned)
            return
        self._merge(outcome, step_done=True)

    def _apply_rows(self, plans: list[Planned], rejected: Outcome) -> None:
        """Row by row, each row's line recorded with it, so that a resume skips exactly the rows already in."""
        self._commit(rejected, lines=[entry["row"] for entry in rejected.report])
        for plan in plans:
            outcome = Outcome()
            try:
                with transaction.atomic():
                    self._apply([plan], outcome)
                    self._save(outcome, lines=[plan.line])
            except DatabaseError as exc:
                logger.warning("Import batch %s: the database refused line %s: %s", self.batch.pk, plan.line, exc)
                outcome = Outcome()
                outcome.reject(
                    plan.line, plan.external_id, {"__all__": [_("数据库拒绝了这一行（原因已记入服务器日志）")]}
                )
                self._commit(outcome, lines=[plan.line])
                continue
            self._merge(outcome, lines=[plan.line])
        self._commit(Outcome(), step_done=True)

    def _commit(self, outcome: Outcome, *, lines: list[int] = (), step_done: bool = False) -> None:
        with transaction.atomic():
            self._save(outcome, lines=lines, step_done=step_done)
        self._merge(outcome, lines=lines, step_done=step_done)

    def _save(self, outcome: Outcome, *, lines: list[int] = (), step_done: bool = False) -> None:
        """The batch's counts, report and progress as they will be once this outcome commits, and the lease renewed;
        LeaseLost (rolling the chunk back) when another process has the batch now."""
        t, now = self.totals, timezone.now()
        fields = {
            "created": t.created + outcome.created,
            "updated": t.updated + outcome.updated,
            "unchanged": t.unchanged + outcome.unchanged,
            "rejected": self.rejected + sum(1 for entry in outcome.report if entry.get("errors")),
            "report": (t.report + outcome.report)[:REPORT_LIMIT],
            "total": self.batch.total,
            "encoding": self.batch.encoding,
            "steps_done": self.steps + 1 if step_done else self.steps,
            "step_lines": [] if step_done else [*self.step_lines, *lines],
            "finished_at": now,  # the last progress, shown while it runs
            "lease_expires_at": now + STALE_AFTER,
        }
        if not self._owned().update(**fields):
            raise LeaseLost(self.batch.pk)

    def _merge(self, outcome: Outcome, *, lines: list[int] = (), step_done: bool = False) -> None:
        t = self.totals
        t.created, t.updated, t.unchanged = t.created + outcome.created, t.updated + outcome.updated, t.unchanged
        t.unchanged += outcome.unchanged
        self.rejected += sum(1 for entry in outcome.report if entry.get("errors"))
        t.report.extend(outcome.report)
        t.done.update(outcome.done)
        t.failed.update(outcome.failed)
        self.steps, self.step_lines = (self.steps + 1, []) if step_done else (self.steps, [*self.step_lines, *lines])
        b = self.batch
        b.created, b.updated, b.unchanged, b.rejected = t.created, t.updated, t.unchanged, self.rejected

    def _apply(self, plans: list[Planned], outcome: Outcome) -> None:
        plans = self._resolve_parents(plans, outcome)
        if self.for_review:  # 导入为待审核: an editor publishes after checking; the file cannot (it may unpublish)
            for plan in plans:
                if plan.fields.get("is_published"):
                    del plan.fields["is_published"]
        existing = {
            item.external_id: item
            for item in LibraryItem.objects.filter(
                source=self.source, external_id__in=[p.external_id for p in plans]
            ).select_related("media_asset", "owning_unit")
        }
        credits, tags = current_credits_and_tags([item.pk for item in existing.values()])
        new, changed, replace_credits, replace_tags = [], [], {}, {}
        for plan in plans:
            item = existing.get(plan.external_id)
            try:
                if item is not None and not item.owning_unit.path.startswith(self.unit.path):
                    raise RowError({"external_id": [_("这个外部编号的条目属于其他单位，不能由本单位的导入更新")]})
                self._attach_files(plan, item)
                if item is None:
                    new.append(self._new_item(plan))
                    continue
            except RowError as exc:
                outcome.reject(plan.line, plan.external_id, exc.errors)
                continue
            fields, kept = item_diff(item, plan, credits.get(item.pk, []), tags.get(item.pk, set()), self.credit_labels)
            if kept:
                outcome.report.append({"row": plan.line, "external_id": plan.external_id, "kept": kept})
            if fields:
                changed.append((item, fields))
                if "creators" in fields and plan.credits is not None:
                    replace_credits[item.pk] = plan.credits
                if "tags" in fields:
                    replace_tags[item.pk] = plan.tags
            else:
                outcome.unchanged += 1
            outcome.done[plan.external_id] = item.pk
        outcome.created, outcome.updated = len(new), len(changed)
        if self.dry_run:
            self.virtual.update(plan.external_id for plan, _item in new)
            return
        self._write(new, changed, replace_credits, replace_tags, outcome)

    def _write(self, new, changed, replace_credits, replace_tags, outcome: Outcome) -> None:
        LibraryItem.objects.bulk_create([item for _plan, item in new], batch_size=CHUNK_SIZE)
        for plan, item in new:
            outcome.done[plan.external_id] = item.pk
            if plan.credits:
                replace_credits[item.pk] = plan.credits
            if plan.tags:
                replace_tags[item.pk] = plan.tags
        if changed:
            names = sorted({name for _item, fields in changed for name in fields} - {"tags"} | {"updated_at"})
            for item, _fields in changed:
                item.updated_at = self.now
            LibraryItem.objects.bulk_update([item for item, _fields in changed], names, batch_size=CHUNK_SIZE)
        existing = {item.pk for item, _fields in changed}
        credits_write(replace_credits, existing=existing)
        tags_write(replace_tags, existing=existing)
        # A series or title closed or unpublished by the file closes its episodes, issues and articles too: those
        # rows go through the service the item form and bulk actions use; the others just need their own document.
        opened = {item.pk for item, fields in changed if set(OPENING_FIELDS).intersection(fields)}
        library_items_opening_changed(item_ids=opened)
        pks = [item.pk for _plan, item in new] + [item.pk for item, _fields in changed if item.pk not in opened]
        if pks:
            from search.services import search_documents_changed

            search_documents_changed(model_label=MODEL_LABEL, pks=pks)

    def _new_item(self, plan: Planned) -> tuple[Planned, LibraryItem]:
        values = {name: value for name, value in plan.fields.items() if value != DRY_RUN_NEW}
        values.setdefault("kind", guess_kind(plan))
        values.setdefault("published_at", self.now)
        if self.for_review:
            values["is_published"] = False
        item = LibraryItem(
            **values,
            source=self.source,
            external_id=plan.external_id,
            owning_unit=self.unit,
            created_by=self.user,
            creators=credits_line(plan.credits or [], self.credit_labels),
        )
        item.year = item_year(item)
        return plan, item

    # -- parents, files --

    def _resolve_parents(self, plans: list[Planned], outcome: Outcome) -> list[Planned]:
        known = self.totals.done.keys() | self.totals.failed.keys() | self.virtual
        refs = {plan.parent_ref for plan in plans if plan.parent_ref} - known
        in_database = dict(
            LibraryItem.objects.filter(source=self.source, external_id__in=refs).values_list("external_id", "pk")
        )
        kept = []
        for plan in plans:
            ref = plan.parent_ref
            if not ref:
                if ref == "":
                    plan.fields["parent_id"] = None
                kept.append(plan)
            elif ref in self.totals.failed:
                line = self.totals.failed[ref]
                message = _("上级条目 %(ref)s（第 %(line)d 行）被拒绝") % {"ref": ref, "line": line}
                outcome.reject(plan.line, plan.external_id, {"parent_external_id": [message]})
            elif ref in self.totals.done or ref in in_database:
                plan.fields["parent_id"] = self.totals.done.get(ref) or in_database[ref]
                kept.append(plan)
            elif ref in self.virtual:
                plan.fields["parent_id"] = DRY_RUN_NEW
                kept.append(plan)
            else:
                message = _("找不到上级条目 %(ref)s（本文件和已导入的条目中都没有）") % {"ref": ref}
                outcome.reject(plan.line, plan.external_id, {"parent_external_id": [message]})
        return kept

    def _attach_files(self, plan: Planned, item: LibraryItem | None) -> None:
        if plan.file:
            asset_id = self._media_asset_id(plan.file, item, priority=plan.priority)
            if asset_id is not None:
                plan.fields["media_asset_id"] = asset_id
        if plan.cover:
            cover_id = self._cover_id(plan)
            if cover_id is not None:
                plan.fields["cover_id"] = cover_id

    def _checked_size(self, name: str, column: str) -> int:
        if self.files is None:
            raise RowError(
                {column: [_("没有指定文件所在位置：请用命令行导入并给出 --files 文件夹或 --s3-prefix 前缀")]}
            )
        size = self.files.size(name)
        if size is None:
            raise RowError({column: [_("文件不存在：%(name)s") % {"name": name}]})
        if size == 0:
            raise RowError({column: [_("文件为空（0 字节）：%(name)s") % {"name": name}]})
        if size > settings.MEDIA_UPLOAD_MAX_BYTES:
            limit = settings.MEDIA_UPLOAD_MAX_BYTES
            raise RowError({column: [_("文件超过允许的最大大小（%(limit)d 字节）") % {"limit": limit}]})
        return size

    def _media_asset_id(self, name: str, item: LibraryItem | None, *, priority: int = 0) -> int | None:
        """The file's media asset (the same bytes are one asset). A re-import of a file whose name and size match
        the item's asset is taken as the same file, so a second run does not read every master again."""
        size = self._checked_size(name, "file")
        asset = item.media_asset if item is not None else None
        if asset is not None and asset.size == size and asset.original_name == PurePosixPath(name).name:
            return asset.pk
        if self.dry_run:
            return DRY_RUN_NEW
        try:
            with self.files.open(name) as handle, transaction.atomic():
                return media_asset_create(file=handle, uploaded_by=self.user, priority=priority).pk
        except ValidationError as exc:
            raise RowError({"file": exc.messages}) from exc
        except (OSError, MediaPipelineError) as exc:
            raise RowError({"file": [_("无法读取或保存文件：%(reason)s") % {"reason": exc}]}) from exc

    def _cover_id(self, plan: Planned) -> int | None:
        """A cover image becomes a LighthouseImage in the unit's collection; the same bytes reuse one image."""
        self._checked_size(plan.cover, "cover")
        if self.dry_run:
            return DRY_RUN_NEW
        try:
            with self.files.open(plan.cover) as handle:
                if get_image_dimensions(handle) == (None, None):
                    raise RowError({"cover": [_("封面不是有效的图片：%(name)s") % {"name": plan.cover}]})
                handle.seek(0)
                digest = hash_filelike(handle)
                existing = LighthouseImage.objects.filter(file_hash=digest).values_list("pk", flat=True).first()
                if existing:
                    return existing
                handle.seek(0)
                image = LighthouseImage(
                    title=(plan.fields.get("title") or PurePosixPath(plan.cover).name)[:255],
                    file=ImageFile(handle.file, name=PurePosixPath(plan.cover).name),
                    file_hash=digest,
                    uploaded_by_user=self.user,
                )
                if self.unit.collection_id:
                    image.collection_id = self.unit.collection_id
                image.file_size = handle.size
                with transaction.atomic():
                    image.save()
                return image.pk
        except OSError as exc:
            raise RowError({"cover": [_("无法读取封面：%(reason)s") % {"reason": exc}]}) from exc

    # -- one row's values --

    def _plan(self, row: Row) -> Planned:
        values = row.values
        if row.errors:
            raise RowError(row.errors)
        errors: dict[str, list[str]] = {}
        if not self.unit_managed(self.unit.pk):
            errors["__all__"] = [_("导入者无权管理所属单位“%(unit)s”，不能导入到该单位") % {"unit": self.unit.name}]
        external_id = values.get("external_id", "").strip()
        if not external_id:
            errors["external_id"] = [_("缺少外部编号（external_id）")]
        elif len(external_id) > 128:
            errors["external_id"] = [_("外部编号不能超过 128 个字符")]
        plan = Planned(line=row.line, external_id=external_id, fields={})
        for column, raw in values.items():
            cleaner = CLEANERS.get(column)
            if cleaner is None:
                continue
            try:
                cleaner(self, plan, raw.strip())
            except ValidationError as exc:
                errors[column] = exc.messages
        if not plan.fields.get("title"):
            errors.setdefault("title", [_("缺少标题（title）")])
        if self.media and not plan.file:
            errors.setdefault("file", [_("未填写文件")])
        if plan.fields.get("access") == LibraryItem.Access.UNIT and not plan.fields.get("access_unit_id"):
            errors.setdefault("access_unit", [_("阅读权限为“指定单位”时，必须填写可阅读单位的代码（access_unit）")])
        if errors:
            raise RowError(errors)
        if "access" in plan.fields and plan.fields["access"] != LibraryItem.Access.UNIT:
            plan.fields["access_unit_id"] = None
        return plan


# --- Before the chunks: duplicates and the order parents come in -------------------------------------------------


def _prepass(rows: list[Row]) -> tuple[Outcome, list[list[int]]]:
    """Reject duplicates (the second external id or ISBN in the file) and parent cycles; order the rest so that a
    parent's chunk always comes before its children's, whatever order the file has them in."""
    early, first_id, first_isbn, index_of = Outcome(), {}, {}, {}
    for index, row in enumerate(rows):
        external_id = row.values.get("external_id", "").strip()
        isbn = _isbn_key(row.values.get("isbn", ""))
        if row.errors:
            continue  # rejected when planned (reader errors), with its line
        if external_id and external_id in first_id:
            message = _("外部编号与第 %(line)d 行重复") % {"line": first_id[external_id]}
            # Not in ``failed``: the first row with this id stands, and its children with it (also on resume).
            entry = {"row": row.line, "external_id": external_id, "errors": {"external_id": [message]}}
            early.report.append(entry | {"duplicate": True})
            continue
        if isbn and isbn in first_isbn:
            message = _("ISBN 与第 %(line)d 行重复") % {"line": first_isbn[isbn]}
            early.reject(row.line, external_id, {"isbn": [message]})
            continue
        if external_id:
            first_id[external_id], index_of[external_id] = row.line, index
        if isbn:
            first_isbn[isbn] = row.line
    depths = _depths(rows, index_of, early)
    chunks: list[list[int]] = []
    for depth in sorted(set(depths.values())):
        level = [index for index, d in depths.items() if d == depth]
        chunks += [level[start : start + CHUNK_SIZE] for start in range(0, len(level), CHUNK_SIZE)]
    return early, chunks


def _depths(rows: list[Row], index_of: dict[str, int], early: Outcome) -> dict[int, int]:
    """How many of a row's ancestors are in this file; rows in a parent cycle, or under one, are rejected."""
    rejected = {entry["row"] for entry in early.report}
    depths: dict[int, int] = {}
    for start, row in enumerate(rows):
        if start in depths or row.line in rejected:
            continue
        chain, index = [], start
        while index is not None and index not in depths and index not in chain:
            chain.append(index)
            parent = rows[index].values.get("parent_external_id", "").strip()
            index = index_of.get(parent) if parent else None
        if index is not None and (index in chain or depths[index] < 0):
            for member in chain:
                values = rows[member].values
                message = _("上级关系成环（条目最终成了自己的上级）")
                early.reject(
                    rows[member].line, values.get("external_id", "").strip(), {"parent_external_id": [message]}
                )
                depths[member] = -1
            continue
        depth = depths[index] + 1 if index is not None else 0
        for member in reversed(chain):
            depths[member], depth = depth, depth + 1
    return {index: depth for index, depth in depths.items() if depth >= 0}


def _isbn_key(raw: str) -> str:
    if not raw.strip():
        return ""
    try:
        return isbn_normalise(raw)
    except ValidationError:
        return ""
