"""Bulk ingest of masters from a folder or a storage (S3) prefix, row by row from a manifest.

Each accepted row becomes a MediaAsset through ``media_asset_create`` (SHA-256 dedupe, so running the same
manifest twice creates nothing new). Rejected rows are reported with a Chinese reason, never raised. The result
maps ``external_id → asset id``: linking assets to library items is the library's job, on top of this seam.
"""

import csv
import io
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import MediaPipelineError

logger = logging.getLogger(__name__)

MANIFEST_COLUMNS = ("file", "title", "kind", "external_id", "priority")
# UTF-8 (Excel adds a BOM) first; GB18030 (a superset of GBK/GB2312) is what Chinese Windows Excel writes.
MANIFEST_ENCODINGS = ("utf-8-sig", "gb18030")


class ManifestError(Exception):
    """The manifest as a whole cannot be read: nothing is ingested."""


@dataclass(frozen=True)
class ManifestRow:
    line: int  # CSV line (header is 1) or JSON entry number: what the editor looks up in the file
    file: str
    title: str = ""
    kind: str = ""
    external_id: str = ""
    priority: str = ""


@dataclass
class RowResult:
    row: ManifestRow
    status: str  # "created", "existing", "ok" (dry run) or "rejected"
    asset_id: int | None = None
    reason: str = ""


@dataclass
class IngestReport:
    results: list[RowResult] = field(default_factory=list)
    dry_run: bool = False

    @property
    def rejected(self) -> list[RowResult]:
        return [r for r in self.results if r.status == "rejected"]

    @property
    def asset_ids(self) -> dict[str, int]:
        """external_id → MediaAsset id for every ingested row that has one: the library links items from this."""
        return {r.row.external_id: r.asset_id for r in self.results if r.row.external_id and r.asset_id}


# --- Sources -------------------------------------------------------------------------------------------


class FolderSource:
    """Files under a local folder; manifest paths are relative to it and may not leave it."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def names(self) -> list[str]:
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())

    def size(self, name: str) -> int | None:
        path = self._path(name)
        return path.stat().st_size if path is not None and path.is_file() else None

    def open(self, name: str) -> File:
        return File(self._path(name).open("rb"), name=PurePosixPath(name).name)

    def _path(self, name: str) -> Path | None:
        path = (self.root / name).resolve()
        return path if path.is_relative_to(self.root) else None


class StorageSource:
    """Objects under a prefix of a Django storage: the configured S3 bucket in production."""

    def __init__(self, prefix: str, storage: Storage | None = None):
        self.prefix = prefix.strip("/")
        self.storage = storage or default_storage

    def names(self) -> list[str]:
        return sorted(self._walk(self.prefix))

    def size(self, name: str) -> int | None:
        key = self._key(name)
        if key is None or not self.storage.exists(key):
            return None
        return self.storage.size(key)

    def open(self, name: str) -> File:
        handle = self.storage.open(self._key(name), "rb")
        return File(handle, name=PurePosixPath(name).name)

    def _key(self, name: str) -> str | None:
        if ".." in PurePosixPath(name).parts:
            return None
        return f"{self.prefix}/{name.lstrip('/')}" if self.prefix else name.lstrip("/")

    def _walk(self, folder: str, relative: str = "") -> Iterable[str]:
        folders, files = self.storage.listdir(folder)
        for name in files:
            yield f"{relative}{name}"
        for sub in folders:
            yield from self._walk(f"{folder}/{sub}" if folder else sub, f"{relative}{sub}/")


# --- Manifest ------------------------------------------------------------------------------------------


def manifest_read(*, data: bytes, name: str) -> list[ManifestRow]:
    """Rows of a CSV or JSON manifest, whatever its encoding (UTF-8 with/without BOM, GB18030)."""
    text = _decode(data)
    rows = _json_rows(text) if name.lower().endswith(".json") else _csv_rows(text)
    return [_row(line, raw) for line, raw in rows]


def manifest_from_source(*, source) -> list[ManifestRow]:
    """No manifest: every file of the source is one row, named by its path."""
    return [ManifestRow(line=index, file=name) for index, name in enumerate(source.names(), start=1)]


def _decode(data: bytes) -> str:
    for encoding in MANIFEST_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ManifestError(_("无法识别清单文件的编码（请保存为 UTF-8 或 GB18030）"))


def _csv_rows(text: str) -> list[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(text))
    headers = [(h or "").strip().lower() for h in reader.fieldnames or []]
    if "file" not in headers:
        raise ManifestError(_("清单缺少 file 列"))
    reader.fieldnames = headers
    try:
        return [(index, raw) for index, raw in enumerate(reader, start=2)]
    except csv.Error as exc:
        raise ManifestError(_("清单不是有效的 CSV：%(reason)s") % {"reason": exc}) from exc


def _json_rows(text: str) -> list[tuple[int, dict]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(_("清单不是有效的 JSON：%(reason)s") % {"reason": exc}) from exc
    entries = data.get("items") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ManifestError(_("JSON 清单应是对象列表（或含 items 列表的对象）"))
    return list(enumerate(entries, start=1))


def _row(line: int, raw: dict) -> ManifestRow:
    values = {key: str(raw.get(key) if raw.get(key) is not None else "").strip() for key in MANIFEST_COLUMNS}
    return ManifestRow(line=line, **values)


# --- Ingest --------------------------------------------------------------------------------------------


def media_ingest(
    *,
    source,
    rows: list[ManifestRow],
    uploaded_by=None,
    dry_run: bool = False,
    on_progress: Callable[[int, int, ManifestRow], None] | None = None,
) -> IngestReport:
    """Check every row, then (unless a dry run) create its MediaAsset; one row's failure never stops the rest."""
    report, seen, started = IngestReport(dry_run=dry_run), {}, timezone.now()
    for done, row in enumerate(rows, start=1):
        reason = _rejection(source, row, seen)
        if reason:
            report.results.append(RowResult(row=row, status="rejected", reason=reason))
        elif dry_run:
            report.results.append(RowResult(row=row, status="ok"))
        else:
            report.results.append(_ingest_row(source, row, uploaded_by, started))
        if row.external_id:
            seen.setdefault(row.external_id, row.line)
        if on_progress is not None:
            on_progress(done, len(rows), row)
    return report


