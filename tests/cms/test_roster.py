"""The organisation department's roster: GB 11643 ID numbers validated, sealed with AES-GCM and found by a keyed
hash, imports that are idempotent and all-or-nothing with a Chinese row report, and moves between branches that
keep each member's unit history right for the months before and after."""

import base64
import datetime
import io
import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from cms import selectors, services
from cms.checks import check_identity_keys
from cms.models import BranchMembership, Member, RosterImport
from cms.roster import idcard, keys
from tests import factories

ON = datetime.date(2026, 7, 1)
HEADER = "姓名,身份证号,手机号,支部代码,身份,入党日期\n"


def id_number(first17: str) -> str:
    return first17 + idcard.check_character(first17)


ZHANG = id_number("37010219650312001")  # 济南, born 1965-03-12
LI = id_number("37132219781105002")
WANG = id_number("37162619580101003")


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(row + "\n" for row in rows)).encode("utf-8-sig")


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def branches(db):
    return factories.unit_tree(local=True)


def run(data: bytes, *, filename="roster.csv", by=None, dry_run=False, on=ON):
    return services.roster_import(data=data, filename=filename, by=by, dry_run=dry_run, effective_on=on)


# --- ID numbers ---------------------------------------------------------------------------------------------------


def test_a_valid_number_passes_in_its_normal_form_and_is_masked_to_its_ends():
    """Full-width digits, spaces and a lower-case x are folded; screens show the first four and the last four."""
    number = id_number("11010519491231002")
    assert number.endswith("X")
    typed = " " + "".join(chr(ord(c) + 0xFEE0) for c in number[:17]) + "x "
    assert idcard.validated(typed) == number
    assert idcard.masked(number) == "1101**********002X"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (ZHANG[:17] + ("0" if ZHANG[17] != "0" else "1"), "校验位"),
        ("370102650312001", "15 位"),
        ("3701021965031200", "18 位"),
        ("99010219650312001" + "0", "行政区划"),
        (id_number("37010219650230001"), "出生日期不存在"),
        (id_number("37010218800101001"), "合理范围"),
        ("37010219650312001Y", "最后一位"),
    ],
)
def test_a_wrong_number_is_refused_with_the_reason_in_chinese(text, says):
    """Each way a number can be wrong names itself: check digit, old 15-digit card, length, region, date."""
    with pytest.raises(idcard.InvalidIdNumber, match=says):
        idcard.validated(text, today=datetime.date(2026, 12, 6))


@given(
    region=st.sampled_from(["110105", "370102", "440305", "650102"]),
    birth=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2008, 12, 31)),
    sequence=st.integers(0, 999),
    wrong=st.sampled_from("0123456789X"),
)
def test_exactly_one_check_character_completes_any_seventeen_digits(region, birth, sequence, wrong):
    """GB 11643's MOD 11-2: of the eleven possible last characters exactly one is accepted."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    right = idcard.check_character(first17)
    assert idcard.validated(first17 + right, today=datetime.date(2026, 12, 6)) == first17 + right
    if wrong != right:
        with pytest.raises(idcard.InvalidIdNumber):
            idcard.validated(first17 + wrong, today=datetime.date(2026, 12, 6))


# --- Sealing -----------------------------------------------------------------------------------------------------


def test_the_database_never_holds_a_number_in_clear(branches):
    """After an import, no column of the member's row contains the number or its digits' run; the masked form is
    what is kept readable, and the sealed bytes open only for that member's row."""
    assert run(csv_bytes(f"张三,{ZHANG},13900000001,zouping-daixi-1,党员,1990-07-01")).applied
    member = Member.objects.get(id_number_masked=idcard.masked(ZHANG))
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cms_member WHERE id = %s", [member.pk])
        row = cursor.fetchone()
    for value in row:
        raw = bytes(value) if isinstance(value, memoryview | bytes) else str(value).encode()
        assert ZHANG.encode() not in raw and ZHANG[6:14].encode() not in raw
    assert keys.decrypt(member.id_number_sealed, member_id=member.pk) == ZHANG
    other = factories.MemberFactory()
    with pytest.raises(Exception):  # noqa: B017 — AES-GCM's InvalidTag: the associated data is the member's id
        keys.decrypt(member.id_number_sealed, member_id=other.pk)


