"""Importing a question bank file: every row checked first, then all written in one transaction or nothing.

All or nothing per file (docs/courses.md): a bank is exam content, and a half-imported file would silently shrink
the quiz pools. Idempotent: questions are matched by their key (编号, else a hash of type and stem); unchanged ones
are left alone, changed ones updated in place, new ones created. Questions absent from the file stay as they are.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Question, QuestionBank, QuestionOption
from .parsing import ParsedQuestion, parse_row
from .readers import BankFileError, bank_rows


@dataclass
class RowError:
    row: int
    messages: list[str]

    def __str__(self):
        return _("第 %(row)d 行：%(messages)s") % {"row": self.row, "messages": "".join(self.messages)}


@dataclass
class BankImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""
    dry_run: bool = False
    bank: QuestionBank | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and not self.file_error

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    def summary(self) -> str:
        if self.file_error:
            return self.file_error
        if self.errors:
            return _("%(bad)d 行有错误，整个文件未导入（共 %(rows)d 行）。请改正后重新导入。") % {
                "bad": len(self.errors),
                "rows": self.rows,
            }
        verb = _("检查通过（未写入）") if self.dry_run else _("导入完成")
        return _("%(verb)s：共 %(rows)d 行，新增 %(created)d 题，更新 %(updated)d 题，未变 %(unchanged)d 题。") % {
            "verb": verb,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


def _parse_all(data: bytes, filename: str, practice_default: bool, report: BankImportReport) -> list[ParsedQuestion]:
    parsed, seen = [], {}
    for number, row in bank_rows(data=data, filename=filename):
        report.rows += 1
        question, messages = parse_row(row, practice_default=practice_default)
        if question is not None and question.key in seen:
            messages = [_("与第 %(row)d 行是同一道题（编号或题干相同）。") % {"row": seen[question.key]}]
            question = None
        if question is None:
            report.errors.append(RowError(number, messages))
            continue
        seen[question.key] = number
        parsed.append(question)
    if report.rows == 0:
        report.file_error = _("文件里没有试题。")
    return parsed


def _fields(question: ParsedQuestion) -> dict:
    names = ("kind", "stem", "answer", "explanation", "difficulty", "topic", "is_practice", "keep_option_order")
    return {name: getattr(question, name) for name in names} | {"content_hash": question.content_hash}


def _options(question_id: int, parsed: ParsedQuestion) -> list[QuestionOption]:
    return [
        QuestionOption(question_id=question_id, label=label, text=text, sort_order=n)
        for n, (label, text) in enumerate(parsed.options)
    ]


def _write(bank: QuestionBank, parsed: list[ParsedQuestion], report: BankImportReport) -> None:
    existing = {row[0]: row[1:] for row in Question.objects.filter(bank=bank).values_list("key", "pk", "content_hash")}
    created = [Question(bank=bank, key=q.key, **_fields(q)) for q in parsed if q.key not in existing]
    Question.objects.bulk_create(created, batch_size=500)
    by_key = {q.key: q for q in parsed}
    # bulk_create gives back primary keys on PostgreSQL and SQLite ≥ 3.35 (Django 5.2 asks for RETURNING).
    options = [option for question in created for option in _options(question.pk, by_key[question.key])]
    changed = [q for q in parsed if q.key in existing and existing[q.key][1] != q.content_hash]
    for q in changed:
        pk = existing[q.key][0]
        Question.objects.filter(pk=pk).update(**_fields(q))
        QuestionOption.objects.filter(question_id=pk).delete()
        options += _options(pk, q)
    QuestionOption.objects.bulk_create(options, batch_size=1000)
    bank.save(update_fields=["updated_at"])
    report.created, report.updated = len(created), len(changed)
    report.unchanged = len(parsed) - len(created) - len(changed)


def bank_import(
    *,
    data: bytes,
    filename: str,
    bank: QuestionBank,
    practice_default: bool = False,
    dry_run: bool = False,
) -> BankImportReport:
    """Check every row of the file, then (unless ``dry_run`` or any row is bad) write them all in one transaction."""
    report = BankImportReport(dry_run=dry_run, bank=bank)
    try:
        parsed = _parse_all(data, filename, practice_default, report)
    except BankFileError as exc:
        report.file_error = str(exc)
        return report
    if not report.ok:
        return report
    if dry_run:
        existing = dict(Question.objects.filter(bank=bank).values_list("key", "content_hash")) if bank.pk else {}
        report.created = sum(1 for q in parsed if q.key not in existing)
        report.updated = sum(1 for q in parsed if q.key in existing and existing[q.key] != q.content_hash)
        report.unchanged = len(parsed) - report.created - report.updated
        return report
    with transaction.atomic():
        if bank.pk is None:
            bank.save()
        _write(bank, parsed, report)
    return report
