"""Site URLs of the courses outside the course pages: study hours, certificates and their public check, reports."""

from django.urls import path

from .site import hours, reports

urlpatterns = [
    path("hours/", hours.study_hours_page, name="courses_study_hours"),
    path("hours/<int:year>/", hours.study_hours_page, name="courses_study_hours_year"),
    path("hours/<int:year>/certificate/", hours.certificate_issue, name="courses_certificate_issue"),
    path("hours/<int:year>/certificate.pdf", hours.certificate_pdf, name="courses_certificate_pdf"),
    path("verify/<str:code>/", hours.certificate_verify, name="courses_certificate_verify"),
    path("reports/", reports.reports_page, name="courses_reports"),
    path("reports/hours/", reports.hours_report_page, name="courses_reports_hours"),
]
