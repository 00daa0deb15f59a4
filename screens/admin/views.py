"""Channels, schedule rules, screens and emergencies in the Wagtail admin, the pairing form, the preview page
"这块屏幕在某时刻播放什么、为什么", an emergency's page (who acknowledged it; cancel), the offline screens on the
dashboard and the delivery rates (播放到达率) of the editor's units.

Editors see and change only rows of units they manage (``cms.selectors.units_managed_by``: their unit and every
unit below it): another unit's channel, rule or screen is a 404 in every view that opens one, and the forms offer
only their units (and, for a subscribed rule, the channels of the units above them).
"""

from datetime import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.views import generic
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.model import ModelViewSet

from cms.models import OrgUnit
from cms.selectors import units_managed_by

from ..errors import EmergencyRefused, PairingRefused
from ..models import SCHEDULE_TIME_ZONE, Channel, Device, Emergency, Priority, ScheduleRule, ScreenType
from ..selectors import (
    OFFLINE_AFTER,
    channels_managed_by,
    channels_schedulable_by,
    delivery_rate,
    device_preview,
    devices_managed_by,
    devices_offline,
    devices_reached_by,
    emergencies_managed_by,
    rules_managed_by,
)
from ..services import device_pair, device_revoke, emergency_cancel, emergency_create


def _scoped(view_class, scope):
    """A generic view that finds its rows among ``scope(user)`` only."""

    def rows(self):
        return scope(self.request.user)

    if issubclass(view_class, (HistoryView, UsageView)):
        return type(view_class.__name__, (view_class,), {"get_base_object_queryset": rows})
    return type(view_class.__name__, (view_class,), {"get_queryset": rows, "get_base_object_queryset": rows})


class _UnitScopedForm(WagtailAdminModelForm):
    unit_field = "unit"

    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, for_user=for_user, **kwargs)
        if for_user is not None and self.unit_field in self.fields:
            self.fields[self.unit_field].queryset = units_managed_by(for_user).order_by("path")


# --- Channels -----------------------------------------------------------------------------------------------------


class ChannelForm(_UnitScopedForm):
    unit_field = "owning_unit"


class ChannelViewSet(ModelViewSet):
    model = Channel
    icon = "media"
    menu_label = gettext_lazy("频道")
    index_view_class = _scoped(generic.IndexView, channels_managed_by)
    edit_view_class = _scoped(generic.EditView, channels_managed_by)
    delete_view_class = _scoped(generic.DeleteView, channels_managed_by)
    history_view_class = _scoped(HistoryView, channels_managed_by)
    usage_view_class = _scoped(UsageView, channels_managed_by)
    copy_view_enabled = False
    inspect_view_enabled = False
    list_display = ["name", "screen_type", "owning_unit"]
    search_fields = ["name"]
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldRowPanel([FieldPanel("owning_unit"), FieldPanel("screen_type")]),
            FieldPanel("description"),
            FieldPanel("is_linear"),
            InlinePanel(
                "entries",
                label=gettext_lazy("节目单"),
                panels=[
                    FieldPanel("kind"),
                    FieldPanel("item"),
                    FieldPanel("image"),
                    FieldPanel("text"),
                    FieldPanel("duration"),
                ],
            ),
        ],
        base_form_class=ChannelForm,
    )


# --- Rules --------------------------------------------------------------------------------------------------------


class RuleForm(_UnitScopedForm):
    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, for_user=for_user, **kwargs)
        if for_user is not None and "channel" in self.fields:
            self.fields["channel"].queryset = channels_schedulable_by(for_user).select_related("owning_unit")


class RuleViewSet(ModelViewSet):
    model = ScheduleRule
    icon = "time"
    menu_label = gettext_lazy("播出规则")
    index_view_class = _scoped(generic.IndexView, rules_managed_by)
    edit_view_class = _scoped(generic.EditView, rules_managed_by)
    delete_view_class = _scoped(generic.DeleteView, rules_managed_by)
    history_view_class = _scoped(HistoryView, rules_managed_by)
    usage_view_class = _scoped(UsageView, rules_managed_by)
    copy_view_enabled = False
    inspect_view_enabled = False
    list_display = ["channel", "priority", "unit", "days", "start_time", "end_time", "is_active"]
    list_filter = ["priority", "is_active"]
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("unit"), FieldPanel("channel")]),
            FieldRowPanel([FieldPanel("priority"), FieldPanel("quota_seconds")]),
            MultiFieldPanel(
                [
                    FieldPanel("days"),
                    FieldRowPanel([FieldPanel("start_time"), FieldPanel("end_time")]),
                    FieldRowPanel([FieldPanel("starts_on"), FieldPanel("ends_on")]),
                ],
                heading=gettext_lazy("播出时段（北京时间）"),
            ),
            FieldPanel("is_active"),
        ],
        base_form_class=RuleForm,
    )


# --- Screens ------------------------------------------------------------------------------------------------------


class DeviceAddView(generic.CreateView):
    """Screens are added by pairing: the add button opens the pairing form."""

    def dispatch(self, request, *args, **kwargs):
        return redirect("screens_pair:index")