def _rejection(source, row: ManifestRow, seen: dict[str, int]) -> str:
    if row.external_id and row.external_id in seen:
        return _("清单中 external_id 重复（第 %(line)d 行已使用）") % {"line": seen[row.external_id]}
    if not row.file:
        return _("未填写文件")
    if row.priority and not row.priority.lstrip("-").isdigit():
        return _("优先级必须是整数")
    size = source.size(row.file)
    if size is None:
        return _("文件不存在")
    if size == 0:
        return _("文件为空（0 字节）")
    if size > settings.MEDIA_UPLOAD_MAX_BYTES:
        return _("文件超过允许的最大大小（%(limit)d 字节）") % {"limit": settings.MEDIA_UPLOAD_MAX_BYTES}
    return ""


def _ingest_row(source, row: ManifestRow, uploaded_by, started) -> RowResult:
    from ..services import media_asset_create  # services pulls in the whole pipeline; import when used

    try:
        with source.open(row.file) as file, transaction.atomic():
            asset = media_asset_create(file=file, uploaded_by=uploaded_by, priority=int(row.priority or 0))
    except ValidationError as exc:
        return RowResult(row=row, status="rejected", reason=" ".join(exc.messages))
    except (OSError, MediaPipelineError) as exc:
        logger.warning("Ingest of %s failed: %r", row.file, exc)
        return RowResult(row=row, status="rejected", reason=_("无法读取或保存文件：%(reason)s") % {"reason": exc})
    # The dedupe returned an asset made before this run: the row was ingested on an earlier run.
    status = "existing" if asset.created_at < started else "created"
    return RowResult(row=row, status=status, asset_id=asset.pk)


def report_write_rejections(*, report: IngestReport, stream) -> None:
    """The rejected rows as CSV (line, file, external_id, reason) for the editor to fix and run again."""
    writer = csv.writer(stream)
    writer.writerow(["line", "file", "external_id", "reason"])
    for result in report.rejected:
        writer.writerow([result.row.line, result.row.file, result.row.external_id, result.reason])


def report_write_results(*, report: IngestReport, stream) -> None:
    """Every row with its asset id: the ``external_id → asset id`` map the library links items from."""
    writer = csv.writer(stream)
    writer.writerow(["line", "file", "external_id", "title", "kind", "status", "asset_id", "reason"])
    for r in report.results:
        row = r.row
        writer.writerow(
            [row.line, row.file, row.external_id, row.title, row.kind, r.status, r.asset_id or "", r.reason]
        )
