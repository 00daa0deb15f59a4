"""The course on the editors' dashboard: this month's course (the one members see first) with its dates, so an
editor knows what members are studying now and until when. Nothing is shown while there is no course."""

from wagtail.admin.ui.components import Component

from courses.selectors import course_current


class CurrentCoursePanel(Component):
    """本月课程: courses.selectors.course_current, linked to its page in the admin."""

    name = "lighthouse_current_course"
    template_name = "courses/admin/dashboard_course.html"
    order = 50

    def get_context_data(self, parent_context):
        return {"course": course_current()}
