"""System checks of the organisation app: tell an operator plainly when a configured service is missing (the ffmpeg
tools are media_pipeline's own check, the search engine search's)."""

from django.core.checks import Warning, register


@register("lighthouse", deploy=True)
def check_services(app_configs, **kwargs):
    """Reach each configured service once; only runs with --deploy or the `lighthouse` tag."""
    from .health import service_probes

    return [
        Warning(f"无法连接已配置的服务 {name}：{reason}", id="lighthouse.W001")
        for name, reason in service_probes()
        if reason
    ]
