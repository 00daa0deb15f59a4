from django.core.management.base import BaseCommand
from django.db.models import Max, Min
from django.utils import timezone

from search.engine import engine_configured, get_cluster_engine, get_embedded_engine
from search.models import OutboxEntry
from search.results import SearchError


class Command(BaseCommand):
    help = "显示搜索状态：待同步变更（积压）、引擎健康、文档数。"

    def handle(self, *args, **options):
        self._outbox()
        self.stdout.write(f"内置索引文档数: {get_embedded_engine().count()}")
        if not engine_configured():
            self.stdout.write("搜索引擎: 未配置（使用内置索引）")
            return
        engine = get_cluster_engine()
        try:
            engine.ping()
            self.stdout.write(self.style.SUCCESS(f"搜索引擎 {engine.name}: 正常，文档数 {engine.count()}"))
        except SearchError as exc:
            self.stdout.write(self.style.ERROR(f"搜索引擎 {engine.name}: 不可用（{exc}）"))

    def _outbox(self) -> None:
        stats = OutboxEntry.objects.aggregate(oldest=Min("created_at"), attempts=Max("attempts"))
        pending = OutboxEntry.objects.count()
        lag = (timezone.now() - stats["oldest"]).total_seconds() if stats["oldest"] else 0
        self.stdout.write(f"待同步变更: {pending}，最早的已等待 {lag:.0f} 秒，最多尝试 {stats['attempts'] or 0} 次")
        failed = OutboxEntry.objects.exclude(last_error="").order_by("-id").first()
        if failed:
            self.stdout.write(self.style.WARNING(f"最近错误: {failed.last_error[:300]}"))