class DeviceIndexView(_scoped(generic.IndexView, devices_managed_by)):
    """Each screen's row also opens its preview (what it plays now and why; revoking is there too)."""

    def get_list_more_buttons(self, instance):
        preview = MenuItem(
            _("播放预览"), url=reverse("screens_device:preview", args=[instance.pk]), icon_name="view", priority=5
        )
        return [preview, *super().get_list_more_buttons(instance)]


class DeviceViewSet(ModelViewSet):
    model = Device
    icon = "desktop"
    menu_label = gettext_lazy("屏幕")
    index_view_class = DeviceIndexView
    add_view_class = DeviceAddView
    edit_view_class = _scoped(generic.EditView, devices_managed_by)
    delete_view_class = _scoped(generic.DeleteView, devices_managed_by)
    history_view_class = _scoped(HistoryView, devices_managed_by)
    usage_view_class = _scoped(UsageView, devices_managed_by)
    copy_view_enabled = False
    inspect_view_enabled = False
    list_display = ["name", "unit", "screen_type", "location", "last_heartbeat_at", "revoked_at"]
    search_fields = ["name", "location"]
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("name"), FieldPanel("unit")]),
            FieldPanel("location"),
            FieldRowPanel([FieldPanel("screen_type"), FieldPanel("width"), FieldPanel("height")]),
            FieldRowPanel([FieldPanel("rotated"), FieldPanel("muted")]),
        ],
        base_form_class=_UnitScopedForm,
    )


# --- Pairing ------------------------------------------------------------------------------------------------------


class PairForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("配对码"), max_length=12, help_text=gettext_lazy("新屏幕上显示的 6 位配对码。")
    )
    name = forms.CharField(label=gettext_lazy("屏幕名称"), max_length=100)
    unit = forms.ModelChoiceField(label=gettext_lazy("所属单位"), queryset=OrgUnit.objects.none())
    screen_type = forms.ChoiceField(label=gettext_lazy("屏幕类型"), choices=ScreenType.choices)
    width = forms.IntegerField(
        label=gettext_lazy("宽（像素）"),
        min_value=1,
        max_value=20000,
        required=False,
        help_text=gettext_lazy("不填则用屏幕自己报告的尺寸。"),
    )
    height = forms.IntegerField(label=gettext_lazy("高（像素）"), min_value=1, max_value=20000, required=False)
    rotated = forms.BooleanField(label=gettext_lazy("竖装横出"), required=False)
    muted = forms.BooleanField(label=gettext_lazy("静音"), required=False, initial=True)
    location = forms.CharField(label=gettext_lazy("位置"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units_managed_by(user).order_by("path")


def pair_view(request: HttpRequest) -> HttpResponse:
    if not units_managed_by(request.user).exists():
        raise PermissionDenied
    form = PairForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            device = device_pair(paired_by=request.user, **form.cleaned_data)
        except PairingRefused as refused:
            form.add_error("code", str(refused))
        else:
            messages.success(request, _("“%(name)s”已配对，几分钟内会开始播放。") % {"name": device.name})
            return redirect("screens_devices:edit", device.pk)
    return TemplateResponse(request, "screens/admin/pair.html", {"form": form})


@require_POST
def revoke_view(request: HttpRequest, device_id: int) -> HttpResponse:
    device = get_object_or_404(devices_managed_by(request.user), pk=device_id)
    device_revoke(device=device)
    messages.success(request, _("“%(name)s”已停用：它的凭证不再有效，要再用请重新配对。") % {"name": device.name})
    return redirect("screens_devices:edit", device.pk)


# --- Preview ------------------------------------------------------------------------------------------------------


# The calendar the preview and the delivery page accept: a day at either end of Python's (year 1 or 9999) cannot
# be moved by the 48 hours of a preview or converted to UTC, and no screen played then.
FIRST_YEAR, LAST_YEAR = 2000, 2099
_YEARS_MESSAGE = gettext_lazy("请选择 2000 年到 2099 年之间的日期。")


class PreviewForm(forms.Form):
    at = forms.DateTimeField(
        label=gettext_lazy("时刻（北京时间）"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean_at(self):
        value = self.cleaned_data["at"]
        if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise forms.ValidationError(_YEARS_MESSAGE, code="out_of_range")
        return value


def preview_moment(value: datetime | None) -> datetime:
    """The moment asked for, read as Beijing time whatever the server's zone; now when none was given."""
    if value is None:
        return timezone.now()
    return value.replace(tzinfo=None).replace(tzinfo=SCHEDULE_TIME_ZONE)


def preview_view(request: HttpRequest, device_id: int) -> HttpResponse:
    device = devices_managed_by(request.user).filter(pk=device_id).select_related("unit").first()
    if device is None:
        raise Http404
    form = PreviewForm(request.GET or None)
    value = form.cleaned_data.get("at") if form.is_bound and form.is_valid() else None
    moment = preview_moment(value)
    preview = device_preview(device=device, moment=moment)
    context = {
        "device": device,
        "form": form,
        "moment": moment.astimezone(SCHEDULE_TIME_ZONE),
        "preview": preview,
        "priorities": dict(Priority.choices),
    }
    return TemplateResponse(request, "screens/admin/preview.html", context)


# --- Delivery rates (proof of play rolled up) --------------------------------------------------------------------


class DeliveryForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_day(self):
        value = self.cleaned_data["day"]
        if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise forms.ValidationError(_YEARS_MESSAGE, code="out_of_range")
        return value


def delivery_view(request: HttpRequest) -> HttpResponse:
    """Each unit the editor manages, down to one level below their own: of what was scheduled on its subtree's
    screens that day, how much played."""
    managed = list(units_managed_by(request.user).order_by("path"))
    if not managed:
        raise PermissionDenied
    form = DeliveryForm(request.GET or None)
    now = timezone.now()
    day = (form.cleaned_data.get("day") if form.is_bound and form.is_valid() else None) or now.astimezone(
        SCHEDULE_TIME_ZONE
    ).date()
    top = min(unit.depth for unit in managed)
    rows = [(unit, delivery_rate(unit=unit, day=day, moment=now)) for unit in managed if unit.depth <= top + 1]
    return TemplateResponse(request, "screens/admin/delivery.html", {"form": form, "day": day, "rows": rows})


# --- Emergencies --------------------------------------------------------------------------------------------------


class EmergencyForm(_UnitScopedForm):
    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, for_user=for_user, **kwargs)
        if for_user is not None and "channel" in self.fields:
            self.fields["channel"].queryset = channels_managed_by(for_user).select_related("owning_unit")


class EmergencyCreateView(generic.CreateView):
    """Sent through the service: it checks, signs and stores in one transaction (a refusal shows on the form)."""

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            self.object = emergency_create(
                created_by=self.request.user,
                unit=data["unit"],
                channel=data.get("channel"),
                message=data.get("message", ""),
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
            )
        except EmergencyRefused as refused:
            form.add_error(None, str(refused))
            self.produced_error_message = str(refused)
            return self.form_invalid(form)
        messages.success(self.request, _("紧急插播已签名发出，各屏幕下次取节目单时开始插播。"))
        return redirect("screens_emergency:detail", self.object.pk)


class EmergencyEditView(generic.EditView):
    """A signed emergency is not edited: its page shows who acknowledged it and can cancel it."""

    def dispatch(self, request, *args, **kwargs):
        return redirect("screens_emergency:detail", kwargs["pk"])


class EmergencyViewSet(ModelViewSet):
    model = Emergency
    icon = "warning"
    menu_label = gettext_lazy("紧急插播")
    index_view_class = _scoped(generic.IndexView, emergencies_managed_by)
    add_view_class = EmergencyCreateView
    edit_view_class = EmergencyEditView
    delete_view_class = _scoped(generic.DeleteView, emergencies_managed_by)
    history_view_class = _scoped(HistoryView, emergencies_managed_by)
    usage_view_class = _scoped(UsageView, emergencies_managed_by)
    copy_view_enabled = False
    inspect_view_enabled = False
    list_display = ["__str__", "unit", "starts_at", "ends_at", "cancelled_at"]
    form_fields = ["unit", "channel", "message", "starts_at", "ends_at"]
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("unit"), FieldPanel("channel")]),
            FieldPanel("message"),
            FieldRowPanel([FieldPanel("starts_at"), FieldPanel("ends_at")]),
        ],
        base_form_class=EmergencyForm,
    )


