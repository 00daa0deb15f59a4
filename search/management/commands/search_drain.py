"""`manage.py search_drain`: apply the outbox now, e.g. from cron as a safety net behind the task queue."""

from django.core.management.base import BaseCommand

from search.models import OutboxEntry
from search.services import search_outbox_drain_all, search_outbox_retry_now


class Command(BaseCommand):
    help = "立即处理到期的搜索待同步变更（可由 cron 定时运行，作为任务队列之外的保障）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--retry-now", action="store_true", help="不等退避时间，立即重试等待中的变更（例如搜索引擎刚恢复）。"
        )

    def handle(self, *args, retry_now: bool, **options):
        if retry_now:
            self.stdout.write(f"立即重试 {search_outbox_retry_now()} 个等待中的变更。")
        drained = search_outbox_drain_all()
        left = OutboxEntry.objects.count()
        self.stdout.write(f"已同步 {drained} 个文档，剩余待同步变更 {left} 个。")
