"""Media assets, transcode jobs and renditions. Knows nothing of library items or courses."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MediaAsset(models.Model):
    """One uploaded master file (video or audio)."""

    class Kind(models.TextChoices):
        UNKNOWN = "unknown", _("未识别")
        VIDEO = "video", _("视频")
        AUDIO = "audio", _("音频")

    file = models.FileField(_("源文件"), upload_to="uploads/%Y/%m/", max_length=255)
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True, blank=True)
    size = models.BigIntegerField(_("大小（字节）"), default=0)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.UNKNOWN)
    duration = models.FloatField(_("时长（秒）"), null=True, blank=True)
    width = models.PositiveIntegerField(_("宽"), null=True, blank=True)
    height = models.PositiveIntegerField(_("高"), null=True, blank=True)
    probe = models.JSONField(_("探测结果"), default=dict, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("媒体文件")
        verbose_name_plural = _("媒体文件")

    def __str__(self):
        return self.original_name or self.file.name


class TranscodeJob(models.Model):
    """One attempt-series at turning an asset into its renditions; a worker holds it under a lease."""

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        PROBING = "probing", _("分析中")
        ENCODING = "encoding", _("转码中")
        PACKAGING = "packaging", _("打包中")
        STORING = "storing", _("保存中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        CANCELLED = "cancelled", _("已取消")

    # States in which a worker holds the lease; an expired lease there means the worker died.
    ACTIVE_STATES = (State.PROBING, State.ENCODING, State.PACKAGING, State.STORING)

    asset = models.ForeignKey(
        MediaAsset, verbose_name=_("媒体文件"), on_delete=models.CASCADE, related_name="transcode_jobs"
    )
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.QUEUED)
    progress = models.FloatField(_("进度"), default=0.0)
    priority = models.SmallIntegerField(_("优先级"), default=0)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    error = models.TextField(_("错误信息"), blank=True)
    log_tail = models.TextField(_("日志末尾"), blank=True)
    lease_owner = models.CharField(_("执行者"), max_length=128, blank=True)
    lease_expires_at = models.DateTimeField(_("租约到期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("转码任务")
        verbose_name_plural = _("转码任务")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "lease_expires_at"], name="transcode_job_lease")]

    def __str__(self):
        return f"#{self.pk} {self.asset} ({self.get_state_display()})"


class Rendition(models.Model):
    """A finished output in storage. A row exists only once every one of its files is stored."""

    class Kind(models.TextChoices):
        HLS = "hls", _("HLS 自适应流")
        POSTER = "poster", _("封面图")

    asset = models.ForeignKey(
        MediaAsset, verbose_name=_("媒体文件"), on_delete=models.CASCADE, related_name="renditions"
    )
    job = models.ForeignKey(
        TranscodeJob, verbose_name=_("转码任务"), on_delete=models.CASCADE, related_name="renditions"
    )
    profile = models.CharField(_("配置"), max_length=64)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    path = models.CharField(_("存储路径"), max_length=500, help_text=_("主播放列表或文件在存储中的名称"))
    width = models.PositiveIntegerField(_("宽"), null=True, blank=True)
    height = models.PositiveIntegerField(_("高"), null=True, blank=True)
    bandwidth = models.PositiveIntegerField(_("峰值码率"), null=True, blank=True)
    size = models.BigIntegerField(_("大小（字节）"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("转码成品")
        verbose_name_plural = _("转码成品")
        constraints = [models.UniqueConstraint(fields=["job", "profile"], name="rendition_one_per_job_profile")]

    def __str__(self):
        return f"{self.asset} · {self.profile}"
