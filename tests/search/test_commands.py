from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_rebuild_command_indexes_everything(embedded, make_item):
    """`search_rebuild` indexes every registered item and says how many."""
    make_item("红楼梦有声书")
    make_item("西游记连环画")
    assert "已索引 2 个文档" in _run("search_rebuild")


def test_status_command_shows_outbox_lag_and_counts(embedded, make_item):
    """`search_status` shows pending changes, the embedded count and that no engine is configured."""
    make_item("红楼梦有声书")
    output = _run("search_status")
    assert "待同步变更: 1" in output and "内置索引文档数: 0" in output and "未配置" in output


def test_status_command_reports_an_unreachable_engine(settings, closed_port_url, db):
    """`search_status` reports a configured engine that cannot be reached, without failing."""
    settings.SEARCH_URL = closed_port_url
    assert "不可用" in _run("search_status")
