"""Bulk ingest of masters: ``media_ingest --folder PATH | --s3-prefix PREFIX [--manifest FILE] [--dry-run]``.

Exits with status 1 when any row was rejected (the reasons are in the ``--report`` CSV), so a script notices.
Without ``--manifest`` every file under the folder or prefix is one row.
"""

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from media_pipeline.uploads.ingest import (
    FolderSource,
    IngestReport,
    ManifestError,
    ManifestRow,
    RowResult,
    StorageSource,
    manifest_from_source,
    manifest_read,
    media_ingest,
    report_write_rejections,
    report_write_results,
)

# A report the editor opens in Excel on Chinese Windows: with a BOM, Excel reads it as UTF-8.
REPORT_ENCODING = "utf-8-sig"


class Command(BaseCommand):
    help = "从文件夹或存储（S3）前缀批量导入音视频母版，可按清单（CSV/JSON）逐行导入"

    def add_arguments(self, parser):
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--folder", type=Path, help="本地文件夹")
        where.add_argument("--s3-prefix", help="已配置存储（S3 存储桶）中的前缀")
        parser.add_argument(
            "--manifest", type=Path, help="清单文件 .csv 或 .json（列：file,title,kind,external_id,priority）"
        )
        parser.add_argument("--dry-run", action="store_true", help="只检查，不导入")
        parser.add_argument(
            "--report", type=Path, default=Path("media_ingest_rejected.csv"), help="被拒绝行的报告（CSV）"
        )
        parser.add_argument("--results", type=Path, help="所有行及其媒体文件 ID（CSV），供关联图书馆条目")
        parser.add_argument("--user", help="记为上传者的用户名")

    def handle(self, *args, folder=None, s3_prefix=None, manifest=None, dry_run=False, **options):
        source = self._source(folder, s3_prefix)
        try:
            rows = manifest_read(data=manifest.read_bytes(), name=manifest.name) if manifest else None
        except (OSError, ManifestError) as exc:
            report = _unreadable_manifest(manifest, exc)
        else:
            rows = rows if rows is not None else manifest_from_source(source=source)
            report = media_ingest(
                source=source,
                rows=rows,
                uploaded_by=self._user(options.get("user")),
                dry_run=dry_run,
                on_progress=_progress_line,
            )
        self._write_reports(report, options["report"], options.get("results"))
        if report.rejected:
            # Non-zero exit: a script or CI step running the ingest notices.
            raise CommandError(f"{len(report.rejected)} 行被拒绝，原因见 {options['report']}", returncode=1)

    def _source(self, folder: Path | None, s3_prefix: str | None):
        if folder is None:
            return StorageSource(s3_prefix)
        if not folder.is_dir():
            raise CommandError(f"文件夹不存在：{folder}")
        return FolderSource(folder)

    def _user(self, username: str | None):
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"用户不存在：{username}") from exc

    def _write_reports(self, report: IngestReport, report_path: Path, results_path: Path | None) -> None:
        counts = {}
        for result in report.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        summary = "，".join(f"{status} {count}" for status, count in sorted(counts.items())) or "没有可导入的行"
        self.stdout.write(("（试运行）" if report.dry_run else "") + f"导入完成：{summary}")
        if report.rejected:
            with report_path.open("w", encoding=REPORT_ENCODING, newline="") as stream:
                report_write_rejections(report=report, stream=stream)
        if results_path is not None:
            with results_path.open("w", encoding=REPORT_ENCODING, newline="") as stream:
                report_write_results(report=report, stream=stream)


def _unreadable_manifest(manifest: Path, exc: Exception) -> IngestReport:
    row = ManifestRow(line=0, file=str(manifest))
    return IngestReport(results=[RowResult(row=row, status="rejected", reason=f"无法读取清单：{exc}")])


def _progress_line(done: int, total: int, row: ManifestRow) -> None:
    # tqdm is not installed: one line, rewritten in place on a terminal.
    percent = done * 100 // total if total else 100
    end = "\n" if done == total or not sys.stderr.isatty() else ""
    sys.stderr.write(f"\r[{done}/{total}] {percent:3d}% {row.file[:60]}{end}")
    sys.stderr.flush()
