"""The member's study hours (学时) page, their certificate as a PDF, and the public check of a certificate's code."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from .. import selectors, services
from ..credits import certificates
from ..errors import CourseError
from .views import _private


@login_required
def study_hours_page(request, year: int | None = None):
    year = year or timezone.localdate().year
    if not 2000 <= year <= timezone.localdate().year:
        raise Http404
    hours = selectors.study_hours(member=request.user, year=year)
    context = {
        "hours": hours,
        "years": selectors.years_with_activity(request.user),
        "certificate": selectors.certificate_of(member=request.user, year=year),
    }
    return _private(TemplateResponse(request, "courses/study_hours.html", context))


@login_required
@require_POST
def certificate_issue(request, year: int):
    try:
        services.study_certificate_issue(member=request.user, year=year)
    except CourseError as exc:
        messages.error(request, exc.message)
        return redirect("courses_study_hours_year", year=year)
    return redirect("courses_certificate_pdf", year=year)


@login_required
def certificate_pdf(request, year: int):
    certificate = selectors.certificate_of(member=request.user, year=year)
    if certificate is None:
        raise Http404
    url = request.build_absolute_uri(reverse("courses_certificate_verify", args=[certificate.code]))
    response = HttpResponse(certificates.pdf(certificate=certificate, verify_url=url), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="study-hours-{year}.pdf"'
    return _private(response)


def certificate_verify(request, code: str):
    """Anyone may check a code: the certificate's year, hours and branch, the name masked (王*明)."""
    certificate = selectors.certificate_by_code(code)
    context = {
        "certificate": certificate,
        "name": certificates.masked_name(certificate.member.get_full_name()) if certificate else "",
        "code": code,
    }
    response = TemplateResponse(request, "courses/certificate_verify.html", context, status=200 if certificate else 404)
    response["X-Robots-Tag"] = "noindex"
    return response
