"""Bulk import of library items: ``library_import FILE --source NAME --unit CODE [--format csv|json|marc|marcxml]
[--encoding auto|utf-8|gb18030] [--files DIR | --s3-prefix PREFIX] [--dry-run] [--report out.csv]``, or
``library_import --resume BATCH_ID [--report out.csv]`` to continue an interrupted batch from its first uncommitted
chunk (same file, same options).

Exits with status 1 when any row was rejected (the reasons are in the ``--report`` CSV and the batch's report in
the admin), so a script notices, like ``media_ingest``.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cms.selectors import unit_by_code
from library.imports.importer import batch_kept, import_batch_resume, import_file, report_write_rejections
from library.imports.readers import ENCODINGS, FORMATS
from library.models import ImportBatch

# A report the editor opens in Excel on Chinese Windows: with a BOM, Excel reads it as UTF-8.
REPORT_ENCODING = "utf-8-sig"


class Command(BaseCommand):
    help = "从 CSV、JSON、MARC（MARC21/CNMARC）或 MARCXML 文件批量导入馆藏条目；按来源和外部编号去重，可重复运行"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, nargs="?", help="要导入的文件")
        parser.add_argument("--resume", type=int, metavar="BATCH_ID", help="继续一个中断的导入批次（同一文件）")
        parser.add_argument("--source", help="来源名称（与外部编号一起识别条目，如 cnki、library-2026）")
        parser.add_argument("--unit", help="条目所属单位的代码")
        parser.add_argument("--format", choices=FORMATS, help="文件格式（默认按扩展名判断）")
        parser.add_argument("--encoding", choices=ENCODINGS, default="auto", help="文本编码（默认自动识别）")
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--files", type=Path, help="file、cover 列中路径所在的本地文件夹")
        where.add_argument("--s3-prefix", help="file、cover 列中路径所在的存储（S3）前缀")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        parser.add_argument("--report", type=Path, help="被拒绝行的报告（CSV）")
        parser.add_argument("--user", help="记为导入者的用户名")

    def handle(self, *args, file: Path | None, source: str | None, unit: str | None, **options):
        if options.get("resume") is not None:
            return self._resume(options["resume"], options.get("report"))
        if file is None or not source or not unit:
            raise CommandError("请给出要导入的文件、--source 和 --unit，或用 --resume 继续中断的批次")
        if not file.is_file():
            raise CommandError(f"文件不存在：{file}")
        if options.get("files") is not None and not options["files"].is_dir():
            raise CommandError(f"文件夹不存在：{options['files']}")
        if len(source) > 64 or not source.strip():
            raise CommandError("来源名称应为 1 到 64 个字符")
        owning_unit = unit_by_code(unit)
        if owning_unit is None:
            raise CommandError(f"找不到单位代码：{unit}")
        with tqdm(total=None, unit="行", file=self.stderr._out, disable=None) as bar:
            batch = import_file(
                path=file,
                file_format=options.get("format"),
                source=source.strip(),
                unit=owning_unit,
                user=self._user(options.get("user")),
                dry_run=options["dry_run"],
                files_root=options.get("files"),
                s3_prefix=options.get("s3_prefix"),
                encoding=options["encoding"],
                progress=lambda done, total: _advance(bar, done, total),
            )
        self._finish(batch, options.get("report"))

    def _resume(self, batch_id: int, report: Path | None) -> None:
        with tqdm(total=None, unit="行", file=self.stderr._out, disable=None) as bar:
            batch = import_batch_resume(batch_id=batch_id, progress=lambda done, total: _advance(bar, done, total))
        if batch is None:
            raise CommandError(f"批次 #{batch_id} 不存在、已结束或仍在运行，不能继续")
        self._finish(batch, report)

    def _user(self, username: str | None):
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"用户不存在：{username}") from exc

    def _finish(self, batch: ImportBatch, report: Path | None) -> None:
        if report is not None:
            with report.open("w", encoding=REPORT_ENCODING, newline="") as stream:
                report_write_rejections(batch=batch, stream=stream)
        if batch.state != ImportBatch.State.DONE:
            raise CommandError(
                f"导入未完成（批次 #{batch.pk}，{batch.get_state_display()}）：{batch.error}", returncode=1
            )
        unknown = (batch.run_options or {}).get("unknown_columns")
        if unknown:  # said, not dropped silently: a misspelt header would otherwise lose its whole column
            self.stderr.write(f"注意：文件中有 {len(unknown)} 列无法识别，这些列不会导入：{'、'.join(unknown)}")
        prefix = "（试运行，未写入）" if batch.dry_run else ""
        self.stdout.write(
            f"{prefix}导入完成（批次 #{batch.pk}，编码 {batch.encoding or '-'}）：共 {batch.total} 行，"
            f"新增 {batch.created}，更新 {batch.updated}，未变 {batch.unchanged}，拒绝 {batch.rejected}，"
            f"保留编辑修改 {len(batch_kept(batch))} 行"
        )
        if batch.rejected:
            where = f"，原因见 {report}" if report is not None else "，原因见后台“导入馆藏”的批次详情或 --report"
            raise CommandError(f"{batch.rejected} 行被拒绝{where}", returncode=1)


def _advance(bar: tqdm, done: int, total: int) -> None:
    bar.total = total
    bar.update(done - bar.n)
