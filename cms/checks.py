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


@register("lighthouse", deploy=True)
def check_sms_backend(app_configs, **kwargs):
    """A forgotten password's SMS code would only reach the log: production leaves SMS_BACKEND empty (no SMS
    reset, the secretary's way only) until a provider's backend is configured; naming the logging one warns."""
    from django.conf import settings

    from .accounts.sms import LOGGING_BACKEND

    if getattr(settings, "SMS_BACKEND", LOGGING_BACKEND) != LOGGING_BACKEND:
        return []
    return [
        Warning(
            "SMS_BACKEND 仍是只写日志的默认值：忘记密码的短信验证码不会发到党员手机上（验证码会写进日志）。",
            hint="接入短信服务商：写一个 cms.accounts.sms.SMSBackend 的子类，用 SMS_BACKEND 指定它；"
            "或不设 SMS_BACKEND，只保留找支部书记重设密码的办法。",
            id="lighthouse.W003",
        )
    ]


@register("lighthouse", deploy=True)
def check_identity_keys(app_configs, **kwargs):
    """Roster ID numbers need their keys: in production, IDENTITY_KEYS and IDENTITY_HASH_KEY, well formed."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from .roster import keys

    if not getattr(settings, "IDENTITY_KEYS_REQUIRED", False):
        return []
    keys.keyring.cache_clear()
    try:
        keys.keyring()
    except ImproperlyConfigured as exc:
        return [
            Warning(
                f"身份证号密钥不可用：{exc}花名册导入和身份证号查询将被拒绝。",
                hint="生成密钥：python manage.py rotate_identity_keys --new-key；写成 IDENTITY_KEYS=k1:<密钥>，"
                "另设 IDENTITY_HASH_KEY=<密钥>。",
                id="lighthouse.W004",
            )
        ]
    return []
