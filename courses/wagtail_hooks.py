"""The courses in the Wagtail admin: one 大课堂 menu with question banks, questions and the bank import; course
pages themselves are Wagtail pages under the course index. A course that members have studied or answered cannot
be deleted (unpublish it instead): its attempts and completions are the record reports are built from."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import include, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from cms.selectors import units_managed_by
from library.models import LibraryItem

from .admin.analysis import question_analysis_view
from .admin.dashboard import CurrentCoursePanel
from .admin.views import QuestionBankViewSet, QuestionViewSet, bank_import_view
from .models import CoursePage, Question, QuestionBank
from .selectors import course_current, course_has_member_records

# Unit editors hold the library's item permissions (cms.services.ROLE_MODEL_PERMISSIONS); the question bank is the
# same editors' work, so the same permissions open it (which rows: the views' querysets, scoped to their units).
register_permission_policy(QuestionBank, ModelPermissionPolicy(QuestionBank, auth_model=LibraryItem), exact_class=True)
register_permission_policy(Question, ModelPermissionPolicy(Question, auth_model=LibraryItem), exact_class=True)


class CoursesViewSetGroup(ViewSetGroup):
    menu_label = gettext_lazy("大课堂")
    menu_icon = "group"
    menu_order = 160
    items = (QuestionBankViewSet("courses_banks"), QuestionViewSet("courses_questions"))


@hooks.register("register_admin_viewset")
def register_courses_viewsets():
    return CoursesViewSetGroup()


class BankImportMenuItem(MenuItem):
    def is_shown(self, request):
        return units_managed_by(request.user).exists()


@hooks.register("register_admin_urls")
def register_bank_import_urls():
    urls = [path("", bank_import_view, name="index")]
    analysis = [path("<int:course_id>/", question_analysis_view, name="course")]
    return [
        path("courses-bank-import/", include((urls, "courses_bank_import"), namespace="courses_bank_import")),
        path("courses-analysis/", include((analysis, "courses_analysis"), namespace="courses_analysis")),
    ]


@hooks.register("register_admin_menu_item")
def register_bank_import_menu_item():
    return BankImportMenuItem(
        gettext_lazy("导入题库"), reverse("courses_bank_import:index"), icon_name="upload", order=165
    )


@hooks.register("construct_homepage_panels")
def dashboard_current_course(request, panels):
    panels.append(CurrentCoursePanel())


@hooks.register("before_delete_page")
def keep_courses_with_records(request, page):
    if isinstance(page.specific, CoursePage) and course_has_member_records(page.specific):
        messages.error(request, _("已有党员学习或答题记录的课程不能删除（报表要用到这些记录），请改为“取消发布”。"))
        return redirect("wagtailadmin_pages:edit", page.pk)
    return None


@hooks.register("construct_home_page")
def home_current_course(request, sections):
    """The site's home page opens with this month's course the visitor may see (nothing before the first course)."""
    course = course_current(member=request.user)
    if course is not None:
        sections.append({"order": 10, "template": "courses/includes/home_course.html", "course": course})
