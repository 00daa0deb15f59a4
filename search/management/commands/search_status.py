"""`manage.py search_status`: is search in sync and healthy? Exit code 1 when the configured engine is down, so a
monitoring script can alert on it."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max, Min, Q
from django.utils import timezone

from search import registry
from search.engines.choice import engine_configured, get_cluster_engine, get_embedded_engine
from search.engines.results import SearchError
from search.models import OutboxEntry

_HEALTH = {"green": "正常（green）", "yellow": "部分副本未分配（yellow）", "red": "有分片不可用（red）"}


def _seconds(delta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} 秒"
    if seconds < 7200:
        return f"{seconds // 60} 分钟"
    return f"{seconds // 3600} 小时 {seconds % 3600 // 60} 分钟"


def _outbox_lines() -> list[str]:
    now = timezone.now()
    stats = OutboxEntry.objects.aggregate(oldest=Min("created_at"), attempts=Max("attempts"))
    pending = OutboxEntry.objects.count()
    if not pending:
        return ["待同步变更: 0（索引已同步）"]
    waiting = OutboxEntry.objects.filter(next_attempt_at__gt=now)
    due = OutboxEntry.objects.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    next_try = waiting.aggregate(at=Min("next_attempt_at"))["at"]
    lines = [
        f"待同步变更: {pending}，最早的已等待 {_seconds(now - stats['oldest'])}（同步延迟）",
        f"  现在可处理: {due.count()}，等待重试: {waiting.count()}"
        + (f"（下次重试在 {_seconds(next_try - now)} 后）" if next_try else ""),
        f"  最多尝试次数: {stats['attempts'] or 0}",
    ]
    failed = OutboxEntry.objects.exclude(last_error="").order_by("-id").first()
    if failed:
        lines.append(f"  最近错误（{failed.doc_id}）: {failed.last_error[:300]}")
    return lines


def _engine_details(engine) -> list[str]:
    """Health, nodes, aliases and counts of a reachable engine; a detail it will not give is shown as unknown."""
    lines = []
    try:
        health = engine.client.cluster.health()
        lines.append(
            f"  集群健康: {_HEALTH.get(health['status'], health['status'])}，节点数 {health['number_of_nodes']}"
        )
    except Exception as exc:  # noqa: BLE001 — a status report shows what it can
        lines.append(f"  集群健康: 未知（{exc}）")
    try:
        lines.append(
            f"  别名 {engine.alias} → {', '.join(engine.indices_behind_alias()) or '（不存在，首次写入时创建）'}"
        )
        lines.append(f"  引擎文档数: {engine.count()}")
    except SearchError as exc:
        lines.append(f"  索引: 未知（{exc}）")
    building = f"{engine.alias}-building"
    try:
        if engine.client.indices.exists_alias(name=building):
            names = ", ".join(sorted(engine.client.indices.get_alias(name=building)))
            lines.append(f"  正在重建: {building} → {names}（重建期间的变更同时写入新索引）")
    except Exception as exc:  # noqa: BLE001
        lines.append(f"  重建状态: 未知（{exc}）")
    return lines


class Command(BaseCommand):
    help = "显示搜索状态：待同步变更（积压和延迟）、引擎健康和节点数、别名、各索引文档数、是否正在重建。"

    def handle(self, *args, **options):
        for line in _outbox_lines():
            self.stdout.write(line)
        self.stdout.write(f"已登记对象数: {registry.count_objects()}")
        self.stdout.write(f"内置索引文档数: {get_embedded_engine().count()}")
        if not engine_configured():
            self.stdout.write("搜索引擎: 未配置（使用内置索引）")
            return
        engine = get_cluster_engine()
        try:
            engine.ping()
        except SearchError as exc:
            self.stdout.write(self.style.ERROR(f"搜索引擎 {engine.name}: 不可用（{exc}），搜索由内置索引应答"))
            raise CommandError("搜索引擎不可用", returncode=1) from exc
        self.stdout.write(self.style.SUCCESS(f"搜索引擎 {engine.name}: 可连接"))
        for line in _engine_details(engine):
            self.stdout.write(line)
