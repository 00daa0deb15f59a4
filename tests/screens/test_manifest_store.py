"""Stored manifests: each change a manifest depends on recomputes the devices it touches (and only those) after
commit, with no request in between; a request with the current ETag is a 304 from one query; the window roll;
the poll hint is the same for a device every time and spreads devices over the interval."""

from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from media_pipeline.events import renditions_published
from media_pipeline.models import Rendition
from screens.delivery.manifest import window_of
from screens.delivery.polling import POLL_INTERVAL, poll_after, poll_phase
from screens.delivery.store import devices_affected, manifests_recompute, manifests_roll
from screens.models import Device, PlaylistEntry, Priority, StoredManifest
from screens.services import emergency_create

from .conftest import channel, paired_device, rule, video_with_renditions

pytestmark = pytest.mark.django_db
MANIFEST = "/api/v1/screens/device/manifest"


def bearer(credential: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {credential}"}


@pytest.fixture
def screens(tree, django_capture_on_commit_callbacks):
    """邹平's landscape screen playing its own channel, 沂南's screen beside it, stored manifests for both."""
    units, editors = tree["units"], tree["editors"]
    video = video_with_renditions(units["zouping"], title="邹平新闻")
    with django_capture_on_commit_callbacks(execute=True):
        own = channel(units["zouping"], name="邹平自办", entries=[video, "今晚停电检修"])
        rule(units["zouping"], own, Priority.OWN)
        device, credential = paired_device(units["zouping"], editors["zouping_editor"])
        other, _other_credential = paired_device(units["yinan"], editors["yinan_editor"], name="沂南屏")
    return {"device": device, "credential": credential, "other": other, "channel": own, "video": video, **tree}


def versions(*devices) -> list[str]:
    return [StoredManifest.objects.get(device=device).version for device in devices]


def _entry(s):
    PlaylistEntry.objects.create(channel=s["channel"], kind="notice", text="新通知", sort_order=9)


def _entry_deleted(s):
    s["channel"].entries.filter(kind="notice").delete()


def _item_unpublished(s):
    s["video"].is_published = False
    s["video"].save()


def _rendition_published(s):
    rendition = Rendition.objects.get(asset=s["video"].media_asset, profile="screen_landscape")
    Rendition.objects.filter(pk=rendition.pk).update(size=99)  # the pipeline's rows, then its event
    renditions_published.send(sender=None, asset_id=rendition.asset_id, group="screens")


def _quota_from_above(s):
    promo = channel(s["units"]["binzhou"], name="市里宣传", entries=["文明城市"])
    rule(s["units"]["binzhou"], promo, Priority.QUOTA, quota_seconds=120)


def _rule_ended(s):
    s["channel"].rules.update(is_active=False)  # update() sends nothing: the admin saves the row
    for row in s["channel"].rules.all():
        row.save()


def _emergency(s):
    now = timezone.now()
    emergency_create(
        unit=s["units"]["binzhou"],
        created_by=s["editors"]["binzhou_editor"],
        message="暴雨预警",
        starts_at=now,
        ends_at=now + timedelta(hours=1),
    )


def _device_muted_off(s):
    s["device"].muted = False
    s["device"].save()


CHANGES = {
    "playlist entry added": _entry,
    "playlist entry deleted": _entry_deleted,
    "item unpublished": _item_unpublished,
    "rendition published": _rendition_published,
    "quota from the city": _quota_from_above,
    "schedule rule switched off": _rule_ended,
    "emergency from the city": _emergency,
    "device changed": _device_muted_off,
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_each_kind_of_change_recomputes_the_stored_manifest_of_the_devices_it_touches(
    screens, change, django_capture_on_commit_callbacks
):
    """Without any request: after commit the task has stored a new version for 邹平's screen; 沂南's (another
    county) keeps its version for every change but one sent from above both."""
    before, other_before = versions(screens["device"], screens["other"])
    if change == "playlist entry deleted":
        with django_capture_on_commit_callbacks(execute=True):
            _entry(screens)
        before = versions(screens["device"])[0]
    with django_capture_on_commit_callbacks(execute=True):
        CHANGES[change](screens)
    after, other_after = versions(screens["device"], screens["other"])
    assert after != before
    assert other_after == other_before


def test_nothing_is_recomputed_before_commit(screens):
    """The receivers only note the change: a transaction that has not committed leaves the stored version alone."""
    before = versions(screens["device"])
    _entry(screens)
    assert versions(screens["device"]) == before


def test_the_devices_a_change_reaches(screens):
    units = screens["units"]
    device, other = screens["device"].pk, screens["other"].pk
    assert devices_affected(scope="channel", ids=[screens["channel"].pk]) == [device]
    assert devices_affected(scope="item", ids=[screens["video"].pk]) == [device]
    assert devices_affected(scope="asset", ids=[screens["video"].media_asset_id]) == [device]
    assert sorted(devices_affected(scope="unit", ids=[units["shandong"].pk])) == sorted([device, other])
    assert devices_affected(scope="unit", ids=[units["yinan"].pk]) == [other]


def test_a_304_is_one_query_and_the_200_carries_fresh_links_and_the_poll_hint(
    screens, local_media, django_assert_num_queries
):
    client = Client()
    first = client.get(MANIFEST, **bearer(screens["credential"]))
    body = first.json()
    assert body["version"] == StoredManifest.objects.get(device=screens["device"]).version
    assert body["poll_after"] == int(first["Retry-After"]) and 1 <= body["poll_after"] <= POLL_INTERVAL
    assert all("?e=" in asset["url"] for asset in body["assets"])
    assert "url" not in str(StoredManifest.objects.get(device=screens["device"]).document["assets"])
    with django_assert_num_queries(1):  # the credential's row joined to its stored manifest
        again = client.get(MANIFEST, HTTP_IF_NONE_MATCH=first["ETag"], **bearer(screens["credential"]))
    assert again.status_code == 304 and again["Retry-After"]


def test_the_first_request_of_a_new_window_recomputes_and_the_roll_does_the_rest(screens):
    """A stored manifest of the previous window is not served: the request recomputes it; the roll task
    recomputes every other device still on the old window."""
    old_start = window_of(timezone.now())[0] - timedelta(hours=6)
    StoredManifest.objects.update(window_start=old_start)
    answer = Client().get(MANIFEST, **bearer(screens["credential"]))
    assert answer.status_code == 200
    assert StoredManifest.objects.get(device=screens["device"]).window_start == window_of(timezone.now())[0]
    # The request enqueued the roll (immediate backend here): the other device is current too.
    assert StoredManifest.objects.filter(window_start=old_start).count() == 0
    StoredManifest.objects.update(window_start=old_start)
    assert manifests_roll() == 2


def test_a_revoked_device_loses_its_stored_manifest(screens):
    Device.objects.filter(pk=screens["device"].pk).update(revoked_at=timezone.now())
    assert manifests_recompute(device_ids=[screens["device"].pk]) == 0
    assert not StoredManifest.objects.filter(device=screens["device"]).exists()


def test_devices_alike_share_one_computation_but_keep_their_own_version(screens, django_assert_max_num_queries):
    """Forty screens of one unit and kind: one plan for all of them (the query count does not grow per device)."""
    units, editor = screens["units"], screens["editors"]["zouping_editor"]
    more = [paired_device(units["zouping"], editor, name=f"屏{n}")[0].pk for n in range(40)]
    with django_assert_max_num_queries(30):
        assert manifests_recompute(device_ids=more) == 40
    stored = StoredManifest.objects.filter(device_id__in=more)
    assert stored.values("version").distinct().count() == 40  # each names its device
    assert {row.document["blocks"][0]["channel"] for row in stored} == {screens["channel"].pk}


# --- Polling ------------------------------------------------------------------------------------------------------


def test_the_poll_hint_is_the_same_for_a_device_every_time_and_lands_on_its_own_slot():
    now = timezone.make_aware(datetime(2026, 12, 7, 9, 30, 17), timezone.get_fixed_timezone(0))
    assert poll_phase("abc") == poll_phase("abc")
    for second in range(0, 600, 7):
        moment = now + timedelta(seconds=second)
        wait = poll_after("abc", moment)
        assert 1 <= wait <= POLL_INTERVAL
        assert (int(moment.timestamp()) + wait) % POLL_INTERVAL == poll_phase("abc")


def test_devices_are_spread_over_the_whole_interval():
    """10,000 credential ids: every 30-second tenth of the interval gets 10 % of them, give or take 2 points."""
    counts = Counter(poll_phase(f"{n:024x}") * 10 // POLL_INTERVAL for n in range(10_000))
    assert sorted(counts) == list(range(10))
    assert all(800 <= count <= 1200 for count in counts.values())


def test_the_early_304_answers_only_a_good_credential_with_the_current_version(screens, django_assert_num_queries):
    """The fast path before the stack: the right secret and version is a 304 from one query; a forged secret, a
    revoked device, another version or an old window go on to the API, which answers as it always did."""
    client = Client()
    etag = client.get(MANIFEST, **bearer(screens["credential"]))["ETag"]
    with django_assert_num_queries(1):
        hit = client.get(MANIFEST, HTTP_IF_NONE_MATCH=f"W/{etag}", **bearer(screens["credential"]))
    assert hit.status_code == 304 and hit["ETag"] == etag and 1 <= int(hit["Retry-After"]) <= POLL_INTERVAL
    credential_id, secret = screens["credential"].split(".")
    forged = client.get(MANIFEST, HTTP_IF_NONE_MATCH=etag, **bearer(f"{credential_id}.{secret[:-2]}xx"))
    assert forged.status_code == 401 and "凭证无效" in forged.json()["detail"]
    assert client.get(MANIFEST, HTTP_IF_NONE_MATCH='"other"', **bearer(screens["credential"])).status_code == 200
    StoredManifest.objects.update(window_start=window_of(timezone.now())[0] - timedelta(hours=6))
    rolled = client.get(MANIFEST, HTTP_IF_NONE_MATCH=etag, **bearer(screens["credential"]))
    assert rolled.status_code in (200, 304)  # recomputed by the view: the same version when nothing else changed
    Device.objects.filter(pk=screens["device"].pk).update(revoked_at=timezone.now())
    revoked = client.get(MANIFEST, HTTP_IF_NONE_MATCH=etag, **bearer(screens["credential"]))
    assert revoked.status_code == 401 and "停用" in revoked.json()["detail"]


def test_saving_an_item_on_no_playlist_enqueues_nothing(screens, django_capture_on_commit_callbacks, monkeypatch):
    """An import saves thousands of items: those on no screen's playlist queue no recomputation."""
    from screens import tasks

    enqueued = []

    class Queue:
        def enqueue(self, *args):
            enqueued.append(args)

    monkeypatch.setattr(tasks, "manifests_recompute_task", Queue())
    elsewhere = video_with_renditions(screens["units"]["yinan"], title="不在节目单上")
    with django_capture_on_commit_callbacks(execute=True):
        elsewhere.title = "改个标题"
        elsewhere.save()
    assert enqueued == []
    with django_capture_on_commit_callbacks(execute=True):
        screens["video"].save()
    assert enqueued == [("item", [screens["video"].pk])]
