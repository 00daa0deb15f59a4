"""An audio screen (音频) plays its channel's library items from their audio edition (``audio_m4a``, else
``audio_mp3``), each entry carrying its title for the player's now-playing card; pictures, notices and slides are
left out with a reason; the web player's page has the audio players and the card."""

import pytest
from django.test import Client

from screens.models import PlaylistEntry, Priority

from .conftest import channel, paired_device, rule, video_with_renditions

pytestmark = pytest.mark.django_db
MANIFEST = "/api/v1/screens/device/manifest"


def test_an_audio_screen_plays_the_audio_edition_with_its_title(tree, local_media, django_capture_on_commit_callbacks):
    zouping, editor = tree["units"]["zouping"], tree["editors"]["zouping_editor"]
    with django_capture_on_commit_callbacks(execute=True):
        talk = video_with_renditions(zouping, profiles=("audio_mp3", "audio_m4a", "tv_1080p"), title="党课录音")
        mp3_only = video_with_renditions(zouping, profiles=("audio_mp3",), duration=12.0, title="红色故事")
        made = channel(zouping, name="广播", screen_type="audio", entries=[talk, mp3_only, "今晚停电检修"])
        PlaylistEntry.objects.create(channel=made, kind="info", duration=10)
        rule(zouping, made, Priority.OWN)
        _device, credential = paired_device(zouping, editor, name="广播音箱", screen_type="audio")
    body = Client().get(MANIFEST, HTTP_AUTHORIZATION=f"Bearer {credential}").json()
    first, second = body["channels"][0]["entries"]
    assert first["slide"] == {"title": "党课录音"} and second["slide"] == {"title": "红色故事"}
    assert second["seconds"] == 12.0
    assets = {asset["key"]: asset for asset in body["assets"]}
    assert assets[first["asset"]]["profile"] == "audio_m4a" and assets[second["asset"]]["profile"] == "audio_mp3"
    assert len(body["skipped"]) == 2 and all("音频屏幕" in row["reason"] for row in body["skipped"])


def test_a_video_entry_on_a_picture_screen_carries_no_title(tree, local_media, django_capture_on_commit_callbacks):
    """Only audio screens get the card's title: a picture screen's manifests keep their earlier form (and version)."""
    zouping, editor = tree["units"]["zouping"], tree["editors"]["zouping_editor"]
    with django_capture_on_commit_callbacks(execute=True):
        rule(zouping, channel(zouping, entries=[video_with_renditions(zouping)]), Priority.OWN)
        _device, credential = paired_device(zouping, editor)
    (shown,) = Client().get(MANIFEST, HTTP_AUTHORIZATION=f"Bearer {credential}").json()["channels"][0]["entries"]
    assert "slide" not in shown


def test_the_player_page_has_the_audio_players_and_the_now_playing_card(client):
    page = client.get("/screens/player/").content.decode()
    assert page.count("<audio") == 2 and 'id="now-playing-title"' in page and "正在播放" in page
