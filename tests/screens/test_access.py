"""Who sees what (the security matrix's rows for the screens' routes point here): a device reads only its own
manifest; an editor sees, opens, previews and revokes only the channels, rules and screens of their unit's subtree;
rules may only schedule the unit's own channels or subscribe to a unit above."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from screens.models import Device, Priority, ScheduleRule

from .conftest import channel, paired_device, rule, video_with_renditions

pytestmark = pytest.mark.django_db
MANIFEST = "/api/v1/screens/device/manifest"


@pytest.fixture
def two_counties(tree):
    units, editors = tree["units"], tree["editors"]
    made = {}
    for code in ("zouping", "yinan"):
        own = channel(units[code], name=f"{units[code].name}自办", entries=[video_with_renditions(units[code])])
        made[code] = {
            "channel": own,
            "rule": rule(units[code], own, Priority.OWN),
            "device": paired_device(units[code], editors[f"{code}_editor"], name=f"{units[code].name}屏"),
        }
    return {**tree, **made}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_device_reads_only_its_own_manifest(two_counties):
    for code, other in (("zouping", "yinan"), ("yinan", "zouping")):
        device, credential = two_counties[code]["device"]
        body = Client().get(MANIFEST, HTTP_AUTHORIZATION=f"Bearer {credential}").json()
        assert body["device"]["id"] == device.pk
        channels = {entry["id"] for entry in body["channels"]}
        assert channels == {two_counties[code]["channel"].pk}
        assert two_counties[other]["channel"].pk not in {block["channel"] for block in body["blocks"]}
    # No route takes a device id: a device cannot even name another one.
    assert Client().get(f"{MANIFEST}?device={two_counties['yinan']['device'][0].pk}").status_code == 401


@pytest.mark.parametrize("viewset", ["screens_channels", "screens_rules", "screens_devices"])
def test_editors_list_only_their_subtree(two_counties, viewset):
    editors = two_counties["editors"]
    names = {
        "screens_channels": ("邹平市自办", "沂南县自办"),
        "screens_rules": ("邹平市自办", "沂南县自办"),
        "screens_devices": ("邹平市屏", "沂南县屏"),
    }[viewset]
    zouping = _client(editors["zouping_editor"]).get(f"/admin/{viewset}/").content.decode()
    assert names[0] in zouping and names[1] not in zouping
    binzhou = _client(editors["binzhou_editor"]).get(f"/admin/{viewset}/").content.decode()
    assert names[0] in binzhou and names[1] not in binzhou  # a city sees its counties, not another city's
    province = _client(editors["sheng_editor"]).get(f"/admin/{viewset}/").content.decode()
    assert names[0] in province and names[1] in province


def test_another_units_rows_are_404_in_every_view_that_opens_one(two_counties):
    client = _client(two_counties["editors"]["zouping_editor"])
    yinan = two_counties["yinan"]
    device = yinan["device"][0]
    for url in (
        f"/admin/screens_channels/edit/{yinan['channel'].pk}/",
        f"/admin/screens_channels/delete/{yinan['channel'].pk}/",
        f"/admin/screens_rules/edit/{yinan['rule'].pk}/",
        f"/admin/screens_devices/edit/{device.pk}/",
        f"/admin/screens_devices/history/{device.pk}/",
        f"/admin/screens-device/{device.pk}/preview/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/admin/screens-device/{device.pk}/revoke/").status_code == 404
    assert not Device.objects.get(pk=device.pk).is_revoked


def test_the_preview_says_what_plays_and_why_in_chinese_and_revokes(two_counties, settings):
    """The moment typed is Beijing time and shown as Beijing time, even on a server set to New York."""
    settings.TIME_ZONE = "America/New_York"
    client = _client(two_counties["editors"]["zouping_editor"])
    device = two_counties["zouping"]["device"][0]
    page = client.get(f"/admin/screens-device/{device.pk}/preview/", {"at": "2026-12-07T09:30"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "北京时间 2026-12-07 09:30:00" in text and "本单位节目" in text and "邹平市自办" in text
    assert client.post(f"/admin/screens-device/{device.pk}/revoke/").status_code == 302
    assert Device.objects.get(pk=device.pk).is_revoked


def test_the_pairing_form_offers_only_the_editors_units(two_counties):
    page = _client(two_counties["editors"]["zouping_editor"]).get("/admin/screens-pair/").content.decode()
    assert "配对码" in page and "邹平市" in page and "沂南县" not in page
    assert Client().get("/admin/screens-pair/").status_code == 302  # anonymous: to the admin login


def test_rules_schedule_own_channels_or_subscribe_to_a_unit_above(two_counties):
    units = two_counties["units"]
    province = channel(units["shandong"], name="省台")
    sibling = two_counties["yinan"]["channel"]
    with pytest.raises(ValidationError) as own_error:
        ScheduleRule(unit=units["zouping"], channel=province, priority=Priority.OWN).full_clean()
    assert "订阅" in str(own_error.value)
    with pytest.raises(ValidationError) as sibling_error:
        ScheduleRule(unit=units["zouping"], channel=sibling, priority=Priority.SUBSCRIBED).full_clean()
    assert "上级" in str(sibling_error.value)
    ScheduleRule(unit=units["zouping"], channel=province, priority=Priority.SUBSCRIBED).full_clean()
    with pytest.raises(ValidationError) as days_error:
        ScheduleRule(unit=units["shandong"], channel=province, priority=Priority.QUOTA, days="18").full_clean()
    assert set(days_error.value.message_dict) == {"days", "quota_seconds"}


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_delivery_page_for_a_day_at_the_calendars_edge_is_not_a_500(tree, day):
    """An editor opens /admin/screens-delivery/?day=9999-12-31 (or 0001-01-01); the DateField accepts it and
    ``delivery_rate`` adds a day / converts it to UTC -> OverflowError -> 500. Expected: the form says the day is out
    of range (Chinese), the page still renders."""
    client = Client(raise_request_exception=False)
    client.force_login(tree["editors"]["zouping_editor"])
    assert client.get("/admin/screens-delivery/", {"day": day}).status_code == 200


@pytest.mark.parametrize("at", ["9999-12-31T23:59"])
def test_the_device_preview_at_a_moment_at_the_calendars_edge_is_not_a_500(tree, at):
    """/admin/screens-device/<id>/preview/?at=9999-12-31T23:59: the preview adds 48 hours past the calendar
    -> OverflowError -> 500. Expected: a Chinese form error, the page renders for now."""
    made, _credential = paired_device(tree["units"]["zouping"], tree["editors"]["zouping_editor"])
    client = Client(raise_request_exception=False)
    client.force_login(tree["editors"]["zouping_editor"])
    assert client.get(f"/admin/screens-device/{made.pk}/preview/", {"at": at}).status_code == 200
