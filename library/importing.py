"""Bulk import of library items from CSV, JSON and MARC files: command line and admin screen both land here.

A run is idempotent by (source, external_id): new rows are created, changed rows updated field by field, the rest
counted unchanged, and fields an editor changed by hand (``item.edited_fields``) are kept as the editor left them.
Rows go in by chunks of ``CHUNK_SIZE``, parents before children, each chunk in one transaction with the batch's
counts and row report, so a crash leaves a true account of what got in. Bulk writes send no ``post_save``: search's
outbox is told of the rows explicitly, and browse counts are refreshed once per batch.

Stale batches: while a batch runs, ``finished_at`` holds the time of its last saved chunk (its heartbeat; the model
has no separate field for it). A running batch that has read its file (``total > 0``) and saved nothing for
``STALE_AFTER`` is taken for dead, and so is a queued one (``total == 0``) that no worker started within
``QUEUED_STALE_AFTER``: every run, from the command or the admin, first marks such batches failed. Rows a dead
batch committed stay; importing the file again skips them as unchanged.

Each column's checks and the words they understand are in ``import_columns``; comparing a row with the stored item
and the bulk writes of credits and tags are in ``import_writes``.
"""

import csv
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.images import ImageFile, get_image_dimensions
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.utils.file import hash_filelike

from cms.models import LighthouseImage, OrgUnit
from cms.selectors import units_managed_by
from media_pipeline.errors import MediaPipelineError
from media_pipeline.ingest import FolderSource, StorageSource

from .identifiers import isbn_normalise
from .import_columns import CLEANERS, Planned, choice_maps, guess_kind
from .import_readers import ImportReadError, Row, format_from_name, read_rows
from .import_writes import DRY_RUN_NEW, credits_line, credits_write, current_credits_and_tags, item_diff, tags_write
from .models import ImportBatch, ItemCredit, LibraryItem
from .services import item_year, library_changed

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1000
REPORT_LIMIT = 50_000  # report entries kept; a file rejected wholesale should not make a 100 MB JSON column
STALE_AFTER = timedelta(minutes=15)
QUEUED_STALE_AFTER = timedelta(hours=24)
MODEL_LABEL = "library.libraryitem"
SAVED_FIELDS = ["created", "updated", "unchanged", "rejected", "report", "total", "encoding", "finished_at"]
Progress = Callable[[int, int], object]


class RowError(Exception):
    """One row cannot go in: ``errors`` is {column: [messages]}."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


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
) -> ImportBatch:
    """Import a catalogue file; returns its batch (state done, or failed with ``error`` when the file as a whole
    could not be read). ``files_root`` (a folder) or ``s3_prefix`` is where the rows' ``file``/``cover`` paths are."""
    path = Path(path)
    import_batches_fail_stale()
    batch = ImportBatch.objects.create(
        source=source,
        file_name=path.name[:255],
        file_format=file_format or format_from_name(path.name),
        dry_run=dry_run,
        owning_unit=unit,
        started_by=user if getattr(user, "is_authenticated", False) else None,
        finished_at=timezone.now(),
    )
    files = FolderSource(Path(files_root)) if files_root else StorageSource(s3_prefix) if s3_prefix else None
    _Import(batch=batch, files=files, progress=progress).run(path=path, encoding=encoding)
    return batch


def import_batch_queue(*, upload, file_format: str, source: str, unit: OrgUnit, user, dry_run: bool) -> ImportBatch:
    """An editor's upload from the admin: keep the file in the work folder and run it in the background."""
    from .tasks import import_batch_run_task

    folder = Path(settings.MEDIA_WORK_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}{PurePosixPath(upload.name).suffix.lower()[:10]}"
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            source=source,
            file_name=PurePosixPath(upload.name).name[:255],
            file_format=file_format if file_format != "auto" else format_from_name(upload.name),
            dry_run=dry_run,
            owning_unit=unit,
            started_by=user,
            finished_at=timezone.now(),
        )
        transaction.on_commit(lambda: import_batch_run_task.enqueue(batch.pk, str(target)))
    return batch


