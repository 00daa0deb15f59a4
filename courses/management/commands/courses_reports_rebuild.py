"""Recompute the reports' kept figures from the activity rows: every course's per-unit figures and the study hours
of the given years (after an upgrade that added a figure, or to check the incremental figures)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from courses.models import CoursePage
from courses.reports import hours, stats


class Command(BaseCommand):
    help = "重新计算学习报表（各期课程的单位统计和年度学时）。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, action="append", help="要重算学时的年份（可多次给出；默认今年）")
        parser.add_argument("--skip-courses", action="store_true", help="只重算学时，不重算各期课程")

    def handle(self, *args, **options):
        if not options["skip_courses"]:
            courses = list(CoursePage.objects.order_by("premiere_at"))
            for number, course in enumerate(courses, start=1):
                stats.rebuild(course=course)
                self.stdout.write(f"[{number}/{len(courses)}] {course.label}：已重算")
        for year in options["year"] or [timezone.localdate().year]:
            members = hours.rebuild(year=year)
            self.stdout.write(f"{year} 年学时：{members} 名党员有学时，已重算")
