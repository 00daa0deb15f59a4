"""Close every quiz attempt whose deadline has passed (the task queue does it by itself; this is for a cron)."""

from django.core.management.base import BaseCommand

from courses.services import quiz_attempts_expire_due


class Command(BaseCommand):
    help = "按答题截止时间自动交卷（已过截止时间仍未交卷的答题）。"

    def handle(self, *args, **options):
        closed = quiz_attempts_expire_due()
        self.stdout.write(f"已自动交卷 {closed} 次答题。")