def import_batch_run_saved(*, batch_id: int, path: str) -> None:
    """Run a batch queued from the admin. Admin imports carry no media files (no folder or prefix to find them
    in): a row naming a ``file`` or ``cover`` is rejected with a message that says to use the command."""
    import_batches_fail_stale()
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    try:
        if batch is None or batch.state != ImportBatch.State.RUNNING:
            logger.warning("Import batch %s is not waiting to run; skipped", batch_id)
            return
        _Import(batch=batch, files=None, progress=None).run(path=Path(path), encoding=None)
    finally:
        Path(path).unlink(missing_ok=True)


def import_batches_fail_stale(*, now: datetime | None = None) -> int:
    """Mark batches whose process died as failed (see the module's note on heartbeats); returns how many."""
    now = now or timezone.now()
    running = ImportBatch.objects.filter(state=ImportBatch.State.RUNNING)
    stale = running.filter(total__gt=0, finished_at__lt=now - STALE_AFTER) | running.filter(
        total=0, finished_at__lt=now - QUEUED_STALE_AFTER
    )
    message = _("导入进程中断（长时间没有进展）。已写入的行保留；再次导入同一文件会跳过未变的行。")
    return stale.update(state=ImportBatch.State.FAILED, error=message, finished_at=now)


# --- Reading the batch's report ----------------------------------------------------------------------------------


def batch_rejections(batch: ImportBatch) -> list[dict]:
    return [entry for entry in batch.report if entry.get("errors")]


def batch_kept(batch: ImportBatch) -> list[dict]:
    """Rows where a field an editor changed by hand was kept instead of the file's value."""
    return [entry for entry in batch.report if entry.get("kept")]


