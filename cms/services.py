"""Writes for the organisation tree, its roles and members."""

import datetime

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

from .models import Member, OrgUnit, UnitRole
from .roster import rotation
from .roster import uploads as roster_uploads
from .roster.importer import RosterReport, import_roster, place_in_unit
from .selectors import units_managed_by

ROLE_PAGE_PERMISSIONS = {
    UnitRole.Role.EDITOR: ["add_page", "change_page", "publish_page"],
    UnitRole.Role.ADMINISTRATOR: ["add_page", "change_page", "publish_page", "bulk_delete_page", "lock_page"],
}
# On the unit's own collection: editors upload, change and choose its pictures and documents (an e-book or a
# periodical issue is a document the item form chooses: without choose_document they could not publish one).
# Existing databases get choose_document from migration cms 0003.
ROLE_COLLECTION_PERMISSIONS = [
    "add_image",
    "change_image",
    "choose_image",
    "add_document",
    "change_document",
    "choose_document",
]
ROLE_MODEL_PERMISSIONS = [
    ("wagtailadmin", "access_admin"),
    ("library", "add_libraryitem"),
    ("library", "change_libraryitem"),
    ("library", "view_libraryitem"),
    ("library", "delete_libraryitem"),
    ("media_pipeline", "view_transcodejob"),
]
# Province editors and administrators look after search for the whole province: synonyms, promoted results and the
# search statistics (search's admin screens open to these model permissions). Granted by app label and codename:
# the organisation app imports no feature app. Existing databases get them from migration cms 0005.
ROLE_LEVEL_MODEL_PERMISSIONS = {
    OrgUnit.Level.PROVINCE: [
        ("search", "add_synonym"),
        ("search", "change_synonym"),
        ("search", "delete_synonym"),
        ("search", "view_synonym"),
        ("search", "add_promotion"),
        ("search", "change_promotion"),
        ("search", "delete_promotion"),
        ("search", "view_promotion"),
        ("search", "view_querystat"),
    ],
}
ROLES_BY_LEVEL = {
    OrgUnit.Level.PROVINCE: [UnitRole.Role.EDITOR, UnitRole.Role.ADMINISTRATOR],
    OrgUnit.Level.CITY: [UnitRole.Role.EDITOR, UnitRole.Role.ADMINISTRATOR],
    OrgUnit.Level.COUNTY: [UnitRole.Role.EDITOR, UnitRole.Role.ADMINISTRATOR],
    OrgUnit.Level.TOWNSHIP: [],
    OrgUnit.Level.BRANCH: [UnitRole.Role.SECRETARY],
}


@transaction.atomic
def org_unit_create(*, parent: OrgUnit | None, name: str, code: str, level: str) -> OrgUnit:
    """Create a unit, or return the existing one with this code (so demo loading is idempotent)."""
    existing = OrgUnit.objects.filter(code=code).first()
    if existing:
        return existing
    parent_collection = parent.collection if parent and parent.collection else Collection.get_first_root_node()
    collection = parent_collection.add_child(name=name)
    fields = {"name": name, "code": code, "level": level, "collection": collection}
    unit = parent.add_child(**fields) if parent else OrgUnit.add_root(**fields)
    return unit


@transaction.atomic
def org_unit_set_section_page(*, unit: OrgUnit, page: Page) -> OrgUnit:
    unit.section_page = page
    unit.save(update_fields=["section_page"])
    for role in unit.roles.all():
        _grant_role_permissions(role)
    return unit


@transaction.atomic
def org_unit_ensure_roles(*, unit: OrgUnit) -> dict[str, Group]:
    """The unit's role groups, scoped to its section page and its collection."""
    groups = {}
    for role in ROLES_BY_LEVEL[unit.level]:
        unit_role = UnitRole.objects.filter(unit=unit, role=role).select_related("group").first()
        if unit_role is None:
            label = UnitRole.Role(role).label
            group, _ = Group.objects.get_or_create(name=f"{unit.name}·{label}")
            unit_role = UnitRole.objects.create(group=group, unit=unit, role=role)
        _grant_role_permissions(unit_role)
        groups[role] = unit_role.group
    return groups


