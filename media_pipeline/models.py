"""Media assets, transcode jobs and renditions. Knows nothing of library items or courses."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MediaAsset(models.Model):
    """One uploaded master file (video or audio)."""

    class Kind(models.TextChoices):
        UNKNOWN = "unknown", _("未识别")
        VIDEO = "video", _("视频")
        AUDIO = "audio", _("音频")
        IMAGE = "image", _("图片")
        DOCUMENT = "document", _("文档")

    class State(models.TextChoices):
        PENDING = "pending", _("排队中")
        PROCESSING = "processing", _("转码中")
        READY = "ready", _("已完成")
        FAILED = "failed", _("失败")

    file = models.FileField(_("源文件"), upload_to="uploads/%Y/%m/", max_length=255)
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True, blank=True)
    size = models.BigIntegerField(_("大小（字节）"), default=0)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.UNKNOWN)
    duration = models.FloatField(_("时长（秒）"), null=True, blank=True)
    width = models.PositiveIntegerField(_("宽"), null=True, blank=True)
    height = models.PositiveIntegerField(_("高"), null=True, blank=True)
    probe = models.JSONField(_("探测结果"), default=dict, blank=True)
    # Summary of the current jobs, refreshed on every job transition (not on progress ticks), so lists can
    # show it without a query per row. The live percentage comes from the jobs themselves.
    state = models.CharField(_("处理状态"), max_length=16, choices=State.choices, default=State.PENDING)
    state_error = models.TextField(_("失败原因"), blank=True)
    # Per-item choices the profiles read: {"groups": ["screens"], "portrait_fill": "crop", "focal_x": 0.3}
    options = models.JSONField(_("转码选项"), default=dict, blank=True)
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

    class Group(models.TextChoices):
        """What a job makes: the analysis, then one job per group of profiles (steps.profiles.JOB_GROUPS)."""

        ANALYSE = "analyse", _("分析")
        LADDER = "ladder", _("网页多码率")
        TV = "tv", _("电视版")
        AUDIO_EDITION = "audio_edition", _("音频版")
        SCREENS = "screens", _("公共屏幕")
        IMAGES = "images", _("图片")
        DOCUMENT = "document", _("文档")

    # States in which a worker holds the lease; an expired lease there means the worker died.
    ACTIVE_STATES = (State.PROBING, State.ENCODING, State.PACKAGING, State.STORING)

    asset = models.ForeignKey(
        MediaAsset, verbose_name=_("媒体文件"), on_delete=models.CASCADE, related_name="transcode_jobs"
    )
    # "analyse" probes the master and measures loudness, then starts one job per group in steps.profiles.JOB_GROUPS.
    group = models.CharField(_("任务组"), max_length=32, choices=Group.choices, default=Group.ANALYSE)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("分析任务"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.QUEUED)
    progress = models.FloatField(_("进度"), default=0.0)
    priority = models.SmallIntegerField(_("优先级"), default=0)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    error = models.TextField(_("错误信息"), blank=True)
    log_tail = models.TextField(_("日志末尾"), blank=True)
    lease_owner = models.CharField(_("执行者"), max_length=128, blank=True)
    lease_expires_at = models.DateTimeField(_("租约到期"), null=True, blank=True)
    # When the queued job's task becomes runnable (now, or after a retry's back-off): a job still queued long
    # after this lost its task (a queue flushed, a scheduler missing) and the recovery sweep enqueues it again.
    due_at = models.DateTimeField(_("计划运行时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("转码任务")
        verbose_name_plural = _("转码任务")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "lease_expires_at"], name="transcode_job_lease"),
            models.Index(fields=["asset", "group", "-id"], name="transcode_job_asset_group"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.asset} ({self.get_state_display()})"


class Rendition(models.Model):
    """A finished output in storage. A row exists only once every one of its files is stored."""

    class Kind(models.TextChoices):
        HLS = "hls", _("HLS 自适应流")
        MP4 = "mp4", _("MP4 文件")
        AUDIO = "audio", _("音频文件")
        POSTER = "poster", _("封面图")
        IMAGE = "image", _("图片")
        SPRITE = "sprite", _("预览图")
        CAPTIONS = "captions", _("字幕")
        PAGES = "pages", _("文档页面")
        TEXT = "text", _("文本")

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
    duration = models.FloatField(_("时长（秒）"), null=True, blank=True)
    meta = models.JSONField(_("附加信息"), default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("转码成品")
        verbose_name_plural = _("转码成品")
        constraints = [models.UniqueConstraint(fields=["job", "profile"], name="rendition_one_per_job_profile")]

    def __str__(self):
        return f"{self.asset} · {self.profile}"


class Caption(models.Model):
    """A caption file (SRT or WebVTT) for an asset; the ladder turns it into a WebVTT subtitle rendition."""

    asset = models.ForeignKey(MediaAsset, verbose_name=_("媒体文件"), on_delete=models.CASCADE, related_name="captions")
    language = models.CharField(_("语言"), max_length=35, default="zh-Hans")
    label = models.CharField(_("名称"), max_length=64, default="中文")
    file = models.FileField(_("字幕文件"), upload_to="captions/%Y/%m/", max_length=255)
    is_default = models.BooleanField(_("默认显示"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("字幕")
        verbose_name_plural = _("字幕")
        constraints = [models.UniqueConstraint(fields=["asset", "language"], name="caption_one_per_language")]

    def __str__(self):
        return f"{self.asset} · {self.label}"


# --- Resumable uploads (uploads/resumable.py) ---


class Upload(models.Model):
    """A resumable (tus) upload of a master, its bytes kept under MEDIA_WORK_DIR/uploads/<id> until taken."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传者"), on_delete=models.CASCADE, related_name="+"
    )
    filename = models.CharField(_("原文件名"), max_length=255, blank=True)
    filetype = models.CharField(_("文件类型"), max_length=255, blank=True)
    length = models.BigIntegerField(_("总大小（字节）"))
    # Bytes durably written (fsynced) so far: the file on disk is truncated back to this on the next PATCH.
    offset = models.BigIntegerField(_("已接收（字节）"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"), db_index=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("断点续传上传")
        verbose_name_plural = _("断点续传上传")

    def __str__(self):
        return f"{self.filename or self.pk} ({self.offset}/{self.length})"

    @property
    def is_complete(self) -> bool:
        return self.offset >= self.length


# --- End of resumable uploads ---


class TranscodeChunk(models.Model):
    """One slice of a long source's ladder, encoded by whichever worker claims it (see jobs/chunks.py)."""

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("转码中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    job = models.ForeignKey(TranscodeJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    start = models.FloatField()
    end = models.FloatField()
    first_segment = models.PositiveIntegerField()
    last = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    lease_owner = models.CharField(max_length=128, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Storage names of the chunk's files when another worker encoded it; empty when the coordinator did.
    stored_files = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("分段")
        verbose_name_plural = _("分段")
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="transcode_chunk_unique_index")]

    def __str__(self):
        return f"{self.job_id}/{self.index}"
