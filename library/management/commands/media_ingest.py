"""Bulk ingest of programmes: ``media_ingest --folder DIR | --s3-prefix PREFIX --unit CODE [--manifest FILE]
[--source NAME] [--dry-run] [--wait [--timeout SECONDS]] [--report out.csv] [--user NAME]``.

Every row becomes (or updates) a library item with its metadata, linked to its master's media asset: the manifest
goes through the catalogue importer (``library_import``'s columns: title, kind, summary/description, creators,
tags, parent_external_id for a series, access…, plus file and priority). Without a manifest every file under the
folder or prefix is one row. A row is known by its external_id, or by its file's path when it has none, so a run
again updates the same items; the same bytes are one asset. A rejected row writes nothing.

``--wait`` waits for the transcodes (a progress line, at most ``--timeout`` seconds). The ``--report`` CSV has
every row's state: ready, failed (with the editor's reason), rejected, or still pending/processing without
``--wait``. Exits with status 1 when any row was rejected, failed or did not finish in time, so a script notices.

The command lives in the library because it makes items; the media pipeline knows no item (import contracts).
"""

import sys
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cms.selectors import unit_by_code
from library.imports import media
from library.imports.importer import import_file
from library.models import ImportBatch
from media_pipeline.services import FolderSource, StorageSource

# A report the editor opens in Excel on Chinese Windows: with a BOM, Excel reads it as UTF-8.
REPORT_ENCODING = "utf-8-sig"
DEFAULT_SOURCE = "media_ingest"
DEFAULT_TIMEOUT_S = 6 * 3600  # a night's archive: after that the report says which rows are still running


class Command(BaseCommand):
    help = "从文件夹或存储（S3）前缀批量导入节目：按清单逐行新建或更新馆藏条目并转码，可等待转码完成并报告每行结果"

    def add_arguments(self, parser):
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--folder", type=Path, help="本地文件夹")
        where.add_argument("--s3-prefix", help="已配置存储（S3 存储桶）中的前缀")
        parser.add_argument("--unit", required=True, help="条目所属单位的代码")
        parser.add_argument(
            "--manifest",
            type=Path,
            help="清单文件 .csv、.xlsx 或 .json（列：file,title,kind,external_id,priority 及馆藏导入的各列）",
        )
        parser.add_argument("--source", default=DEFAULT_SOURCE, help="来源名称（与外部编号一起识别条目）")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        parser.add_argument("--wait", action="store_true", help="等待转码完成，报告每行的最终结果")
        parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="--wait 最多等待的秒数")
        parser.add_argument(
            "--report", type=Path, default=Path("media_ingest_report.csv"), help="每行结果的报告（CSV）"
        )
        parser.add_argument("--user", help="记为导入者的用户名")

    def handle(self, *args, folder=None, s3_prefix=None, manifest=None, **options):
        if folder is not None and not folder.is_dir():
            raise CommandError(f"文件夹不存在：{folder}")
        if manifest is not None and not manifest.is_file():
            raise CommandError(f"清单文件不存在：{manifest}")
        unit = unit_by_code(options["unit"])
        if unit is None:
            raise CommandError(f"找不到单位代码：{options['unit']}")
        source = options["source"].strip()
        if not source or len(source) > 64:
            raise CommandError("来源名称应为 1 到 64 个字符")
        listing = (
            None if manifest is not None else _listing(FolderSource(folder) if folder else StorageSource(s3_prefix))
        )
        batch = self._import(manifest or listing, source, unit, folder, s3_prefix, options)
        states = media.ingest_states(batch=batch) if batch.state == ImportBatch.State.DONE else []
        if listing is not None:
            # Read twice, then done with (kept only when the import crashed: ``library_import --resume`` reads it,
            # and the work folder's sweep removes it later).
            listing.unlink(missing_ok=True)
        if batch.state != ImportBatch.State.DONE:
            raise CommandError(f"清单无法导入（批次 #{batch.pk}）：{batch.error}", returncode=1)
        if options["wait"] and not batch.dry_run:
            media.ingest_wait(states=states, timeout_s=options["timeout"], on_progress=_WaitLine())
        self._finish(batch, states, options["report"])

    def _import(self, path: Path, source: str, unit, folder, s3_prefix, options) -> ImportBatch:
        with tqdm(total=None, unit="行", file=self.stderr._out, disable=None) as bar:
            return import_file(
                path=path,
                file_format=None,
                source=source,
                unit=unit,
                user=self._user(options.get("user")),
                dry_run=options["dry_run"],
                files_root=folder,
                s3_prefix=s3_prefix,
                media=True,
                progress=lambda done, total: _advance(bar, done, total),
            )

    def _user(self, username: str | None):
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"用户不存在：{username}") from exc

    def _finish(self, batch: ImportBatch, states: list, report: Path) -> None:
        with report.open("w", encoding=REPORT_ENCODING, newline="") as stream:
            media.ingest_report_write(states=states, stream=stream)
        counts = media.ingest_counts(states)
        summary = "，".join(f"{media.STATE_LABELS[state]} {count}" for state, count in sorted(counts.items()))
        prefix = "（试运行，未写入）" if batch.dry_run else ""
        self.stdout.write(
            f"{prefix}导入完成（批次 #{batch.pk}）：共 {len(states)} 行，新增条目 {batch.created}，"
            f"更新 {batch.updated}，未变 {batch.unchanged}；{summary or '没有可导入的行'}。每行结果见 {report}"
        )
        failing = sum(counts.get(state, 0) for state in media.FAILING)
        if failing:
            # Non-zero exit: a script or CI step running the ingest notices.
            raise CommandError(f"{failing} 行未成功（被拒绝、转码失败或等待超时），原因见 {report}", returncode=1)


def _listing(source) -> Path:
    """The folder's (or prefix's) files as a one-column manifest, kept in the work folder while the import runs."""
    folder = Path(settings.MEDIA_WORK_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ingest-{uuid.uuid4().hex}.csv"
    path.write_bytes(media.manifest_listing(names=source.names()))
    return path


def _advance(bar: tqdm, done: int, total: int) -> None:
    bar.total = total
    bar.update(done - bar.n)


class _WaitLine:
    """One line, rewritten in place on a terminal (elsewhere, a new line only when the counts change): how many
    rows are final, and how many of each state."""

    def __init__(self):
        self.last = ""

    def __call__(self, states: list) -> None:
        counts = media.ingest_counts(states)
        final = sum(counts.get(state, 0) for state in media.FINAL)
        detail = "，".join(f"{media.STATE_LABELS[state]} {count}" for state, count in sorted(counts.items()))
        percent = final * 100 // len(states) if states else 100
        line = f"等待转码 [{final}/{len(states)}] {percent:3d}% {detail}"
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{line}" + ("\n" if final == len(states) else ""))
        elif line != self.last:
            sys.stderr.write(f"{line}\n")
        self.last = line
        sys.stderr.flush()
