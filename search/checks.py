"""System checks of the search app: the configured engine answers (with --deploy or the `lighthouse` tag)."""

from django.conf import settings
from django.core.checks import Warning, register


def engine_probe() -> str:
    """Why the configured engine cannot be reached, or "" (also "" when the embedded index is in use)."""
    if not settings.SEARCH_URL:
        return ""
    from search.engines.choice import get_engine

    try:
        get_engine().ping()
    except Exception as exc:  # noqa: BLE001 - any client error means "unreachable"
        return str(exc)
    return ""


@register("lighthouse", deploy=True)
def check_search_engine(app_configs, **kwargs):
    reason = engine_probe()
    return [Warning(f"无法连接已配置的服务 search：{reason}", id="lighthouse.W002")] if reason else []
