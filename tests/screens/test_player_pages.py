"""The web player's page and Service Worker are public static documents (no member session), the worker loads
Workbox from our own static files, the demo's virtual screens authenticate with their printed links, and the
delivery-rate page shows an editor's units only."""

import json

import pytest
from django.test import Client

from screens.demo import demo_player_path, screens_demo_load
from screens.emergency.signing import public_keys
from screens.models import Device
from screens.selectors import device_authenticated

pytestmark = pytest.mark.django_db


def test_player_page_is_public_and_carries_its_configuration():
    page = Client().get("/screens/player/?screen=portrait")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="player-config"' in html and "/api/v1/screens/" in html and "screens/player.js" in html
    config = json.loads(html.split('id="player-config" type="application/json">')[1].split("</script>")[0])
    assert config["strings"]["pair_title"] == "请管理员配对这块屏幕"  # the pairing words, from the server's catalogue
    # The public keys a player verifies manifests and emergencies with, and the header that carries the signature.
    assert config["keys"] == public_keys() and config["signature_header"] == "X-Lighthouse-Signature"
    assert 'id="emergency"' in html and "紧急通知" in html


def test_service_worker_loads_workbox_from_our_static_files():
    worker = Client().get("/screens/player/sw.js")
    assert worker.status_code == 200 and worker["Content-Type"].startswith("text/javascript")
    assert worker["Cache-Control"] == "no-cache"
    body = worker.content.decode()
    assert "vendor/workbox-sw/workbox-sw.js" in body and "vendor/workbox-range-requests/" in body
    assert "http" not in body.split("importScripts")[0].split("SETTINGS =")[1]  # no CDN


def test_demo_screens_play_with_their_printed_credentials(tree):
    screens_demo_load(unit=tree["units"]["zouping"], log=lambda line: None)
    screens_demo_load(unit=tree["units"]["zouping"], log=lambda line: None)  # idempotent
    assert Device.objects.count() == 2
    for shape in ("portrait", "landscape"):
        credential = demo_player_path(shape).split("#credential=")[1]
        assert device_authenticated(credential=credential).screen_type == shape


def test_delivery_page_lists_the_editors_units_only(tree):
    client = Client()
    client.force_login(tree["editors"]["zouping_editor"])
    page = client.get("/admin/screens-delivery/?day=2026-12-07")
    assert page.status_code == 200
    html = page.content.decode()
    assert "邹平市" in html and "沂南县" not in html and "播放到达率" in html
