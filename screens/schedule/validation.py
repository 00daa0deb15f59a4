"""What a schedule rule and a playlist entry must be before they are saved (the admin's forms call these through
``ScheduleRule.clean`` and ``PlaylistEntry.clean``): each problem as a short Chinese sentence on its field, nothing
saved while one remains."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cms.selectors import unit_and_ancestor_paths
from library.models import LibraryItem

from ..models import ALL_DAYS, Priority

INFO_TEXT_MAX = 40  # one line in large type on a portrait screen


def days_valid(days: str) -> bool:
    return bool(days) and all(day in ALL_DAYS for day in days) and len(set(days)) == len(days)


def rule_check(rule) -> None:
    """Raise a ValidationError naming every field that is wrong."""
    errors: dict[str, list[str]] = {}
    if not days_valid(rule.days or ""):
        errors.setdefault("days", []).append(_("请只填写 1 到 7 的数字（1 是星期一），每天一次，如 12345。"))
    if rule.starts_on and rule.ends_on and rule.ends_on < rule.starts_on:
        errors.setdefault("ends_on", []).append(_("结束日期不能早于开始日期。"))
    if rule.priority == Priority.QUOTA and not (1 <= (rule.quota_seconds or 0) <= 3600):
        errors.setdefault("quota_seconds", []).append(_("上级必播时长须在 1 到 3600 秒之间。"))
    if rule.channel_id and rule.unit_id:
        message = _channel_message(rule)
        if message:
            errors.setdefault("channel", []).append(message)
    if errors:
        raise ValidationError(errors)


def _channel_message(rule) -> str:
    """Own, quota, emergency and filler rules schedule the unit's own channels; a subscribed rule a channel of a unit
    above it (content flows down the tree)."""
    owner = rule.channel.owning_unit
    if rule.priority != Priority.SUBSCRIBED:
        if owner.pk != rule.unit_id:
            return _("这类规则只能安排本单位自己的频道；要播上级的频道，请选“订阅的上级频道”。")
        return ""
    above = unit_and_ancestor_paths(rule.unit.path)[:-1]
    if owner.path not in above:
        return _("只能订阅上级单位的频道。")
    return ""


def entry_check(entry) -> None:
    """Raise a ValidationError when the entry lacks what its kind needs (a video, an image, a text, a newspaper's
    title), or names the wrong kind of library item."""
    errors: dict[str, str] = {}
    kind = entry.kind
    if kind == "video" and not entry.item_id:
        errors["item"] = _("“馆藏视频”要选一个视频条目。")
    elif kind == "image" and not entry.image_id:
        errors["image"] = _("“图片”要选一张图片。")
    elif kind == "notice" and not (entry.text or "").strip():
        errors["text"] = _("“通知文字”要填写通知的内容。")
    elif kind == "newspaper":
        message = _newspaper_message(entry)
        if message:
            errors["item"] = message
    elif kind == "info" and len(entry.text or "") > INFO_TEXT_MAX:
        errors["text"] = _("时钟页的文字请不超过 %(count)s 个字。") % {"count": INFO_TEXT_MAX}
    if entry.duration is not None and entry.duration < 1:
        errors["duration"] = _("显示时长至少 1 秒。")
    if errors:
        raise ValidationError(errors)


def _newspaper_message(entry) -> str:
    if not entry.item_id:
        return _("“报纸头版”要选一种电子报纸（选报名）。")
    item = entry.item
    if item.kind != LibraryItem.Kind.NEWSPAPER:
        return _("“报纸头版”只能选电子报纸，“%(title)s”不是电子报纸。") % {"title": item.title}
    if item.role != LibraryItem.Role.SERIES:
        return _("请选报纸的报名，不要选某一期：屏幕会自动显示最新一期的头版。")
    return ""
