"""The annual certificate: issued once per member and year when the requirement is met (the figures frozen as
issued), rendered as an A4 PDF with WeasyPrint and the Noto CJK fonts, with a QR code (segno) and a code that
anyone can check at /study/verify/<code>/ without signing in."""

import secrets

import segno
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from ..errors import QuizConflict
from ..models import StudyCertificate
from .hours import StudyHours

# Readable codes for the phone: no 0/O, 1/I/L.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def issue(*, member, hours: StudyHours) -> StudyCertificate:
    """The member's certificate for ``hours.year`` (the existing one if already issued)."""
    existing = StudyCertificate.objects.filter(member=member, year=hours.year).first()
    if existing:
        return existing
    if not hours.met:
        raise QuizConflict(
            _("%(year)d 年度学时 %(total)s，未达到 %(required)s 学时的要求，暂不能颁发证书。")
            % {"year": hours.year, "total": hours.total, "required": hours.required}
        )
    figures = {
        "online": str(hours.online_hours),
        "sessions": hours.sessions,
        "session_hours": str(hours.session_hours),
        "quizzes": hours.quizzes_passed,
        "quiz_hours": str(hours.quiz_hours),
    }
    try:
        with transaction.atomic():
            return StudyCertificate.objects.create(
                member=member,
                year=hours.year,
                code=new_code(),
                unit_name=member.org_unit.name if member.org_unit_id else "",
                total_hours=hours.total,
                required_hours=hours.required,
                figures=figures,
            )
    except IntegrityError:  # issued by a second press in the meantime
        return StudyCertificate.objects.get(member=member, year=hours.year)


def masked_name(name: str) -> str:
    """What the public check shows of a name: 王德明 → 王*明, 李四 → 李*."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def pdf(*, certificate: StudyCertificate, verify_url: str) -> bytes:
    from weasyprint import HTML  # imported when a certificate is drawn: it loads Pango and fonts

    qr = segno.make(verify_url, error="m").svg_inline(scale=1, omitsize=True, border=1)
    html = render_to_string(
        "courses/certificate.html",
        {"certificate": certificate, "name": certificate.member.get_full_name(), "qr": qr, "verify_url": verify_url},
    )
    return HTML(string=html).write_pdf()
