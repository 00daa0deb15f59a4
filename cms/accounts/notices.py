"""Delivering notices: into each member's in-site inbox (always), and by text message or e-mail for the kinds an
operator switches on (``NOTIFY_SMS_KINDS``, ``NOTIFY_EMAIL_KINDS``; none by default: a province-wide SMS costs
money and goes through SMS_BACKEND, which only logs until a provider is configured).

Members are read in batches by id, so a notice to a million members is a few hundred INSERTs of a few thousand
rows, each idempotent by (member, key): a task that reruns after a crash sends nothing twice."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import QuerySet

from ..models import Member, Notice
from .sms import sms_available, sms_send

logger = logging.getLogger(__name__)
BATCH = 2000


def _extra_channels(kind: str) -> tuple[bool, bool]:
    return kind in getattr(settings, "NOTIFY_SMS_KINDS", ()), kind in getattr(settings, "NOTIFY_EMAIL_KINDS", ())


def deliver(*, members: QuerySet[Member], kind: str, key: str, title: str, body: str = "", url: str = "") -> int:
    """Send one notice to every member of ``members`` not yet holding ``key``; returns how many were new."""
    sms, email = _extra_channels(kind)
    sms = sms and sms_available()
    sent, last = 0, 0
    while True:
        batch = list(members.filter(pk__gt=last).order_by("pk").values_list("pk", "phone", "email")[:BATCH])
        if not batch:
            return sent
        last = batch[-1][0]
        have = set(
            Notice.objects.filter(key=key, member_id__in=[row[0] for row in batch]).values_list("member_id", flat=True)
        )
        fresh = [row for row in batch if row[0] not in have]
        Notice.objects.bulk_create(
            [Notice(member_id=pk, key=key, title=title, body=body, url=url) for pk, _phone, _email in fresh],
            ignore_conflicts=True,
        )
        sent += len(fresh)
        for _pk, phone, address in fresh:
            _outside(sms=sms and phone, email=email and address, title=title, body=body)


def _outside(*, sms, email, title: str, body: str) -> None:
    """Text message and e-mail are best effort: a failed one is logged, never retried into a second copy."""
    try:
        if sms:
            sms_send(phone=sms, text=f"【灯塔】{title}")
        if email:
            send_mail(subject=title, message=body or title, from_email=None, recipient_list=[email])
    except Exception:
        logger.exception("notice not sent outside the inbox")
