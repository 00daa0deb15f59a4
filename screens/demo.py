"""The screens' part of the demo (``load_demo``): a portrait and a landscape channel of 邹平市 with notices, played
all day, and one paired virtual screen of each shape with a known credential, so ``make run`` shows both playing:

    http://localhost:8000/screens/player/?screen=portrait#credential=<DEMO_CREDENTIALS["portrait"]>

(the links are printed by load_demo). The credentials are public knowledge: demo data only, never a real screen.
The texts are demo content (like cms/demo/data.py), not interface strings.
Idempotent: a second run finds the same rows.
"""

import hashlib

from cms.models import OrgUnit

from .devices.credentials import credential_text, secret_hash
from .models import Channel, Device, PlaylistEntry, Priority, ScheduleRule, ScreenType

DEMO_SHAPES = {ScreenType.PORTRAIT: (1080, 1920), ScreenType.LANDSCAPE: (1920, 1080)}


def demo_credential(shape: str) -> tuple[str, str]:
    """(credential id, secret) of the demo screen of ``shape``: fixed, so the printed link works after a reload."""
    return hashlib.sha256(f"lighthouse-demo-screen-{shape}".encode()).hexdigest()[:24], f"demo-{shape}-screen"


def demo_player_path(shape: str) -> str:
    return f"/screens/player/?screen={shape}#credential={credential_text(*demo_credential(shape))}"


def screens_demo_load(*, unit: OrgUnit, log=print) -> None:
    notices = [
        "欢迎来到邹平市党群服务中心。",
        "本周六上午九点，党员志愿服务活动在中心广场集合。",
        "灯塔学习平台：扫码即可在手机上学习。",
    ]
    for shape, (width, height) in DEMO_SHAPES.items():
        channel, created = Channel.objects.get_or_create(
            owning_unit=unit, screen_type=shape, name=f"大厅屏演示（{ScreenType(shape).label}）"
        )
        if created:
            for order, text in enumerate(notices):
                PlaylistEntry.objects.create(channel=channel, kind="notice", text=text, duration=8, sort_order=order)
            ScheduleRule.objects.create(unit=unit, channel=channel, priority=Priority.OWN)
        credential_id, secret = demo_credential(shape)
        Device.objects.get_or_create(
            credential_id=credential_id,
            defaults={
                "name": f"演示{ScreenType(shape).label}",
                "unit": unit,
                "screen_type": shape,
                "width": width,
                "height": height,
                "secret_hash": secret_hash(secret),
                "location": "演示用虚拟屏幕",
            },
        )
        log(f"screens: {ScreenType(shape).label} {demo_player_path(shape)}")