def emergency_view(request: HttpRequest, emergency_id: int) -> HttpResponse:
    """One emergency: what it shows, until when, and each screen it reaches with whether it acknowledged it."""
    emergency = get_object_or_404(emergencies_managed_by(request.user), pk=emergency_id)
    if request.method == "POST":
        emergency_cancel(emergency=emergency)
        messages.success(request, _("紧急插播已撤销，各屏幕下次取节目单时停止插播。"))
        return redirect("screens_emergency:detail", emergency.pk)
    acks = dict(emergency.acks.values_list("device_id", "acknowledged_at"))
    devices = [(device, acks.get(device.pk)) for device in devices_reached_by(emergency).select_related("unit")]
    context = {
        "emergency": emergency,
        "devices": devices,
        "acknowledged": sum(1 for _device, at in devices if at),
        "over": emergency.cancelled_at is not None or emergency.ends_at <= timezone.now(),
    }
    return TemplateResponse(request, "screens/admin/emergency.html", context)


# --- Offline screens on the dashboard -----------------------------------------------------------------------------


class OfflineDevicesPanel(Component):
    """屏幕离线: the editor's screens without a heartbeat for OFFLINE_AFTER (the first rows, and how many in all)."""

    name = "lighthouse_screens_offline"
    template_name = "screens/admin/dashboard_offline.html"
    order = 35
    rows = 20

    def get_context_data(self, parent_context):
        offline = devices_offline(parent_context["request"].user, now=timezone.now())
        minutes = int(OFFLINE_AFTER.total_seconds() // 60)
        return {"devices": offline[: self.rows], "count": offline.count(), "minutes": minutes}
