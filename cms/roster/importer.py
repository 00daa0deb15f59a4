"""Importing a roster: every row checked first, then all of it applied in one transaction or none of it.

A member is found by the keyed hash of their ID number, so importing the same file again changes nothing, and a
member whose branch code changed is moved: their open unit-history row closes on the effective date and a new
one opens (cms.models.BranchMembership), so reports before and after the move stay right. The row report names
each row's outcome in Chinese and shows ID numbers masked only."""

import datetime
import hashlib
import re
from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from ..events import member_changed_on_commit
from ..models import BranchMembership, Member, OrgUnit, RosterImport, UnitRole
from ..selectors import unit_and_ancestor_paths
from . import idcard, keys
from .sheets import RosterFileError, roster_rows

ROLES = {
    "党员": Member.PartyRole.MEMBER,
    "普通党员": Member.PartyRole.MEMBER,
    "预备党员": Member.PartyRole.MEMBER,
    "member": Member.PartyRole.MEMBER,
    "书记": Member.PartyRole.SECRETARY,
    "支部书记": Member.PartyRole.SECRETARY,
    "党支部书记": Member.PartyRole.SECRETARY,
    "secretary": Member.PartyRole.SECRETARY,
    "委员": Member.PartyRole.COMMITTEE,
    "支委": Member.PartyRole.COMMITTEE,
    "支委委员": Member.PartyRole.COMMITTEE,
    "副书记": Member.PartyRole.COMMITTEE,
    "committee": Member.PartyRole.COMMITTEE,
}
DATE_PATTERN = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
PHONE_PATTERN = re.compile(r"^1\d{10}$")

NEW, UPDATED, MOVED, UNCHANGED, ERROR = "new", "updated", "moved", "unchanged", "error"
OUTCOME_LABELS = {NEW: "新增", UPDATED: "更新", MOVED: "转接组织关系", UNCHANGED: "无变化", ERROR: "错误"}


@dataclass
class RowResult:
    row: int
    outcome: str
    name: str = ""
    id_masked: str = ""
    branch: str = ""
    messages: list[str] = field(default_factory=list)

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS[self.outcome]


@dataclass
class RosterReport:
    rows: list[RowResult]
    unknown_columns: list[str]
    applied: bool
    file_error: str = ""

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOME_LABELS, 0)
        for result in self.rows:
            counts[result.outcome] += 1
        return counts

    @property
    def ok(self) -> bool:
        return not self.file_error and not any(r.outcome == ERROR for r in self.rows)


@dataclass
class _Parsed:
    name: str
    number: str
    digest: str
    phone: str | None
    branch: OrgUnit | None
    role: str
    joined: datetime.date | None


def _date(value) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    if not value:
        return None
    match = DATE_PATTERN.match(str(value))
    if not match:
        raise ValueError(_("入党日期“%(value)s”无法识别，请写成 2020-07-01。") % {"value": value})
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise ValueError(_("入党日期“%(value)s”不存在。") % {"value": value}) from None


def _parse(values: dict, branches: dict[str, OrgUnit], result: RowResult, today: datetime.date) -> _Parsed | None:
    messages = result.messages
    name = str(values.get("name") or "").strip()
    if not name or len(name) > 64:
        messages.append(_("姓名不能为空，且不超过 64 个字。"))
    number = ""
    try:
        number = idcard.validated(str(values.get("id_number") or ""), today=today)
        result.id_masked = idcard.masked(number)
    except idcard.InvalidIdNumber as exc:
        messages.append(str(exc))
    phone = idcard.normalise(str(values.get("phone") or "")) or None
    if phone and not PHONE_PATTERN.match(phone):
        messages.append(_("手机号“%(phone)s”不是 11 位手机号码。") % {"phone": phone})
    code = str(values.get("branch") or "").strip()
    result.branch = code
    branch = branches.get(code)
    if branch is None:
        messages.append(_("支部代码“%(code)s”不存在，或不在您可管理的范围内。") % {"code": code})
    elif branch.level != OrgUnit.Level.BRANCH:
        messages.append(_("“%(code)s”是%(level)s，不是党支部。") % {"code": code, "level": branch.get_level_display()})
    role_text = idcard.normalise(str(values.get("role") or "")).casefold()
    role = ROLES.get(role_text, Member.PartyRole.MEMBER if not role_text else None)
    if role is None:
        messages.append(_("身份“%(role)s”无法识别（党员、支部书记或支委委员）。") % {"role": values.get("role")})
    joined = None
    try:
        joined = _date(values.get("joined"))
        if joined and joined > today:
            messages.append(_("入党日期不能晚于今天。"))
    except ValueError as exc:
        messages.append(str(exc))
    if messages:
        return None
    return _Parsed(name, number, keys.digest(number), phone, branch, role, joined)


