"""Question bank import from XLSX and CSV in the Chinese layout (题型, 题干, 选项A–F, 答案, 解析, 难度, 知识点): a row
report with a Chinese reason per bad row, all or nothing per file, idempotent re-import (courses/bank/)."""

import csv
import io
import re

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from courses.models import Question, QuestionBank
from courses.services import question_bank_import

pytestmark = pytest.mark.django_db

HEADER = ["题型", "题干", "选项A", "选项B", "选项C", "选项D", "选项E", "选项F", "答案", "解析", "难度", "知识点"]
GOOD = [
    [
        "单选题",
        "中国共产党第一次全国代表大会在哪里召开？",
        "北京",
        "上海",
        "广州",
        "长沙",
        "",
        "",
        "B",
        "上海法租界。",
        "易",
        "党史",
    ],
    [
        "多选",
        "“三会一课”包括哪些？",
        "支部党员大会",
        "支部委员会",
        "党小组会",
        "以上都不是",
        "",
        "",
        "A、B、C",
        "",
        "中",
        "组织生活",
    ],
    ["判断", "党员应当按期交纳党费。", "", "", "", "", "", "", "对", "党章规定。", "3", "党章"],
    ["填空题", "中国共产党成立于（ ）年（ ）月。", "", "", "", "", "", "", "1921；7|七", "", "难", "党史"],
    ["判断题", "入党誓词共有八十字。", "正确", "错误", "", "", "", "", "A", "", "", "党章"],
]


