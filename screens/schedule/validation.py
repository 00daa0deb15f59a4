"""What a schedule rule must be before it is saved (the admin's form calls it through ``ScheduleRule.clean``):
each problem as a short Chinese sentence on its field, nothing saved while one remains."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cms.selectors import unit_and_ancestor_paths

from ..models import ALL_DAYS, Priority


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