def _grant_role_permissions(unit_role: UnitRole) -> None:
    if unit_role.role not in ROLE_PAGE_PERMISSIONS:
        return
    group, unit = unit_role.group, unit_role.unit
    for app_label, codename in ROLE_MODEL_PERMISSIONS + ROLE_LEVEL_MODEL_PERMISSIONS.get(unit.level, []):
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    if unit.section_page_id:
        for codename in ROLE_PAGE_PERMISSIONS[unit_role.role]:
            GroupPagePermission.objects.get_or_create(
                group=group, page_id=unit.section_page_id, permission=Permission.objects.get(codename=codename)
            )
    if unit.collection_id:
        for codename in ROLE_COLLECTION_PERMISSIONS:
            GroupCollectionPermission.objects.get_or_create(
                group=group, collection_id=unit.collection_id, permission=Permission.objects.get(codename=codename)
            )


@transaction.atomic
def member_create(
    *,
    username: str,
    password: str,
    real_name: str = "",
    phone: str | None = None,
    org_unit: OrgUnit | None = None,
    roles: tuple[str, ...] = (),
    is_superuser: bool = False,
) -> Member:
    """Create (or update) a member and put them in their unit's role groups."""
    member, created = Member.objects.get_or_create(username=username)
    member.real_name, member.phone, member.org_unit = real_name, phone, org_unit
    member.is_superuser = member.is_staff = is_superuser
    member.set_password(password)
    member.save()
    place_in_unit(
        member=member, unit=org_unit, on=timezone.localdate(member.date_joined) if created else timezone.localdate()
    )
    if org_unit and roles:
        groups = org_unit_ensure_roles(unit=org_unit)
        member.groups.add(*(groups[role] for role in roles))
    return member


def roster_import(
    *, data: bytes, filename: str, by: Member | None, dry_run: bool = False, effective_on: datetime.date | None = None
) -> RosterReport:
    """Import the organisation department's roster (CSV or XLSX): members created or updated by ID number, moved
    between branches with their history kept, ID numbers sealed; all rows or none. ``by`` None is the command
    line (every unit); an editor places members only in branches of the units they manage."""
    units = OrgUnit.objects.all() if by is None else units_managed_by(by)
    return import_roster(
        data=data, filename=filename, units=units, by=by, dry_run=dry_run, on=effective_on or timezone.localdate()
    )


def member_move(*, member: Member, unit: OrgUnit, effective_on: datetime.date | None = None) -> Member:
    """Move a member to another unit from a day on (today by default), keeping their unit history."""
    with transaction.atomic():
        member.org_unit = unit
        member.save(update_fields=["org_unit"])
        place_in_unit(member=member, unit=unit, on=effective_on or timezone.localdate())
    return member


def identity_keys_rotate(*, progress=lambda n: None) -> int:
    """Re-seal and re-hash every stored ID number under the current keys (cms/roster/rotation.py)."""
    return rotation.rotate(progress=progress)


def roster_upload_check(*, by: Member, filename: str, data: bytes, effective_on: datetime.date | None = None):
    """The roster screen's check: (the kept upload or None, the row report); nothing else is written."""
    return roster_uploads.check(
        by=by, filename=filename, data=data, units=units_managed_by(by), on=effective_on or timezone.localdate()
    )


def roster_upload_apply(
    *, by: Member, upload_id: int, effective_on: datetime.date | None = None
) -> RosterReport | None:
    """Import the file the editor checked (None when it is no longer there to import)."""
    return roster_uploads.apply(
        by=by, upload_id=upload_id, units=units_managed_by(by), on=effective_on or timezone.localdate()
    )


def notices_send(*, members, kind: str, key: str, title: str, body: str = "", url: str = "") -> int:
    """A notice into each member's inbox (and by SMS/e-mail where the kind is switched on); idempotent by key."""
    from .accounts.notices import deliver

    return deliver(members=members, kind=kind, key=key, title=title, body=body, url=url)


def notices_mark_read(*, member: Member, notice_ids: list[int] | None = None) -> int:
    """Mark the member's notices read (all of them when no ids are given)."""
    from .models import Notice

    rows = Notice.objects.filter(member=member, read_at__isnull=True)
    if notice_ids is not None:
        rows = rows.filter(pk__in=notice_ids)
    return rows.update(read_at=timezone.now())


TEMPORARY_PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def member_password_reset_by_secretary(*, by: Member, member: Member) -> str:
    """The branch secretary's way back in for a member who forgot their password: a new temporary password (shown
    once to the secretary, who tells the member), only for members of a branch ``by`` leads."""
    import secrets

    from django.core.exceptions import PermissionDenied

    from .selectors import branches_led_by

    if member.pk == by.pk or not branches_led_by(by).filter(pk=member.org_unit_id).exists():
        raise PermissionDenied
    password = "".join(secrets.choice(TEMPORARY_PASSWORD_ALPHABET) for _ in range(10))
    member.set_password(password)
    member.save(update_fields=["password"])
    return password