def _existing(parsed: dict[int, _Parsed]) -> dict[str, Member]:
    """Members by the current hash of each number; while the hash key is being rotated
    (``IDENTITY_PREVIOUS_HASH_KEY`` set), rows not yet re-hashed are found by the previous key's hash."""
    wanted = {item.digest: item.digest for item in parsed.values()}
    previous = keys.keyring().previous_hash_key
    if previous:
        wanted |= {keys.digest(item.number, key=previous): item.digest for item in parsed.values()}
    return {wanted[m.id_number_digest]: m for m in Member.objects.filter(id_number_digest__in=list(wanted))}


def _check_duplicates(parsed: dict[int, _Parsed], results: dict[int, RowResult]) -> None:
    seen_number, seen_phone = {}, {}
    for row, item in parsed.items():
        for seen, value, label in ((seen_number, item.digest, _("身份证号")), (seen_phone, item.phone, _("手机号"))):
            if value and value in seen:
                results[row].messages.append(_("%(what)s与第 %(row)d 行重复。") % {"what": label, "row": seen[value]})
            elif value:
                seen[value] = row


def _check_phones(parsed: dict[int, _Parsed], existing: dict[str, Member], results: dict[int, RowResult]) -> None:
    phones = {item.phone: row for row, item in parsed.items() if item.phone}
    for member in Member.objects.filter(phone__in=phones).only("pk", "phone", "id_number_digest"):
        row = phones[member.phone]
        owner = existing.get(parsed[row].digest)
        if owner is None or owner.pk != member.pk:
            results[row].messages.append(_("手机号已被另一位用户使用。"))


def _plan(item: _Parsed, member: Member | None) -> str:
    if member is None:
        return NEW
    if member.org_unit_id != item.branch.pk:
        return MOVED
    same = (member.real_name, member.phone, member.party_role, member.joined_party_on) == (
        item.name,
        item.phone,
        item.role,
        item.joined,
    )
    return UNCHANGED if same and member.id_number_digest == item.digest else UPDATED


def place_in_unit(*, member: Member, unit: OrgUnit | None, on: datetime.date) -> None:
    """Close the member's open unit-history row and open one for ``unit`` from ``on`` (nothing if unchanged)."""
    current = BranchMembership.objects.filter(member=member, ended_on__isnull=True).select_related("unit").first()
    if current and unit and current.unit_id == unit.pk:
        return
    if current:
        if current.started_on >= on:
            current.delete()  # moved again the same day: the earlier row never held a day
        else:
            current.ended_on = on
            current.save(update_fields=["ended_on"])
        _count(current.unit, -1)
    if unit is not None:
        BranchMembership.objects.create(member=member, unit=unit, started_on=on)
        _count(unit, +1)
    if current:
        member_changed_on_commit(member_id=member.pk)  # moved: figures kept where the member belongs follow


def _count(unit: OrgUnit, delta: int) -> None:
    """The unit's and its ancestors' member counts, in one UPDATE (the path as stored now)."""
    path = OrgUnit.objects.filter(pk=unit.pk).values_list("path", flat=True).first()
    if path:
        OrgUnit.objects.filter(path__in=unit_and_ancestor_paths(path)).update(member_count=F("member_count") + delta)


