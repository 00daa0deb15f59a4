"""Screens and TV: channels of a unit, their playlists, the rules that schedule them, and the paired devices.

Every time of day here is Asia/Shanghai wall-clock time (``SCHEDULE_TIME_ZONE``), whatever ``settings.TIME_ZONE``
says: an editor in 济南 who writes 08:00 means 08:00 in 济南 on every server. What plays where and why is computed
by ``screens.selectors`` (the resolver) from these rows; nothing here stores a computed timeline.
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.images import get_image_model_string

SCHEDULE_TIME_ZONE = ZoneInfo("Asia/Shanghai")


class ScreenType(models.TextChoices):
    TV = "tv", _("电视")
    LANDSCAPE = "landscape", _("横屏")
    PORTRAIT = "portrait", _("竖屏")
    AUDIO = "audio", _("音频（广播）")


class Channel(ClusterableModel):
    """A unit's programme for one type of screen: a playlist that loops, placed in time by schedule rules."""

    name = models.CharField(_("名称"), max_length=100)
    owning_unit = models.ForeignKey(
        "cms.OrgUnit", verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="screen_channels"
    )
    screen_type = models.CharField(_("屏幕类型"), max_length=16, choices=ScreenType.choices)
    description = models.TextField(_("说明"), blank=True)
    # The linear channel (screens/linear/): anyone may watch it, like broadcast, so only public items play on it.
    is_linear = models.BooleanField(
        _("对外直播"),
        default=False,
        help_text=_("电视频道开启后，作为直播频道（HLS、节目指南、M3U）对外公开，机顶盒可直接收看；只播公开条目。"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("频道")
        verbose_name_plural = _("频道")
        ordering = ["owning_unit__path", "name", "id"]

    def __str__(self):
        return f"{self.name}（{self.get_screen_type_display()}）"


class PlaylistEntry(models.Model):
    """One step of a channel's loop, in the editor's order: a library video, an image slide, a notice, the front page
    of a newspaper's latest issue, the promotion of the current 灯塔大课堂 course, or a clock (Beijing date and time).
    A still lasts ``duration`` seconds; a video lasts as long as its rendition for the screen. The newspaper's issue
    and the course are chosen when the manifest is computed (``screens.selectors``)."""

    class Kind(models.TextChoices):
        VIDEO = "video", _("馆藏视频")
        IMAGE = "image", _("图片")
        NOTICE = "notice", _("通知文字")
        NEWSPAPER = "newspaper", _("报纸头版（最新一期）")
        COURSE = "course", _("大课堂课程推介")
        INFO = "info", _("时钟（北京时间）")

    sort_order_field = "sort_order"
    channel = ParentalKey(Channel, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.VIDEO)
    item = models.ForeignKey(
        "library.LibraryItem",
        verbose_name=_("馆藏条目"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("“馆藏视频”选视频；“报纸头版”选报纸的报名（不是某一期），屏幕自动显示最新一期的头版。"),
    )
    image = models.ForeignKey(
        get_image_model_string(),
        verbose_name=_("图片"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    text = models.TextField(_("通知文字"), blank=True, help_text=_("通知的文字；时钟页可加一行短文字（可不填）。"))
    duration = models.PositiveIntegerField(
        _("时长（秒）"), default=10, help_text=_("图片、通知、报纸、课程和时钟显示的秒数；视频按实际长度播放。")
    )
    sort_order = models.IntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("节目单条目")
        verbose_name_plural = _("节目单条目")
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="video", item__isnull=False)
                    | models.Q(kind="image", image__isnull=False)
                    | (models.Q(kind="notice") & ~models.Q(text=""))
                    | models.Q(kind="newspaper", item__isnull=False)
                    | models.Q(kind__in=("course", "info"))
                ),
                name="screens_entry_has_content",
                violation_error_message=_("这一条缺少内容：请按类型选择条目、图片或填写文字。"),
            ),
            models.CheckConstraint(condition=models.Q(duration__gte=1), name="screens_entry_duration_positive"),
        ]

    def __str__(self):
        if self.kind in (self.Kind.VIDEO, self.Kind.NEWSPAPER) and self.item_id:
            return str(self.item)
        if self.kind == self.Kind.IMAGE and self.image_id:
            return str(self.image)
        if self.kind in (self.Kind.COURSE, self.Kind.INFO) and not self.text:
            return str(self.get_kind_display())
        return self.text[:30]

    def clean(self):
        from .schedule.validation import entry_check

        entry_check(self)


class Priority(models.IntegerChoices):
    """Which rule wins: a smaller number first. The resolver tries them in this order."""

    EMERGENCY = 1, _("紧急插播")
    QUOTA = 2, _("上级必播时长")
    OWN = 3, _("本单位节目")
    SUBSCRIBED = 4, _("订阅的上级频道")
    FILLER = 5, _("垫片节目")


ALL_DAYS = "1234567"  # ISO weekdays, Monday = 1


class ScheduleRule(models.Model):
    """When a channel plays on which screens.

    ``unit`` is the unit that placed the rule; whose screens it reaches depends on the priority: emergency, quota
    and filler reach every screen of the unit's subtree; own and subscribed only the unit's own screens. Own,
    quota, emergency and filler rules schedule the unit's own channels; a subscribed rule a channel of a unit above.

    The daypart is local Asia/Shanghai time; an end at or before the start crosses midnight (22:00–02:00 belongs to
    the day it starts on: ``days`` and the date range are checked against that day). A quota rule plays
    ``quota_seconds`` of its channel at the start of every hour of its daypart.
    """

    unit = models.ForeignKey(
        "cms.OrgUnit", verbose_name=_("安排单位"), on_delete=models.PROTECT, related_name="screen_rules"
    )
    channel = models.ForeignKey(Channel, verbose_name=_("频道"), on_delete=models.CASCADE, related_name="rules")
    priority = models.PositiveSmallIntegerField(_("优先级"), choices=Priority.choices, default=Priority.OWN)
    days = models.CharField(
        _("星期"), max_length=7, default=ALL_DAYS, help_text=_("星期几播出：1 是星期一，7 是星期日，如 12345。")
    )
    start_time = models.TimeField(_("开始时间"), default="00:00", help_text=_("北京时间。"))
    end_time = models.TimeField(
        _("结束时间"), default="00:00", help_text=_("北京时间；早于或等于开始时间表示跨过午夜，相同表示全天。")
    )
    starts_on = models.DateField(_("开始日期"), null=True, blank=True)
    ends_on = models.DateField(_("结束日期"), null=True, blank=True, help_text=_("含当天；空表示一直有效。"))
    quota_seconds = models.PositiveIntegerField(
        _("每小时必播秒数"), default=0, help_text=_("只对“上级必播时长”有效：下级每块屏幕每小时播出的秒数。")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("播出规则")
        verbose_name_plural = _("播出规则")
        ordering = ["priority", "unit__path", "start_time", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(priority=2) | models.Q(quota_seconds__gte=1, quota_seconds__lte=3600),
                name="screens_rule_quota_in_hour",
            ),
        ]

    def __str__(self):
        return f"{self.channel.name} · {self.get_priority_display()} · {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def clean(self):
        from .schedule.validation import rule_check

        rule_check(self)


class Device(models.Model):
    """A paired screen: its unit, what kind of screen it is (which rendition it gets), its credential (only the
    hash is kept), and what its last heartbeat said."""

    name = models.CharField(_("名称"), max_length=100)
    unit = models.ForeignKey(
        "cms.OrgUnit", verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="screen_devices"
    )
    screen_type = models.CharField(_("屏幕类型"), max_length=16, choices=ScreenType.choices)
    width = models.PositiveIntegerField(_("宽（像素）"), default=1920)
    height = models.PositiveIntegerField(_("高（像素）"), default=1080)
    rotated = models.BooleanField(
        _("竖装横出"), default=False, help_text=_("竖着安装、播放器只能输出横屏信号的屏幕：画面转 90° 播放。")
    )
    muted = models.BooleanField(_("静音"), default=True, help_text=_("静音屏幕播放压入字幕、无声音的版本。"))
    location = models.CharField(_("位置"), max_length=200, blank=True)
    credential_id = models.CharField(max_length=32, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    revoked_at = models.DateTimeField(_("停用时间"), null=True, blank=True, editable=False)
    paired_at = models.DateTimeField(_("配对时间"), auto_now_add=True)
    paired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    last_heartbeat_at = models.DateTimeField(_("最近心跳"), null=True, blank=True, editable=False)
    last_manifest_version = models.CharField(_("节目单版本"), max_length=64, blank=True, editable=False)
    last_free_disk = models.BigIntegerField(_("剩余空间（字节）"), null=True, blank=True, editable=False)
    last_screen_width = models.PositiveIntegerField(_("实际宽"), null=True, blank=True, editable=False)
    last_screen_height = models.PositiveIntegerField(_("实际高"), null=True, blank=True, editable=False)
    last_clock_offset = models.FloatField(_("时钟偏差（秒）"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("屏幕")
        verbose_name_plural = _("屏幕")
        ordering = ["unit__path", "name", "id"]

    def __str__(self):
        return self.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class PairingRequest(models.Model):
    """A new screen waiting to be paired: it shows ``code`` to a person; its secret (kept only as a hash) becomes the
    device's credential once an editor of a unit enters the code. Single use, expiring."""

    credential_id = models.CharField(max_length=32, unique=True)
    secret_hash = models.CharField(max_length=64)
    code_digest = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    # The size the screen reported when it asked (its real pixels): the pairing form's default.
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    device = models.OneToOneField(Device, null=True, blank=True, on_delete=models.CASCADE, related_name="pairing")

    class Meta:
        verbose_name = _("配对请求")
        verbose_name_plural = _("配对请求")

    def __str__(self):
        return self.credential_id


class PlayRecord(models.Model):
    """Proof of play: one item a device played, as it reported it. Append-only and outside the main tables: nothing
    updates or deletes a row (old days are dropped whole). On PostgreSQL the table is partitioned by day on
    ``started_at`` (migration 0003, ``screens.plays.partitions``); elsewhere it is a plain table.

    ``id`` is the device's own UUID for the play, so a batch sent twice is stored once. ``started_at`` is the
    server-clock moment the device says the play began; one too far from the time it arrived is clamped to it and
    ``clock_suspect`` is set (a device whose clock is off must not fill another day)."""

    id = models.UUIDField(primary_key=True, editable=False)
    device = models.ForeignKey(Device, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    unit = models.ForeignKey("cms.OrgUnit", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    channel_id = models.IntegerField(null=True)
    entry_id = models.IntegerField(null=True)
    asset = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()
    seconds = models.FloatField()
    manifest_version = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField()
    clock_suspect = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("播放记录")
        verbose_name_plural = _("播放记录")
        indexes = [models.Index(fields=["unit", "started_at"], name="screens_play_unit_day")]

    def __str__(self):
        return f"{self.device_id} {self.started_at:%Y-%m-%d %H:%M:%S}"


# --- Stored manifests and emergencies (issue 18: manifests computed ahead, emergency takeover) ---------------------


class StoredManifest(models.Model):
    """A device's manifest as last computed (``screens.delivery.store``): a request is a lookup, not a computation.
    Recomputed after every change it depends on and when its six-hour window rolls; the signed links, the poll hint
    and the moment of the request are added when it is served, never stored."""

    device = models.OneToOneField(Device, primary_key=True, on_delete=models.CASCADE, related_name="stored_manifest")
    version = models.CharField(max_length=64)
    document = models.JSONField()
    window_start = models.DateTimeField(db_index=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("已算好的节目单")
        verbose_name_plural = _("已算好的节目单")

    def __str__(self):
        return f"{self.device_id}:{self.version[:12]}"


class Emergency(models.Model):
    """An emergency takeover: a channel or a message on every screen of ``unit``'s subtree from ``starts_at`` to
    ``ends_at``, signed with the screens' Ed25519 key (``key_id``, ``signature``) so a player shows only what this
    server sent and only until it expires. Each device acknowledges it (``EmergencyAck``)."""

    unit = models.ForeignKey(
        "cms.OrgUnit", verbose_name=_("发布单位"), on_delete=models.PROTECT, related_name="screen_emergencies"
    )
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("插播频道"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="emergencies",
        help_text=_("插播本单位的一个频道；不选则全屏显示下面的文字。"),
    )
    message = models.TextField(_("插播文字"), blank=True)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"), help_text=_("到时自动结束；最长 24 小时。"))
    cancelled_at = models.DateTimeField(_("撤销时间"), null=True, blank=True, editable=False)
    key_id = models.CharField(max_length=32, editable=False)
    signature = models.CharField(max_length=128, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("紧急插播")
        verbose_name_plural = _("紧急插播")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="screens_emergency_ends_after_start"
            ),
        ]

    def __str__(self):
        return self.message[:30] or str(self.channel)


class EmergencyAck(models.Model):
    """A device confirmed it holds an emergency with a valid signature (once per device and emergency)."""

    emergency = models.ForeignKey(Emergency, on_delete=models.CASCADE, related_name="acks")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="emergency_acks")
    acknowledged_at = models.DateTimeField()

    class Meta:
        verbose_name = _("插播确认")
        verbose_name_plural = _("插播确认")
        constraints = [models.UniqueConstraint(fields=["emergency", "device"], name="screens_ack_once")]

    def __str__(self):
        return f"{self.emergency_id}:{self.device_id}"