def test_keys_rotate_without_losing_a_number(branches, settings):
    """A new encryption key goes first, the old one stays to decrypt; rotate_identity_keys re-seals every row under
    the new one, after which the old key can go. A new hash key with the previous one named finds members during
    the rotation, and after it the new hashes are stored."""
    old, old_hash = key(), key()
    settings.IDENTITY_KEYS, settings.IDENTITY_HASH_KEY = f"k1:{old}", old_hash
    run(csv_bytes(f"张三,{ZHANG},,zouping-daixi-1,,", f"李四,{LI},,zouping-daixi-1,,"))
    settings.IDENTITY_KEYS = f"k2:{key()},k1:{old}"
    settings.IDENTITY_HASH_KEY, settings.IDENTITY_PREVIOUS_HASH_KEY = key(), old_hash
    again = run(csv_bytes(f"张三,{ZHANG},,zouping-daixi-1,,"))
    assert [r.outcome for r in again.rows] == ["updated"]  # found by the previous hash; re-hashed by applying it
    call_command("rotate_identity_keys", stdout=io.StringIO())
    settings.IDENTITY_KEYS, settings.IDENTITY_PREVIOUS_HASH_KEY = settings.IDENTITY_KEYS.split(",")[0], ""
    for member in Member.objects.filter(id_number_sealed__isnull=False):
        assert keys.key_id_of(bytes(member.id_number_sealed)) == "k2"
        number = keys.decrypt(member.id_number_sealed, member_id=member.pk)
        assert member.id_number_digest == keys.digest(number)
    assert [r.outcome for r in run(csv_bytes(f"李四,{LI},,zouping-daixi-1,,")).rows] == ["unchanged"]


def test_production_without_keys_warns_and_refuses_to_seal(settings):
    """Production never seals with keys derived from SECRET_KEY: `check --deploy` warns (W004) and sealing raises."""
    settings.IDENTITY_KEYS_REQUIRED, settings.IDENTITY_KEYS, settings.IDENTITY_HASH_KEY = True, "", ""
    assert [w.id for w in check_identity_keys(None)] == ["lighthouse.W004"]
    with pytest.raises(Exception, match="IDENTITY_KEYS"):
        keys.encrypt(ZHANG, member_id=1)
    settings.IDENTITY_KEYS, settings.IDENTITY_HASH_KEY = f"p1:{key()}", key()
    assert check_identity_keys(None) == []
    settings.IDENTITY_KEYS = "p1:not-base64!"
    assert [w.id for w in check_identity_keys(None)] == ["lighthouse.W004"]


# --- Importing ---------------------------------------------------------------------------------------------------


def test_an_import_creates_members_and_a_second_run_changes_nothing(branches):
    """Members are created in their branches with role and join date; the same file again reports 无变化 for every
    row and writes nothing; the report shows masked numbers only."""
    data = csv_bytes(
        f"张三,{ZHANG},13900000001,zouping-daixi-1,支部书记,1990-07-01",
        f"李四,{LI},,yinan-mamuchi-changshanzhuang,委员,2001年7月1日",
        f"王五,{WANG},13900000003,zouping-daixi-1,,",
    )
    first = run(data)
    assert first.applied and first.counts["new"] == 3
    zhang = Member.objects.get(real_name="张三")
    assert (zhang.org_unit.code, zhang.party_role, zhang.joined_party_on, zhang.phone) == (
        "zouping-daixi-1",
        Member.PartyRole.SECRETARY,
        datetime.date(1990, 7, 1),
        "13900000001",
    )
    assert not zhang.has_usable_password()
    assert Member.objects.get(real_name="李四").joined_party_on == datetime.date(2001, 7, 1)
    second = run(data)
    assert second.counts == {"new": 0, "updated": 0, "moved": 0, "unchanged": 3, "error": 0}
    assert Member.objects.filter(id_number_sealed__isnull=False).count() == 3
    record = RosterImport.objects.first()
    assert ZHANG not in str(record.report) and idcard.masked(ZHANG) in str(record.report)


