"""Import a question bank file (XLSX or CSV, the Chinese layout): every row checked, then all written or nothing.

manage.py courses_bank_import FILE --bank CODE [--name 名称] [--unit CODE] [--practice] [--dry-run]
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cms.selectors import unit_by_code
from courses.models import QuestionBank
from courses.services import question_bank_import


class Command(BaseCommand):
    help = "导入题库（XLSX 或 CSV：题型、题干、选项A–F、答案、解析、难度、知识点）；有错误行时整个文件不导入。"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--bank", required=True, help="题库代码（不存在时新建，须同时给出 --unit）")
        parser.add_argument("--name", default="", help="新建题库的名称")
        parser.add_argument("--unit", default="", help="新建题库的所属单位代码")
        parser.add_argument("--practice", action="store_true", help="没有“练习”一列时，把试题都设为练习题")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        bank = QuestionBank.objects.filter(code=options["bank"]).first() or self._new_bank(options)
        report = question_bank_import(
            data=path.read_bytes(),
            filename=path.name,
            bank=bank,
            practice_default=options["practice"],
            dry_run=options["dry_run"],
        )
        for error in report.errors:
            self.stderr.write(str(error))
        if not report.ok:
            self.stderr.write(report.summary())
            sys.exit(1)
        self.stdout.write(report.summary())

    def _new_bank(self, options) -> QuestionBank:
        unit = unit_by_code(options["unit"]) if options["unit"] else None
        if unit is None:
            raise CommandError("题库不存在；新建题库请用 --unit 给出所属单位代码。")
        return QuestionBank(code=options["bank"], name=options["name"] or options["bank"], owning_unit=unit)