def _xlsx(rows, *, title_row=True) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if title_row:
        sheet.append(["2026年3月灯塔大课堂题库"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv(rows, encoding="utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.fixture
def bank(units):
    return QuestionBank.objects.create(name="题库", code="bank", owning_unit=units["shandong"])


def _import(bank, data, filename="bank.xlsx", **options):
    return question_bank_import(data=data, filename=filename, bank=bank, **options)


def test_an_xlsx_bank_imports_every_kind(bank):
    """A title row above the header is fine; answers, difficulties and kinds in the organisations' own words."""
    report = _import(bank, _xlsx(GOOD))
    assert report.ok and (report.rows, report.created) == (5, 5)
    single, multiple, truefalse, blank, by_letter = (Question.objects.get(bank=bank, stem=row[1]) for row in GOOD)
    assert (single.kind, single.answer, single.difficulty, single.topic) == ("single", "B", 1, "党史")
    assert [o.label for o in single.options.all()] == ["A", "B", "C", "D"] and not single.keep_option_order
    assert (multiple.kind, multiple.answer, multiple.keep_option_order) == ("multiple", "ABC", True)  # 以上
    assert (truefalse.kind, truefalse.answer, truefalse.difficulty) == ("truefalse", "T", 2)
    assert not truefalse.options.exists()
    assert (blank.kind, blank.answer, blank.difficulty) == ("blank", "1921；7|七", 3)
    assert by_letter.answer == "T"  # "A" where option A says 正确
    assert "新增 5 题" in report.summary()


def test_bad_rows_are_reported_in_chinese_and_nothing_is_written(bank):
    """All or nothing: one file with bad rows writes none of its good rows, and every bad row is named by its
    spreadsheet row number with a reason."""
    bad = [
        ["单选", "缺答案的题", "甲", "乙", "", "", "", "", "", "", "", ""],
        ["单选", "答案指向空选项", "甲", "乙", "", "", "", "", "E", "", "", ""],
        ["问答", "未知题型", "", "", "", "", "", "", "略", "", "", ""],
        ["单选", "单选两个答案", "甲", "乙", "丙", "", "", "", "AB", "", "", ""],
        ["判断", "判断答案不明", "", "", "", "", "", "", "也许", "", "", ""],
        ["单选", "跳过选项B", "甲", "", "丙", "", "", "", "A", "", "", ""],
        ["单选", "难度不明", "甲", "乙", "", "", "", "", "A", "", "很难很难", ""],
        ["单选", "", "甲", "乙", "", "", "", "", "A", "", "", ""],
        GOOD[0],
    ]
    report = _import(bank, _xlsx(GOOD + bad))
    assert not report.ok and not Question.objects.exists()
    messages = {error.row: "".join(error.messages) for error in report.errors}
    first_bad = 2 + len(GOOD) + 1  # title row, header, the good rows
    assert messages[first_bad] == "缺少答案。"
    assert messages[first_bad + 1] == "答案“E”对应的选项为空。"
    assert "题型“问答”无法识别" in messages[first_bad + 2]
    assert "单选题只能有一个答案" in messages[first_bad + 3]
    assert "判断题答案“也许”无法识别" in messages[first_bad + 4]
    assert "选项B为空" in messages[first_bad + 5]
    assert "难度“很难很难”无法识别" in messages[first_bad + 6]
    assert messages[first_bad + 7] == "缺少题干。"
    assert "与第 3 行是同一道题" in messages[first_bad + 8]
    assert "整个文件未导入" in report.summary()
    assert str(report.errors[0]).startswith(f"第 {first_bad} 行：")


def test_reimport_is_idempotent_and_updates_changed_questions(bank):
    """The same file again changes nothing; a changed answer or explanation updates the question in place (same
    key, same row); a new row is added."""
    _import(bank, _xlsx(GOOD))
    ids = dict(Question.objects.values_list("stem", "pk"))
    again = _import(bank, _xlsx(GOOD))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    changed = [row[:] for row in GOOD]
    changed[0][8], changed[0][9] = "C", "改过的解析"
    changed.append(["判断", "新的一道题。", "", "", "", "", "", "", "错", "", "", ""])
    report = _import(bank, _xlsx(changed))
    assert (report.created, report.updated, report.unchanged) == (1, 1, 4)
    single = Question.objects.get(pk=ids[GOOD[0][1]])
    assert (single.answer, single.explanation, single.options.count()) == ("C", "改过的解析", 4)
    assert Question.objects.count() == 6


def test_a_key_column_keeps_questions_whose_stem_is_edited(bank):
    """With 编号, editing a stem updates that question instead of adding a second one."""
    header_rows = [["编号", *HEADER], ["Q1", *GOOD[0]]]
    edited = [["编号", *HEADER], ["Q1", GOOD[0][0], "一大在哪里召开？", *GOOD[0][2:]]]

    def xlsx(rows):
        workbook = Workbook()
        for row in rows:
            workbook.active.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    _import(bank, xlsx(header_rows))
    report = _import(bank, xlsx(edited))
    assert (report.created, report.updated) == (0, 1)
    assert Question.objects.get().stem == "一大在哪里召开？"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_utf8_or_gbk(bank, encoding):
    report = _import(bank, _csv(GOOD, encoding), filename="bank.csv")
    assert report.ok and report.created == 5
    assert Question.objects.filter(stem=GOOD[0][1]).exists()


def test_dry_run_checks_without_writing(bank):
    report = _import(bank, _xlsx(GOOD), dry_run=True)
    assert report.ok and report.created == 5 and not report.written
    assert not Question.objects.exists()
    assert "检查通过（未写入）" in report.summary()


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"not a workbook", "bank.xlsx", "无法读取这个 Excel 文件"),
        (b"\xd0\xcf\x11\xe0", "bank.xls", "另存为 .xlsx"),
        ("标题,内容\n一,二\n".encode(), "bank.csv", "没有找到表头"),
        (b"\xff\xfe\x00\xd8\x00", "bank.csv", "无法识别文件编码"),
        (",".join(HEADER).encode(), "bank.csv", "没有试题"),
        ((",".join(HEADER) + '\n单选题,"' + "长" * 200_000 + '"\n').encode(), "bank.csv", "CSV 第 2 行格式错误"),
    ],
)
def test_unreadable_files_say_why(bank, data, filename, message):
    """Each unreadable file gets its reason in Chinese, never a library's English message, and nothing is written."""
    report = _import(bank, data, filename=filename)
    assert message in report.file_error and not report.ok
    assert not re.search(r"[A-Za-z]+ [A-Za-z]+", report.file_error), report.file_error  # no English phrase
    assert not Question.objects.exists()


def test_practice_flag_from_a_column_or_the_default(bank):
    rows = [[*HEADER, "练习"], *[[*row, flag] for row, flag in zip(GOOD[:2], ["是", ""], strict=True)]]
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    _import(bank, buffer.getvalue(), practice_default=False)
    assert dict(Question.objects.values_list("stem", "is_practice")) == {GOOD[0][1]: True, GOOD[1][1]: False}


def test_the_command_creates_the_bank_and_prints_the_report(units, tmp_path, capsys):
    path = tmp_path / "题库.xlsx"
    path.write_bytes(_xlsx(GOOD))
    call_command("courses_bank_import", str(path), "--bank", "b2026", "--name", "2026年题库", "--unit", "shandong")
    assert "新增 5 题" in capsys.readouterr().out
    bank = QuestionBank.objects.get(code="b2026")
    assert (bank.name, bank.owning_unit.code, bank.questions.count()) == ("2026年题库", "shandong", 5)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([["单选", "缺答案", "甲", "乙", "", "", "", "", "", "", "", ""]]))
    with pytest.raises(SystemExit):
        call_command("courses_bank_import", str(bad), "--bank", "b2026")
    assert "第 2 行：缺少答案。" in capsys.readouterr().err