def test_a_file_with_any_bad_row_changes_nothing_and_names_every_problem(branches):
    """Bad ID numbers, duplicate rows, unknown branches, a unit that is not a branch, an unreadable date and a
    phone taken by someone else: each row says what is wrong, in Chinese, and no member is written."""
    factories.MemberFactory(username="taken", phone="13900000009")
    report = run(
        csv_bytes(
            f"张三,{ZHANG},13900000001,zouping-daixi-1,党员,1990-07-01",
            f"张三,{ZHANG},,zouping-daixi-1,党员,",
            f"李四,{LI[:17]}0,,zouping-daixi-1,党员,",
            f"王五,{WANG},,no-such-branch,党员,",
            f"赵六,{id_number('37010219700101004')},,zouping,党员,",
            f"钱七,{id_number('37010219700101005')},,zouping-daixi-1,主席,昨天",
            f"孙八,{id_number('37010219700101006')},13900000009,zouping-daixi-1,,",
        )
    )
    assert not report.applied and not report.ok
    messages = {r.row: "；".join(r.messages) for r in report.rows}
    assert report.rows[0].outcome == "new"
    assert "与第 2 行重复" in messages[3]
    assert "校验位" in messages[4]
    assert "no-such-branch" in messages[5] and "不存在" in messages[5]
    assert "不是党支部" in messages[6]
    assert "身份" in messages[7] and "入党日期" in messages[7]
    assert "手机号已被另一位用户使用" in messages[8]
    assert not Member.objects.filter(id_number_sealed__isnull=False).exists()
    assert RosterImport.objects.get().applied is False


def test_an_editor_places_members_only_in_branches_of_their_own_units(branches, editors):
    """A county editor's roster naming another county's branch is refused for that row (as an unknown code)."""
    report = run(
        csv_bytes(
            f"张三,{ZHANG},,zouping-daixi-1,,",
            f"李四,{LI},,yinan-mamuchi-changshanzhuang,,",
        ),
        by=editors["zouping_editor"],
    )
    assert not report.applied
    assert report.rows[0].outcome == "new" and "不在您可管理的范围内" in report.rows[1].messages[0]
    assert run(csv_bytes(f"李四,{LI},,yinan-mamuchi-changshanzhuang,,"), by=editors["sheng_editor"]).applied


def test_a_dry_run_reports_and_writes_nothing(branches):
    """--dry-run plans every row (新增) and leaves no member and no import record."""
    report = run(csv_bytes(f"张三,{ZHANG},,zouping-daixi-1,,"), dry_run=True)
    assert report.ok and not report.applied and report.counts["new"] == 1
    assert not Member.objects.filter(real_name="张三").exists() and not RosterImport.objects.exists()


def test_xlsx_with_a_title_row_dates_and_an_unknown_column(branches):
    """An Excel roster: a title row above the header, dates as Excel dates, ID numbers as text, and a column the
    importer does not know, which is named in the report rather than dropped silently."""
    book = Workbook()
    sheet = book.active
    sheet.append(["滨州市邹平市党员花名册"])
    sheet.append(["序号", "姓名", "公民身份号码", "手机号码", "党支部代码", "党内职务", "入党时间", "备注"])
    sheet.append([1, "张三", ZHANG, 13900000001, "zouping-daixi-1", "党员", datetime.datetime(1990, 7, 1), "无"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = run(buffer.getvalue(), filename="花名册.xlsx")
    assert report.applied, report.rows
    assert report.unknown_columns == ["序号", "备注"]
    assert Member.objects.get(real_name="张三").joined_party_on == datetime.date(1990, 7, 1)


def _workbook_with_a_missing_shared_string() -> bytes:
    """A real workbook whose first cell points at shared string 77 of a table that has none: openpyxl opens it and
    fails only when the row is read."""
    import re
    import zipfile

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["姓名", "身份证号", "支部代码"])
    plain = io.BytesIO()
    book.save(plain)
    broken = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(broken, "w") as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<c r="A1" [^>]*>.*?</c>', b'<c r="A1" t="s"><v>77</v></c>', data, count=1)
                assert b"<v>77</v>" in data
            target.writestr(entry, data)
    return broken.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "says"),
    [
        (b"\xd0\xcf\x11\xe0", "roster.xls", ".xls"),
        (b"not a zip", "roster.xlsx", "Excel"),
        ("姓名,手机号\n张三,1\n".encode(), "roster.csv", "表头"),
        ("姓名,身份证号,手机号\n".encode(), "roster.csv", "支部代码"),
        ("姓名,身份证号,支部代码\n".encode(), "roster.csv", "只有表头"),
        (_workbook_with_a_missing_shared_string(), "roster.xlsx", "Excel"),
    ],
)
def test_an_unreadable_file_is_refused_whole(db, data, filename, says):
    """Old .xls, a broken workbook, a file without the header, a header missing a required column, a header and
    nothing under it, a workbook that opens but breaks while its rows are read (a cell naming a shared string the
    file does not have): each refused whole with a Chinese reason, never a 500."""
    report = run(data, filename=filename)
    assert says in report.file_error and not report.applied


