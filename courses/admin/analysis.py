"""题目分析 in the admin: how each question of a course's quiz worked (difficulty, discrimination, flags), for the
editors who may edit the course; flagged questions first, each linked to its edit form."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from ..models import CoursePage
from ..reports.analysis import MIN_ANSWERS, question_analysis


def question_analysis_view(request: HttpRequest, course_id: int) -> HttpResponse:
    course = CoursePage.objects.filter(pk=course_id).first()
    if course is None:
        raise Http404
    if not course.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    stats = question_analysis(course=course)
    context = {
        "course": course,
        "stats": stats,
        "min_answers": MIN_ANSWERS,
        "flagged": sum(1 for s in stats if s.flags),
    }
    return TemplateResponse(request, "courses/admin/question_analysis.html", context)
