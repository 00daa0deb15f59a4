"""An editor's course work in a real browser (Chromium through Playwright, 1440x900): sign in to the admin, import
a question bank from a spreadsheet for real, then open the month's report for their county, drill down to a
branch and export it."""

import datetime
import os

import pytest
from django.test import Client

from cms.models import UnitRole
from cms.services import member_create, org_unit_ensure_roles
from courses import services
from courses.models import Question, QuestionBank
from library.models import StudyDay

from .conftest import DURING

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop here
BANK = (
    "题型,题干,选项A,选项B,选项C,选项D,答案,解析,难度,知识点\n"
    "单选题,中国共产党成立于哪一年？,1919,1921,1927,1949,B,1921年7月。,易,党史\n"
    "判断题,“三会一课”包括党课。,,,,,对,党课是其中之一。,易,组织生活\n"
    "多选题,下列属于“三会”的是,支部党员大会,支部委员会,党小组会,座谈会,ABC,,中,组织生活\n"
)


def test_an_editor_imports_a_bank_and_reads_the_report(live_server, tmp_path, course, lessons, member, units):
    from playwright.sync_api import expect, sync_playwright

    editor = member_create(username="zp_editor", password="pw-123456", real_name="邹平编辑", org_unit=units["zouping"])
    editor.groups.add(org_unit_ensure_roles(unit=units["zouping"])[UnitRole.Role.EDITOR])
    day = datetime.date(DURING.year, DURING.month, DURING.day)
    for item in lessons[:2]:  # 王德明 studies both required lessons: branch 1 has one who studied and completed
        StudyDay.objects.create(member=member, item=item, day=day, seconds=5000)
        services.lesson_study_credited(member_id=member.pk, item_id=item.pk, at=DURING)
    bank_file = tmp_path / "题库.csv"
    bank_file.write_text(BANK, encoding="utf-8-sig")
    client = Client()
    client.force_login(editor)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}, accept_downloads=True)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
        page = context.new_page()
        page.set_default_timeout(20_000)
        # The bank, for real (not a dry run), into a new bank of the county.
        page.goto(live_server.url + "/admin/courses-bank-import/")
        page.get_by_label("文件").set_input_files(str(bank_file))
        page.get_by_label("新题库名称").fill("邹平市2026年题库")
        page.get_by_label("新题库代码").fill("zouping-2026")
        page.get_by_label("新题库所属单位").select_option(label="邹平市")
        page.get_by_label("只检查，不写入").uncheck()
        page.get_by_role("button", name="导入").click()
        expect(page.get_by_role("heading", name="导入结果")).to_be_visible()
        assert QuestionBank.objects.get(code="zouping-2026").questions.count() == 3
        # The report opens at the county; the branch row shows the member who studied; drill down and export.
        page.goto(live_server.url + f"/study/reports/?course={course.pk}")
        expect(page.get_by_role("heading", name="学习报表 · 邹平市")).to_be_visible()
        page.get_by_role("link", name="黛溪街道").click()
        row = page.get_by_role("row", name="第一党支部")
        expect(row).to_contain_text("100.0%")  # 1 of 1 member studied (王德明 is the branch's only member)
        expect(page.locator(".report-chart svg")).to_be_visible()  # ECharts drew the chart once in view
        with page.expect_download() as download:
            page.get_by_role("link", name="导出 Excel").click()
        assert download.value.suggested_filename == f"report-{course.issue_number}.xlsx"
        browser.close()
    assert Question.objects.filter(bank__code="zouping-2026", kind="multiple", answer="ABC").exists()