# --- Moving between branches ---------------------------------------------------------------------------------------


def test_a_move_keeps_history_so_each_branchs_months_stay_right(branches):
    """A member moved on 1 July belongs to the old branch in June and the new one in July; both branches' month
    queries count them for their own days, and the member's unit on any day is answered from the history."""
    old, new = branches["zouping-daixi-1"], branches["yinan-mamuchi-changshanzhuang"]
    run(csv_bytes(f"张三,{ZHANG},,zouping-daixi-1,,"), on=datetime.date(2026, 1, 10))
    moved = run(csv_bytes(f"张三,{ZHANG},,yinan-mamuchi-changshanzhuang,,"), on=datetime.date(2026, 7, 1))
    assert [r.outcome for r in moved.rows] == ["moved"]
    member = Member.objects.get(real_name="张三")
    assert member.org_unit == new
    assert selectors.unit_of_member_on(member, datetime.date(2026, 6, 30)) == old
    assert selectors.unit_of_member_on(member, datetime.date(2026, 7, 1)) == new
    assert selectors.unit_of_member_on(member, datetime.date(2026, 1, 9)) is None
    june, july, august = datetime.date(2026, 6, 1), datetime.date(2026, 7, 1), datetime.date(2026, 8, 1)
    assert selectors.members_of_unit_between(old, june, july).filter(member=member).exists()
    assert not selectors.members_of_unit_between(old, july, august).exists()
    assert selectors.members_of_unit_between(new, july, august).filter(member=member).exists()
    assert not selectors.members_of_unit_between(new, june, july).exists()
    assert BranchMembership.objects.filter(member=member).count() == 2


def test_member_move_service_and_member_create_open_history(branches):
    """Members made by member_create get their open history row; member_move closes it and opens the next."""
    member = services.member_create(username="m1", password="x" * 12, org_unit=branches["zouping-daixi-1"])
    assert BranchMembership.objects.get(member=member, ended_on__isnull=True).unit.code == "zouping-daixi-1"
    services.member_move(member=member, unit=branches["yinan"], effective_on=datetime.date(2099, 1, 1))
    rows = list(BranchMembership.objects.filter(member=member).order_by("started_on"))
    assert [(r.unit.code, r.ended_on) for r in rows] == [
        ("zouping-daixi-1", datetime.date(2099, 1, 1)),
        ("yinan", None),
    ]


def test_the_command_prints_the_row_report_and_fails_on_bad_rows(branches, tmp_path):
    """import_roster prints each changed row (masked) and a summary; a bad row makes it exit non-zero unchanged."""
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(f"张三,{ZHANG},,zouping-daixi-1,,"))
    out = io.StringIO()
    call_command("import_roster", str(good), stdout=out)
    assert idcard.masked(ZHANG) in out.getvalue() and "新增 1" in out.getvalue() and ZHANG not in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(f"李四,{LI[:17]}0,,zouping-daixi-1,,"))
    with pytest.raises(CommandError, match="全部未导入"):
        call_command("import_roster", str(bad), stdout=io.StringIO())


# --- The admin screen ---------------------------------------------------------------------------------------------


