"""The roster screen's two steps: check a file (nothing written but the sealed file, kept an hour), then import
exactly that file. The file is sealed with the identity keys because it holds ID numbers in clear; its id is only
good for the editor who uploaded it, and importing deletes it, so a double click cannot import it twice."""

import datetime
import hashlib

from django.db import transaction
from django.utils import timezone

from ..models import Member, RosterUpload
from . import keys
from .importer import RosterReport, import_roster

KEEP = datetime.timedelta(hours=1)


def _context(upload_id: int, by: Member) -> bytes:
    return f"roster-upload:{upload_id}:{by.pk}".encode()


def uploads_expire() -> int:
    return RosterUpload.objects.filter(created_at__lt=timezone.now() - KEEP).delete()[0]


def check(
    *, by: Member, filename: str, data: bytes, units, on: datetime.date
) -> tuple[RosterUpload | None, RosterReport]:
    """Dry-run the file; if every row is fine, keep it sealed for the import step."""
    uploads_expire()
    report = import_roster(data=data, filename=filename, units=units, by=by, dry_run=True, on=on)
    if not report.ok:
        return None, report
    with transaction.atomic():
        upload = RosterUpload.objects.create(
            created_by=by, filename=filename[:255], sha256=hashlib.sha256(data).hexdigest(), sealed=b""
        )
        upload.sealed = keys.seal(data, context=_context(upload.pk, by))
        upload.save(update_fields=["sealed"])
    return upload, report


def apply(*, by: Member, upload_id: int, units, on: datetime.date) -> RosterReport | None:
    """Import the checked file (None when it is gone: imported already, expired, or someone else's)."""
    with transaction.atomic():
        upload = (
            RosterUpload.objects.select_for_update()
            .filter(pk=upload_id, created_by=by, created_at__gte=timezone.now() - KEEP)
            .first()
        )
        if upload is None:
            return None
        data = keys.unseal(upload.sealed, context=_context(upload.pk, by))
        if hashlib.sha256(data).hexdigest() != upload.sha256:
            return None
        filename = upload.filename
        upload.delete()
        return import_roster(data=data, filename=filename, units=units, by=by, dry_run=False, on=on)
