"""Screens in the Wagtail admin: one 屏幕 menu with channels, schedule rules, screens, the pairing form and the
delivery rates (播放到达率). Each
screen's edit page links to its preview ("这块屏幕在某时刻播放什么、为什么") and its revoke button. Emergencies
(signed when sent; each one's page lists who acknowledged it) and, on the dashboard, the screens gone silent."""

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from cms.selectors import units_managed_by
from library.models import LibraryItem

from .admin.views import (
    ChannelViewSet,
    DeviceViewSet,
    EmergencyViewSet,
    OfflineDevicesPanel,
    RuleViewSet,
    delivery_view,
    emergency_view,
    pair_view,
    preview_view,
    revoke_view,
)
from .models import Channel, Device, Emergency, ScheduleRule

# Unit editors hold the library's item permissions (cms.services.ROLE_MODEL_PERMISSIONS); their unit's screens are
# the same editors' work, so the same permissions open these screens (which rows: the views' querysets, scoped).
for _model in (Channel, ScheduleRule, Device, Emergency):
    register_permission_policy(_model, ModelPermissionPolicy(_model, auth_model=LibraryItem), exact_class=True)


class ScreensViewSetGroup(ViewSetGroup):
    menu_label = gettext_lazy("屏幕与电视")
    menu_icon = "desktop"
    menu_order = 170
    items = (
        ChannelViewSet("screens_channels"),
        RuleViewSet("screens_rules"),
        DeviceViewSet("screens_devices"),
        EmergencyViewSet("screens_emergencies"),
    )


@hooks.register("register_admin_viewset")
def register_screens_viewsets():
    return ScreensViewSetGroup()


class PairMenuItem(MenuItem):
    def is_shown(self, request):
        return units_managed_by(request.user).exists()


@hooks.register("register_admin_urls")
def register_screens_urls():
    pair = [path("", pair_view, name="index")]
    device = [
        path("<int:device_id>/preview/", preview_view, name="preview"),
        path("<int:device_id>/revoke/", revoke_view, name="revoke"),
    ]
    emergency = [path("<int:emergency_id>/", emergency_view, name="detail")]
    return [
        path("screens-emergency/", include((emergency, "screens_emergency"), namespace="screens_emergency")),
        path("screens-pair/", include((pair, "screens_pair"), namespace="screens_pair")),
        path("screens-device/", include((device, "screens_device"), namespace="screens_device")),
        path("screens-delivery/", delivery_view, name="screens_delivery"),
    ]


@hooks.register("register_admin_menu_item")
def register_pair_menu_item():
    return PairMenuItem(gettext_lazy("配对屏幕"), reverse("screens_pair:index"), icon_name="link", order=175)


@hooks.register("register_admin_menu_item")
def register_delivery_menu_item():
    return PairMenuItem(gettext_lazy("播放到达率"), reverse("screens_delivery"), icon_name="table", order=176)


@hooks.register("construct_homepage_panels")
def dashboard_offline_screens(request, panels):
    panels.append(OfflineDevicesPanel())