def _upload(client, data: bytes, name="roster.csv", **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/admin/roster/", {"file": SimpleUploadedFile(name, data), **extra})


def test_the_screen_checks_first_then_imports_exactly_the_checked_file_once(client, branches, editors):
    """An editor uploads: the check writes no member and keeps the file sealed (no number in clear in its row);
    正式导入 imports that file without a second upload; pressing it again imports nothing more."""
    from cms.models import RosterUpload

    client.force_login(editors["zouping_editor"])
    page = client.get("/admin/roster/").content.decode()
    assert "列说明" in page and "身份证号" in page and "下载模板（Excel）" in page
    checked = _upload(client, csv_bytes(f"张三,{ZHANG},,zouping-daixi-1,,", header=HEADER.replace("\n", ",备注\n")))
    text = checked.content.decode()
    assert "检查通过，尚未导入" in text and "正式导入" in text and "以下列未识别" in text and "备注" in text
    assert not Member.objects.filter(real_name="张三").exists()
    upload = RosterUpload.objects.get()
    assert ZHANG.encode() not in bytes(upload.sealed)
    done = client.post("/admin/roster/", {"upload_id": upload.pk}).content.decode()
    assert "导入完成" in done and Member.objects.filter(real_name="张三").count() == 1
    again = client.post("/admin/roster/", {"upload_id": upload.pk}).content.decode()
    assert "这个文件已经导入" in again and Member.objects.filter(real_name="张三").count() == 1


def test_a_bad_file_offers_no_import_and_names_each_row(client, branches, editors):
    """A row with a wrong check digit: the report says which and why, and there is no 正式导入 button."""
    client.force_login(editors["zouping_editor"])
    text = _upload(client, csv_bytes(f"张三,{ZHANG[:17]}0,,zouping-daixi-1,,")).content.decode()
    assert "有问题，未导入" in text and "校验位" in text and 'name="upload_id"' not in text


def test_an_upload_is_only_its_uploaders_and_members_cannot_open_the_screen(client, branches, editors):
    """Another editor naming the upload id gets nothing imported; a plain member is refused the screen."""
    from cms.models import RosterUpload

    client.force_login(editors["zouping_editor"])
    _upload(client, csv_bytes(f"张三,{ZHANG},,zouping-daixi-1,,"))
    client.force_login(editors["sheng_editor"])
    text = client.post("/admin/roster/", {"upload_id": RosterUpload.objects.get().pk}).content.decode()
    assert "这个文件已经导入" in text and not Member.objects.filter(real_name="张三").exists()
    client.force_login(factories.MemberFactory(org_unit=branches["zouping-daixi-1"]))
    assert client.get("/admin/roster/").status_code in (302, 403)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_templates_import_as_they_are(client, branches, editors, file_format):
    """Each downloadable template, uploaded unchanged, passes the check (its example row is a valid roster row)."""
    client.force_login(editors["sheng_editor"])
    response = client.get(f"/admin/roster/template.{file_format}")
    assert response.status_code == 200
    data = response.content
    if file_format == "csv":
        assert data.startswith("\ufeff姓名,身份证号".encode())
    text = _upload(client, data, name=f"template.{file_format}").content.decode()
    assert "检查通过，尚未导入" in text, text


def test_a_rostered_secretary_holds_their_branchs_secretary_role_and_only_theirs(branches):
    """支部书记 puts the member in the branch's secretary role group (what the secretary screens ask); a move takes
    the old branch's away, and a later roster that lists them as 党员 takes it off too."""
    from cms.models import UnitRole

    def secretary_of():
        return set(UnitRole.objects.filter(role="secretary", group__user=zhang()).values_list("unit__code", flat=True))

    def zhang():
        return Member.objects.get(real_name="张三")

    run(csv_bytes(f"张三,{ZHANG},,zouping-daixi-1,支部书记,"))
    assert secretary_of() == {"zouping-daixi-1"}
    run(csv_bytes(f"张三,{ZHANG},,yinan-mamuchi-changshanzhuang,书记,"))
    assert secretary_of() == {"yinan-mamuchi-changshanzhuang"}
    run(csv_bytes(f"张三,{ZHANG},,yinan-mamuchi-changshanzhuang,党员,"))
    assert secretary_of() == set()
