"""The web player's two documents: the page a kiosk or TV browser opens, and its Service Worker.

Both are public (a screen has no member account; it authenticates its API calls with its own credential, kept in
the browser's localStorage). The Service Worker is served from /screens/player/sw.js so its scope covers the page,
with ``Cache-Control: no-cache`` so a changed worker is picked up on the next start; Workbox's modules come from our
static files (``settings.WORKBOX_MODULES``), never from a CDN: a screen may sit on a network that reaches only us.
"""

import json

from django.conf import settings
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from ..emergency.signing import SIGNATURE_HEADER, public_keys

ASSET_PREFIX = "asset/"  # /screens/player/asset/<key>: the Service Worker's cache key for a file, not a real URL


def _config() -> dict:
    page = reverse("screens_player:page")
    return {
        "page": page,
        "service_worker": reverse("screens_player:service_worker"),
        "asset_prefix": page + ASSET_PREFIX,
        "api": "/api/v1/screens/",
        # What the player verifies manifests and emergencies with (docs/screens.md); it keeps them once seen.
        "keys": public_keys(),
        "signature_header": SIGNATURE_HEADER,
        "strings": {
            "pair_title": _("请管理员配对这块屏幕"),
            "pair_hint": _("在管理后台打开“屏幕与电视 → 配对屏幕”，输入下面的配对码。"),
            "pair_expired": _("配对码已过期，正在获取新的配对码……"),
            "starting": _("正在准备节目……"),
            "idle": _("现在没有安排节目。"),
            "offline": _("网络已断开，正在播放已下载的节目。"),
            "no_worker": _("这个浏览器不支持离线播放（需要 HTTPS 和 Service Worker）。"),
            "revoked": _("这块屏幕的凭证已失效，请重新配对。"),
        },
    }


@require_safe
def player_page(request: HttpRequest):
    return TemplateResponse(request, "screens/player/page.html", {"config": _config()})


@require_safe
def service_worker(request: HttpRequest):
    modules = {name: static(f"vendor/{name}/{name}.prod.js") for name in settings.WORKBOX_MODULES}
    shell = [reverse("screens_player:page"), static("screens/player.js"), static("screens/player.css")]
    worker = {"workbox_sw": static("vendor/workbox-sw/workbox-sw.js"), "modules": modules, "shell": shell}
    worker["asset_prefix"] = _config()["asset_prefix"]
    response = TemplateResponse(
        request,
        "screens/player/sw.js",
        {"settings_json": json.dumps(worker)},
        content_type="text/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = reverse("screens_player:page")
    return response
