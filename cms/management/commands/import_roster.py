from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date

from cms.roster.importer import OUTCOME_LABELS
from cms.services import roster_import


class Command(BaseCommand):
    help = "导入党员花名册（CSV 或 XLSX）：按身份证号新增或更新，转接组织关系保留历史；有错误的行则全部不导入。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="花名册文件（.csv 或 .xlsx）")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入")
        parser.add_argument("--effective-on", help="转接组织关系的生效日期（YYYY-MM-DD，默认今天）")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path.name}")
        effective_on = None
        if options["effective_on"]:
            effective_on = parse_date(options["effective_on"])
            if effective_on is None:
                raise CommandError("--effective-on 应写成 YYYY-MM-DD。")
        report = roster_import(
            data=path.read_bytes(), filename=path.name, by=None, dry_run=options["dry_run"], effective_on=effective_on
        )
        if report.file_error:
            raise CommandError(report.file_error)
        if report.unknown_columns:
            self.stderr.write(self.style.WARNING(f"未识别的列（已忽略）：{'、'.join(report.unknown_columns)}"))
        for result in report.rows:
            if result.outcome != "unchanged":
                detail = "；".join(result.messages)
                line = f"第 {result.row} 行 {OUTCOME_LABELS[result.outcome]} {result.name} {result.id_masked} {detail}"
                self.stdout.write(line.rstrip())
        summary = "，".join(f"{OUTCOME_LABELS[key]} {count}" for key, count in report.counts.items() if count)
        if not report.ok:
            raise CommandError(f"有错误的行，全部未导入（{summary}）。请修正后重新导入。")
        done = "已导入" if report.applied else "检查通过（未写入）"
        self.stdout.write(self.style.SUCCESS(f"{done}：{summary or '没有数据行'}。"))