def report_write_rejections(*, batch: ImportBatch, stream) -> None:
    """The rejected rows as CSV (row, external_id, reasons), for the editor to fix and import again."""
    writer = csv.writer(stream)
    writer.writerow(["row", "external_id", "errors"])
    for entry in batch_rejections(batch):
        reasons = "；".join(
            f"{column}: {' '.join(messages)}" if column != "__all__" else " ".join(messages)
            for column, messages in entry["errors"].items()
        )
        writer.writerow([entry.get("row") or "", entry.get("external_id") or "", reasons])


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
    def __init__(self, *, batch: ImportBatch, files, progress: Progress | None):
        self.batch, self.files, self.progress = batch, files, progress
        self.source, self.dry_run = batch.source, batch.dry_run
        self.now = timezone.now()
        self.totals = Outcome()
        self.rejected = 0
        self.user = batch.started_by
        self.unit = batch.owning_unit
        self.unit_ids: dict[str, int | None] = {}  # access_unit codes seen so far (the tree may be large)
        self.managed: dict[int, bool] = {}  # unit id → whether the importing user manages it
        self.virtual: set[str] = set()  # dry run: rows of this file that would have gone in
        self.choices = choice_maps()
        self.credit_labels = {value: str(label) for value, label in ItemCredit.Role.choices}

    def run(self, *, path: Path, encoding: str | None) -> None:
        logger.info("Import batch %s (%s, source %s) started", self.batch.pk, path.name, self.source)
        try:
            rows, used = read_rows(data=path.read_bytes(), file_format=self.batch.file_format, encoding=encoding)
        except (ImportReadError, OSError) as exc:
            return self._fail(str(exc) if isinstance(exc, ImportReadError) else _("无法读取文件：%s") % exc)
        self.batch.encoding, self.batch.total = used, len(rows)
        try:
            self._run_rows(rows)
        except Exception as exc:
            logger.exception("Import batch %s failed", self.batch.pk)
            self._fail(_("导入中断：%(reason)s。已写入的行保留。") % {"reason": exc})
            raise
        finally:
            # Chunks committed before a crash are in the library too: their browse counts must not stay stale.
            if not self.dry_run and (self.totals.created or self.totals.updated):
                library_changed()
        self.batch.state, self.batch.finished_at = ImportBatch.State.DONE, timezone.now()
        self.batch.report = sorted(self.batch.report, key=lambda entry: entry.get("row") or 0)
        self.batch.save()
        logger.info("Import batch %s done: %s", self.batch.pk, self.summary())

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

    def _fail(self, message: str) -> None:
        self.batch.refresh_from_db(fields=["created", "updated", "unchanged", "rejected", "report"])
        self.batch.state, self.batch.error, self.batch.finished_at = ImportBatch.State.FAILED, message, timezone.now()
        self.batch.save()

    def _run_rows(self, rows: list[Row]) -> None:
        early, chunks = _prepass(rows)
        self._commit(early)
        done = len(early.report)
        self._tick(done, len(rows))
        for indexes in chunks:
            plans, outcome = self._plan_rows([rows[i] for i in indexes])
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
        """The chunk in one transaction; if the database refuses it, row by row, so one bad row costs only itself."""
        try:
            with transaction.atomic():
                self._apply(plans, outcome)
                self._save(outcome)
        except DatabaseError:
            logger.warning("Import batch %s: a chunk failed; retrying its rows one by one", self.batch.pk)
            self._apply_rows(plans, outcome)
            return
        self._merge(outcome)

    def _apply_rows(self, plans: list[Planned], rejected: Outcome) -> None:
        self._commit(rejected)
        for plan in plans:
            outcome = Outcome()
            try:
                with transaction.atomic():
                    self._apply([plan], outcome)
                    self._save(outcome)
            except DatabaseError as exc:
                outcome = Outcome()
                outcome.reject(plan.line, plan.external_id, {"__all__": [_("数据库拒绝了这一行：%s") % exc]})
                self._commit(outcome)
                continue
            self._merge(outcome)

    def _commit(self, outcome: Outcome) -> None:
        with transaction.atomic():
            self._save(outcome)
        self._merge(outcome)

    def _save(self, outcome: Outcome) -> None:
        b, t = self.batch, self.totals
        b.created, b.updated, b.unchanged = t.created + outcome.created, t.updated + outcome.updated, t.unchanged
        b.unchanged += outcome.unchanged
        b.rejected = self.rejected + sum(1 for entry in outcome.report if entry.get("errors"))
        b.report = (t.report + outcome.report)[:REPORT_LIMIT]
        b.finished_at = timezone.now()  # the heartbeat while running
        b.save(update_fields=SAVED_FIELDS)

    def _merge(self, outcome: Outcome) -> None:
        t = self.totals
        t.created, t.updated, t.unchanged = t.created + outcome.created, t.updated + outcome.updated, t.unchanged
        t.unchanged += outcome.unchanged
        self.rejected += sum(1 for entry in outcome.report if entry.get("errors"))
        t.report.extend(outcome.report)
        t.done.update(outcome.done)
        t.failed.update(outcome.failed)

    def _apply(self, plans: list[Planned], outcome: Outcome) -> None:
        plans = self._resolve_parents(plans, outcome)
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
        pks = [item.pk for _plan, item in new] + [item.pk for item, _fields in changed]
        if pks:
            from search.services import search_documents_changed

            search_documents_changed(model_label=MODEL_LABEL, pks=pks)

    def _new_item(self, plan: Planned) -> tuple[Planned, LibraryItem]:
        values = {name: value for name, value in plan.fields.items() if value != DRY_RUN_NEW}
        values.setdefault("kind", guess_kind(plan))
        values.setdefault("published_at", self.now)
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
            asset_id = self._media_asset_id(plan.file, item)
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

    def _media_asset_id(self, name: str, item: LibraryItem | None) -> int | None:
        """The file's media asset (the same bytes are one asset). A re-import of a file whose name and size match
        the item's asset is taken as the same file, so a second run does not read every master again."""
        size = self._checked_size(name, "file")
        asset = item.media_asset if item is not None else None
        if asset is not None and asset.size == size and asset.original_name == PurePosixPath(name).name:
            return asset.pk
        if self.dry_run:
            return DRY_RUN_NEW
        from media_pipeline.services import media_asset_create  # pulls in the whole pipeline: import when used

        try:
            with self.files.open(name) as handle, transaction.atomic():
                return media_asset_create(file=handle, uploaded_by=self.user).pk
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
            early.report.append({"row": row.line, "external_id": external_id, "errors": {"external_id": [message]}})
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
