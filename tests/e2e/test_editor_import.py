"""An editor's catalogue import in a real browser (Debian's Chromium driven by Playwright) on a 390×844 phone and a
1440×900 desk, with a real task worker: the demo's county editor signs in to the admin, opens 导入馆藏, downloads
the templates, uploads a small catalogue filled in from the CSV template (with one column the import does not
know), reads the dry run — counts and the unknown-column warning — presses 正式导入 with 导入为待审核 ticked, and
finds the new items on the dashboard under 最近导入 and 未发布的馆藏."""

import io
import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from cms.demo.data import DEMO_PASSWORD
from library.models import ImportBatch, LibraryItem

pytestmark = [pytest.mark.browser]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1440, "height": 900}}
TITLES = ("邹平县志（精选本）", "黄河三角洲红色记忆")


@pytest.fixture
def demo(transactional_db, django_db_serialized_rollback):
    # Serialized rollback: the next test again finds Wagtail's root page, which a transactional flush removes.
    call_command("load_demo", "--no-media")


def _catalogue(template: bytes) -> bytes:
    """The CSV template's header with the example row replaced by two of our own and a column of notes the
    import does not know (备注)."""
    header = template.decode("utf-8-sig").splitlines()[0].split(",")
    rows = []
    for number, title in enumerate(TITLES, start=1):
        values = {
            "外部编号": f"ZP-{number}",
            "标题": title,
            "类型": "电子书",
            "作者": "邹平市史志办 编",
            "已发布": "是",
        }
        rows.append([values.get(column, "") for column in header] + ["内部核对"])
    lines = [",".join([*header, "备注"])] + [",".join(row) for row in rows]
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def _shot(page, name: str) -> None:
    """A full-page screenshot for a person to look at, when E2E_SCREENSHOTS names a folder."""
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        width = page.viewport_size["width"]
        page.screenshot(path=str(Path(folder) / f"import-{width}-{name}.png"), full_page=True)


def _wait_done(page, timeout_s: float = 90) -> None:
    """The batch page refreshes itself while the worker runs the batch; wait until it says the batch is done."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = page.locator("#batch-summary").get_attribute("data-state")
        if state in ("done", "failed"):
            assert state == "done", page.locator("#batch-error").all_inner_texts()
            return
        page.wait_for_timeout(1000)
        page.reload()
    raise AssertionError("the import did not finish")


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_editor_imports_a_catalogue_after_its_dry_run(live_server, browser_page, demo, task_worker, tmp_path, device):
    """Template downloads (CSV with BOM, XLSX), upload, dry run with counts and a warning naming 备注, 正式导入
    (待审核 ticked for an editor; the button at least 44 px and on screen), then the two items on the dashboard:
    named under 最近导入 and waiting in 未发布的馆藏, unpublished in the library."""
    page = browser_page
    page.set_viewport_size(VIEWPORTS[device])
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "zouping_editor")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    page.goto(f"{live_server.url}/admin/library-import/")
    _shot(page, "1-screen")
    assert page.get_by_role("heading", name="列说明").is_visible()
    assert page.locator("#import-columns tr[data-column=external_id]").inner_text().count("必填") == 1
    with page.expect_download() as download:
        page.get_by_role("link", name="下载模板（Excel）").click()
    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert [cell.value for cell in workbook.worksheets[0][1]][:2] == ["外部编号", "标题"]
    with page.expect_download() as download:
        page.get_by_role("link", name="下载模板（CSV）").click()
    template = Path(download.value.path()).read_bytes()
    assert template.startswith(b"\xef\xbb\xbf")

    catalogue = tmp_path / "邹平目录.csv"
    catalogue.write_bytes(_catalogue(template))
    page.set_input_files("input[name=file]", str(catalogue))
    page.fill("input[name=source]", "zouping-shizhi")
    page.select_option("select[name=unit]", label="邹平市")
    with page.expect_navigation():
        page.get_by_role("button", name="上传并试运行").click()
    _wait_done(page)
    _shot(page, "2-dry-run")
    assert "试运行，未写入" in page.locator("#batch-summary").inner_text()
    warning = page.locator("#unknown-columns")
    assert warning.is_visible() and "备注" in warning.inner_text() and "1 列无法识别" in warning.inner_text()
    assert "正式导入将新增 2 条" in page.locator("#import-confirm").inner_text()
    assert not LibraryItem.objects.filter(source="zouping-shizhi").exists()

    assert page.get_by_label("导入为待审核").is_checked()
    button = page.get_by_role("button", name="正式导入")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS[device]["width"]
    with page.expect_navigation():
        button.click()
    _wait_done(page)
    assert "导入为待审核" in page.locator("#batch-summary").inner_text()
    real = ImportBatch.objects.get(dry_run=False)
    assert (real.created, real.rejected) == (2, 0)

    page.goto(f"{live_server.url}/admin/")
    _shot(page, "3-dashboard")
    recent = page.locator("#lighthouse-recent-imports-section")
    for title in TITLES:
        assert recent.get_by_role("link", name=title).count() == 1
        assert page.locator("#lighthouse-unpublished-items-section").get_by_role("link", name=title).count() == 1
    assert recent.locator("[data-import-items] .w-status", has_text="待审核").count() == 2
    assert set(LibraryItem.objects.filter(source="zouping-shizhi").values_list("is_published", flat=True)) == {False}
    recent.get_by_role("link", name=TITLES[0]).click()
    page.wait_for_url("**/admin/library_items/edit/**")
    assert page.locator("input[name=title]").input_value() == TITLES[0]