def _apply(item: _Parsed, member: Member | None, on: datetime.date) -> None:
    if member is None:
        member = Member(username=f"m{item.digest[:12]}")
        member.set_unusable_password()
    elif member.party_role != item.role:
        member_changed_on_commit(member_id=member.pk)  # the requirement of their year changes
    member.real_name, member.phone, member.party_role = item.name, item.phone, item.role
    member.joined_party_on, member.org_unit = item.joined, item.branch
    member.id_number_digest, member.id_number_masked = item.digest, idcard.masked(item.number)
    if member.pk is None:
        member.save()
    member.id_number_sealed = keys.encrypt(item.number, member_id=member.pk)
    member.save()
    place_in_unit(member=member, unit=item.branch, on=on)
    _sync_secretary_role(member, item.branch, item.role)


def _sync_secretary_role(member: Member, branch: OrgUnit, role: str) -> None:
    """A 支部书记 holds their branch's secretary role group (what the site's secretary screens ask), and no other
    branch's: a move or a new secretary takes it from the old one's row."""
    from ..services import org_unit_ensure_roles

    held = UnitRole.objects.filter(role=UnitRole.Role.SECRETARY, group__user=member).exclude(unit=branch)
    member.groups.remove(*[unit_role.group_id for unit_role in held])
    if role == Member.PartyRole.SECRETARY:
        member.groups.add(org_unit_ensure_roles(unit=branch)[UnitRole.Role.SECRETARY])
    else:
        member.groups.remove(
            *UnitRole.objects.filter(role=UnitRole.Role.SECRETARY, unit=branch).values_list("group_id", flat=True)
        )


def import_roster(
    *, data: bytes, filename: str, units, by: Member | None, dry_run: bool, on: datetime.date
) -> RosterReport:
    """Read, check and (unless ``dry_run`` or any row is wrong) apply a roster; ``units`` are the units whose
    branches this import may place members in (the importer's subtree)."""
    try:
        rows, unknown = roster_rows(data=data, filename=filename)
        if not rows:
            raise RosterFileError(_("文件里只有表头，没有党员，请填好后再导入。"))
    except RosterFileError as exc:
        report = RosterReport(rows=[], unknown_columns=[], applied=False, file_error=str(exc))
        _record(report, data=data, filename=filename, by=by, dry_run=dry_run)
        return report
    codes = {str(values.get("branch") or "").strip() for _row, values in rows}
    branches = {unit.code: unit for unit in units.filter(code__in=codes)}
    results = {row: RowResult(row=row, outcome=ERROR, name=str(values.get("name") or "")) for row, values in rows}
    parsed = {row: p for row, values in rows if (p := _parse(values, branches, results[row], on))}
    _check_duplicates(parsed, results)
    existing = _existing(parsed)
    _check_phones(parsed, existing, results)
    for row, item in parsed.items():
        if not results[row].messages:
            results[row].outcome = _plan(item, existing.get(item.digest))
    report = RosterReport(rows=list(results.values()), unknown_columns=unknown, applied=False)
    if report.ok and not dry_run:
        with transaction.atomic():
            for row, item in parsed.items():
                if results[row].outcome != UNCHANGED:
                    _apply(item, existing.get(item.digest), on)
            report.applied = True
            _record(report, data=data, filename=filename, by=by, dry_run=dry_run)
    elif not dry_run:
        _record(report, data=data, filename=filename, by=by, dry_run=dry_run)
    return report


def _record(report: RosterReport, *, data: bytes, filename: str, by: Member | None, dry_run: bool) -> None:
    if dry_run:
        return
    RosterImport.objects.create(
        created_by=by,
        filename=filename[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        applied=report.applied,
        counts={**report.counts, "file_error": report.file_error, "unknown_columns": report.unknown_columns},
        report=[asdict(result) for result in report.rows],
    )
