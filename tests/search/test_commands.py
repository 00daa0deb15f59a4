"""The operators' commands: search_rebuild's summary, search_status's report and exit code, search_drain."""

import os
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from search.engines.choice import get_cluster_engine
from search.models import OutboxEntry
from search.services import search_outbox_drain

pytestmark = pytest.mark.django_db
OPENSEARCH_URL = os.environ.get("SEARCH_URL", "")
needs_opensearch = pytest.mark.skipif(
    not OPENSEARCH_URL or os.environ.get("SEARCH_ENGINE", "opensearch") != "opensearch",
    reason="needs a real OpenSearch node: SEARCH_URL is unset (run `make test`, or source var/services/env)",
)


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_rebuild_command_indexes_everything(embedded, make_item):
    """`search_rebuild` indexes every registered item and says how many."""
    make_item("红楼梦有声书")
    make_item("西游记连环画")
    assert "已索引 2 个文档" in _run("search_rebuild")


def test_status_command_shows_outbox_lag_and_counts(embedded, make_item):
    """`search_status` shows pending changes and their lag, registered objects, the embedded count and that no
    engine is configured."""
    make_item("红楼梦有声书")
    output = _run("search_status")
    assert "待同步变更: 1，最早的已等待" in output and "现在可处理: 1，等待重试: 0" in output
    assert "已登记对象数: 1" in output and "内置索引文档数: 0" in output and "未配置" in output
    search_outbox_drain()
    assert "待同步变更: 0（索引已同步）" in _run("search_status") and "内置索引文档数: 1" in _run("search_status")


def test_status_command_exits_1_when_the_engine_is_down(settings, closed_port_url, make_item):
    """With the engine configured but unreachable, `search_status` reports it (and the entries waiting for it,
    with their error) and exits with code 1 so a script can alert."""
    settings.SEARCH_URL = closed_port_url
    make_item("红楼梦有声书")
    search_outbox_drain()
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("search_status", stdout=out)
    assert failure.value.returncode == 1
    output = out.getvalue()
    assert "不可用" in output and "等待重试: 1（下次重试在" in output and "最多尝试次数: 1" in output
    assert "最近错误（library.libraryitem:" in output


def test_drain_command_applies_the_outbox(embedded, make_item):
    """`search_drain` applies what is due (a cron safety net behind the task queue) and says what is left."""
    make_item("红楼梦有声书")
    assert "已同步 1 个文档，剩余待同步变更 0 个" in _run("search_drain")
    assert not OutboxEntry.objects.exists()


@pytest.mark.services
@needs_opensearch
def test_status_command_on_a_live_engine(settings, make_item):
    """On a reachable engine `search_status` shows health and node count, the alias and its index, the engine's
    document count, and a rebuild in progress (the `-building` alias)."""
    settings.SEARCH_URL = OPENSEARCH_URL
    settings.SEARCH_INDEX_PREFIX = f"lhtest-status-{uuid.uuid4().hex[:8]}"
    engine = get_cluster_engine()
    try:
        make_item("红楼梦有声书")
        search_outbox_drain()
        engine.refresh()
        output = _run("search_status")
        assert "可连接" in output and "集群健康" in output and "节点数" in output
        assert f"别名 {engine.alias} → {engine.indices_behind_alias()[0]}" in output and "引擎文档数: 1" in output
        assert "正在重建" not in output
        building = engine.create_index()
        assert f"正在重建: {engine.alias}-building → {building}" in _run("search_status")
    finally:
        engine.admin.indices.delete(index=f"{engine.alias}-*", params={"ignore_unavailable": "true"}, ignore=[404])


def test_drain_command_can_retry_waiting_entries_at_once(settings, closed_port_url, make_item):
    """Entries waiting out their back-off stay until due; `search_drain --retry-now` (the engine is back) takes
    them at once."""
    settings.SEARCH_URL = closed_port_url
    make_item("红楼梦有声书")
    search_outbox_drain()
    settings.SEARCH_URL = ""
    assert "剩余待同步变更 1 个" in _run("search_drain")
    output = _run("search_drain", "--retry-now")
    assert "立即重试 1 个等待中的变更" in output and "剩余待同步变更 0 个" in output
