"""The TV's 10-foot interface: who sees what on a TV (an anonymous TV shows public items only; a signed-in one what
that member may open, as the library decides), and signing a TV in with a phone: the code works once, for five
minutes, only for the TV that showed it; forged, reused and expired codes are refused in Chinese; confirmations are
throttled."""

import re
import time
from html import unescape

import pytest
from django.test import Client
from wagtail.models import Site

from courses.models import CourseIndexPage
from screens.models import Channel
from screens.tv import signin
from tests.factories import MemberFactory, province

from .conftest import channel, rule, video_with_renditions

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit():
    return province()


@pytest.fixture
def member(unit):
    return MemberFactory(username="wangtv", real_name="王电视", org_unit=unit)


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _code(tv: Client) -> str:
    """The TV asks for a code; the token its QR code's link carries."""
    page = tv.get("/tv/signin/")
    assert page.status_code == 200 and b"<svg" in page.content
    link = unescape(re.search(r'data-signin-url="([^"]+)"', page.content.decode()).group(1))
    assert link.startswith("http://testserver/tv/signin/phone/?t=")
    return link.split("?t=", 1)[1]


def _confirm(phone: Client, token: str):
    return phone.post("/tv/signin/phone/", {}, QUERY_STRING=f"t={token}")


def test_a_phone_signs_the_tv_in_once(member):
    tv, phone = Client(), _signed_in(member)
    token = _code(tv)
    assert tv.get("/tv/signin/poll/").json() == {"state": "waiting"}
    asking = phone.get("/tv/signin/phone/", {"t": token})
    assert asking.status_code == 200 and "登录电视" in asking.content.decode()
    assert tv.get("/tv/signin/poll/").json() == {"state": "waiting"}  # a GET (a link preview) confirms nothing
    done = _confirm(phone, token)
    assert "电视已登录" in done.content.decode()
    assert tv.get("/tv/signin/poll/").json() == {"state": "signed_in", "next": "/tv/"}
    assert int(tv.session["_auth_user_id"]) == member.pk  # a real Django sign-in of the TV's own session
    assert "已登录：王电视" in tv.get("/tv/").content.decode()
    # The same code again, from the same phone or another member's: refused, nobody else signed in.
    again = _confirm(phone, token)
    assert again.status_code == 400 and "这个二维码已经用过了" in again.content.decode()
    other = _confirm(_signed_in(MemberFactory(username="litv")), token)
    assert other.status_code == 400 and "这个二维码已经用过了" in other.content.decode()


def test_only_the_tv_that_showed_the_code_is_signed_in(member):
    tv, stranger = Client(), Client()
    token = _code(tv)
    _code(stranger)  # another browser with a code of its own
    _confirm(_signed_in(member), token)
    assert stranger.get("/tv/signin/poll/").json() == {"state": "waiting"}
    assert "_auth_user_id" not in stranger.session
    assert Client().get("/tv/signin/poll/").json() == {"state": "expired"}  # no code in this browser at all
    assert tv.get("/tv/signin/poll/").json()["state"] == "signed_in"


def test_forged_codes_are_refused(member):
    tv, phone = Client(), _signed_in(member)
    token = _code(tv)
    nonce, stamp, signature = token.split(":")
    forged = [
        f"{nonce}x:{stamp}:{signature}",  # another nonce under the same signature
        f"{nonce}:{stamp}:{'A' * len(signature)}",
        "",
        __import__("django.core.signing", fromlist=["TimestampSigner"]).TimestampSigner(salt="other").sign(nonce),
    ]
    for bad in forged:
        answer = _confirm(phone, bad)
        assert answer.status_code == 400 and "这个二维码无效" in answer.content.decode(), bad
    assert tv.get("/tv/signin/poll/").json() == {"state": "waiting"}


def test_an_expired_code_is_refused(member, monkeypatch):
    tv, phone = Client(), _signed_in(member)
    token = _code(tv)
    later = time.time() + signin.LIFETIME_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    answer = _confirm(phone, token)
    assert answer.status_code == 400 and "这个二维码已过期" in answer.content.decode()
    assert tv.get("/tv/signin/poll/").json() == {"state": "expired"}
    assert "_auth_user_id" not in tv.session


def test_the_phone_must_be_signed_in_and_confirmations_are_throttled(member, monkeypatch):
    token = _code(Client())
    anonymous = Client().get("/tv/signin/phone/", {"t": token})
    assert anonymous.status_code == 302 and "/tv/signin/phone/" in anonymous["Location"]
    monkeypatch.setattr(signin, "CONFIRMS_PER_MEMBER", 2)
    phone = _signed_in(member)
    tokens = [_code(Client()) for _ in range(3)]
    assert [_confirm(phone, t).status_code for t in tokens] == [200, 200, 400]
    assert "操作过于频繁" in _confirm(phone, _code(Client())).content.decode()


def test_codes_are_throttled_per_address(monkeypatch):
    monkeypatch.setattr(signin, "CODES_PER_ADDRESS", 2)
    pages = [Client().get("/tv/signin/").content.decode() for _ in range(3)]
    assert "<svg" in pages[1] and "<svg" not in pages[2] and "请求过于频繁" in pages[2]


def test_an_anonymous_tv_shows_public_items_only(unit, member):
    public = video_with_renditions(unit, title="公开的讲座")
    members = video_with_renditions(unit, title="党员专享讲座", access="members")
    home = Client().get("/tv/").content.decode()
    assert "公开的讲座" in home and "党员专享讲座" not in home
    locked = Client().get(f"/tv/watch/{members.pk}/").content.decode()
    assert "登录后观看" in locked and "党员专享讲座" not in locked and 'data-hls=""' in locked
    assert Client().get(f"/tv/watch/{public.pk}/").status_code == 200
    # Signed in (as the phone makes it), the TV shows what the member may open.
    tv = _signed_in(member)
    assert "党员专享讲座" in tv.get("/tv/").content.decode()
    assert "党员专享讲座" in tv.get(f"/tv/watch/{members.pk}/").content.decode()


def test_unknown_and_unpublished_items_are_not_found(unit):
    hidden = video_with_renditions(unit, title="草稿", is_published=False)
    assert Client().get(f"/tv/watch/{hidden.pk}/").status_code == 404
    assert Client().get("/tv/watch/999999/").status_code == 404


def test_the_channels_row_shows_what_is_on_now(unit):
    """A TV channel scheduled all day shows its entry on now, opening the video at the moment it has reached; a
    channel nothing schedules says so; other screen types' channels are not on a TV. A TV nobody signed in lists
    the broadcast channels only (对外直播); a member's TV lists their unit's own channels too."""
    lecture = video_with_renditions(unit, title="频道里的讲座", duration=600.0)
    on_air = channel(unit, name="灯塔电视一台", screen_type="tv", entries=[lecture])
    rule(unit, on_air)
    idle = channel(unit, name="灯塔电视二台", screen_type="tv", entries=[lecture])
    Channel.objects.filter(pk__in=[on_air.pk, idle.pk]).update(is_linear=True)
    channel(unit, name="支部内部频道", screen_type="tv", entries=["支部内部通知"])
    channel(unit, name="大厅横屏", screen_type="landscape", entries=[lecture])
    home = Client().get("/tv/").content.decode()
    assert "灯塔电视一台" in home and "正在播出：频道里的讲座" in home
    assert re.search(rf'href="/tv/watch/{lecture.pk}/\?t=\d+"', home)
    assert "灯塔电视二台" in home and "此刻没有节目" in home
    assert "大厅横屏" not in home and "支部内部频道" not in home
    member_home = _signed_in(MemberFactory(username="pindao", org_unit=unit)).get("/tv/").content.decode()
    assert "支部内部频道" in member_home and "灯塔电视一台" in member_home and "大厅横屏" not in member_home


def test_search_on_the_tv_opens_playable_hits_in_the_player(unit, settings):
    from search.services import search_outbox_drain_all

    settings.SEARCH_URL = ""  # the embedded index answers
    video = video_with_renditions(unit, title="红船精神专题片")
    video_with_renditions(unit, title="红船精神党员课", access="members")
    search_outbox_drain_all()
    page = Client().get("/tv/search/", {"q": "红船"}).content.decode()
    assert "红船精神专题片" in page and f"/tv/watch/{video.pk}/?from=search&amp;q=%E7%BA%A2%E8%88%B9" in page
    back = Client().get(f"/tv/watch/{video.pk}/", {"from": "search", "q": "红船"}).content.decode()
    assert 'data-back-url="/tv/search/?q=%E7%BA%A2%E8%88%B9"' in back  # Back returns to the same results
    assert "红船精神党员课" not in page  # the search's audience is the TV's viewer: anonymous here
    assert 'data-key="a"' in Client().get("/tv/search/").content.decode()  # the on-screen keyboard


def test_a_course_lesson_announces_the_next_one_the_viewer_may_play(unit, member):
    """Opened from the course, a lesson's page names the next lesson this TV may play (a reading and, for an
    anonymous TV, a members-only video are passed over) and links it to play by itself; the last lesson, or a video
    opened from anywhere else, announces nothing."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.courses.conftest import make_course
    from tests.factories import LibraryItemFactory

    first = video_with_renditions(unit, title="第一讲")
    reading = LibraryItemFactory(owning_unit=unit, title="读本")
    members = video_with_renditions(unit, title="党员第二讲", access="members")
    last = video_with_renditions(unit, title="第三讲")
    root = Site.objects.get(is_default_site=True).root_page
    index = root.add_child(instance=CourseIndexPage(title="灯塔大课堂", slug="courses"))
    lessons = [(first, True), (reading, True), (members, True), (last, False)]
    make_course(index, premiere=timezone.now() - timedelta(hours=1), lessons=lessons)

    anonymous = Client().get(f"/tv/watch/{first.pk}/?from=course").content.decode()
    assert "第三讲" in anonymous and f'data-next-url="/tv/watch/{last.pk}/?from=course&amp;autoplay=1"' in anonymous
    signed_in = _signed_in(member).get(f"/tv/watch/{first.pk}/?from=course").content.decode()
    assert f'data-next-url="/tv/watch/{members.pk}/?from=course&amp;autoplay=1"' in signed_in
    assert "library/js/progress.js" in signed_in and "library/js/progress.js" not in anonymous  # the study clock
    assert 'data-next-url=""' in Client().get(f"/tv/watch/{last.pk}/?from=course").content.decode()
    assert 'data-next-url=""' in Client().get(f"/tv/watch/{first.pk}/").content.decode()


@pytest.mark.parametrize("restriction", ["password", "login"])
def test_a_course_behind_a_password_or_sign_in_is_not_offered_where_the_tv_cannot_ask(unit, member, restriction):
    """A TV cannot type a page's password, and an anonymous TV has not signed in: the course does not appear on its
    home row and its lessons do not chain through it; a signed-in TV passes a sign-in restriction."""
    from datetime import timedelta

    from django.utils import timezone
    from wagtail.models import PageViewRestriction

    from tests.courses.conftest import make_course

    first = video_with_renditions(unit, title="第一讲")
    last = video_with_renditions(unit, title="第二讲")
    root = Site.objects.get(is_default_site=True).root_page
    index = root.add_child(instance=CourseIndexPage(title="灯塔大课堂", slug="courses"))
    course = make_course(index, premiere=timezone.now() - timedelta(hours=1), lessons=[(first, True), (last, True)])
    course.theme = "内部专题学习"
    course.save_revision().publish()
    PageViewRestriction.objects.create(page=course, restriction_type=restriction, password="x")

    anonymous = Client()
    assert "内部专题学习" not in anonymous.get("/tv/").content.decode()
    assert 'data-next-url=""' in anonymous.get(f"/tv/watch/{first.pk}/?from=course").content.decode()
    signed_in = _signed_in(member)
    chained = f'data-next-url="/tv/watch/{last.pk}/?from=course&amp;autoplay=1"'
    assert (chained in signed_in.get(f"/tv/watch/{first.pk}/?from=course").content.decode()) == (restriction == "login")


def test_tv_watch_with_a_superscript_digit_offset_is_not_a_500(tree):
    """Attack: /tv/watch/<item>/?t=² — ``"²".isdigit()`` is True but ``int("²")`` raises ValueError -> 500 (any
    item: a members-only one for an anonymous TV reaches the same line). Expected: the page, offset ignored."""
    from tests.factories import VideoFactory

    item = VideoFactory(owning_unit=tree["units"]["zouping"])
    for offset in ("²", "١٢", "12"):  # superscript, Arabic-Indic digits; plain ASCII still counts
        answer = Client(raise_request_exception=False).get(f"/tv/watch/{item.pk}/", {"t": offset})
        assert answer.status_code != 500, offset
    public = video_with_renditions(tree["units"]["zouping"], title="上标")
    assert 'data-start=""' in Client().get(f"/tv/watch/{public.pk}/", {"t": "²"}).content.decode()
    assert 'data-start="12"' in Client().get(f"/tv/watch/{public.pk}/", {"t": "12"}).content.decode()


def test_a_tv_signed_in_by_phone_gets_no_more_than_the_tv(tree):
    """Attack (QR login phishing): the attacker opens /tv/signin/ in their own browser and passes its QR code on
    (a poster "扫码登录大厅电视", a chat message); an editor scans it and presses 登录电视. The attacker's browser is
    now signed in with a full site session (``login()`` in ``screens.tv.views.signin_poll``): /admin/, the editor's
    channels, emergencies, member data. The phone page does not say which TV or where. Expected: a session signed in
    through a TV code is held to the TV's pages (no admin, no account changes; or editors/staff cannot sign a TV in),
    and the phone page names the TV's address/time before 登录电视."""
    tv, phone = Client(), Client()
    phone.force_login(tree["editors"]["zouping_editor"])
    assert phone.get("/admin/").status_code == 200  # the editor's own session opens the admin
    token = _code(tv)
    asking = phone.get("/tv/signin/phone/", {"t": token})
    assert asking.status_code == 400 and "编辑和管理员账号不能用于电视登录" in asking.content.decode()
    refused = _confirm(phone, token)
    assert refused.status_code == 400 and "编辑和管理员账号不能用于电视登录" in refused.content.decode()
    assert tv.get("/tv/signin/poll/").json()["state"] == "waiting"
    assert tv.get("/admin/").status_code != 200


def _with_hls(item):
    """Give the item's asset an HLS master (one 360p rung), as the TV's player asks for."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from media_pipeline.models import Rendition

    job = Rendition.objects.filter(asset=item.media_asset).first().job
    prefix = f"renditions/{item.media_asset_id}/{job.pk}/hls"
    master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n360p/index.m3u8\n"
    default_storage.save(f"{prefix}/master.m3u8", ContentFile(master.encode()))
    Rendition.objects.create(
        asset=item.media_asset, job=job, profile="hls_web", kind="hls", path=f"{prefix}/master.m3u8"
    )


def test_a_tv_session_counts_as_signed_in_on_the_tvs_pages_only(unit, member):
    """A member's TV session (the phone's sign-in) opens the TV's pages, the study clock's progress endpoint and the
    player's playlists; elsewhere (account pages, the rest of the API, the admin) it is anonymous. The phone's page
    says when and from which address the code was shown."""
    lecture = video_with_renditions(unit, title="党员专享讲座", access="members")
    _with_hls(lecture)
    tv, phone = Client(), _signed_in(member)
    token = _code(tv)
    asking = phone.get("/tv/signin/phone/", {"t": token}).content.decode()
    assert "在地址为 127.0.0.1 的电视上显示" in asking and "data-tv-origin" in asking
    _confirm(phone, token)
    assert tv.get("/tv/signin/poll/").json()["state"] == "signed_in"
    assert "已登录：王电视" in tv.get("/tv/").content.decode()
    watch = tv.get(f"/tv/watch/{lecture.pk}/").content.decode()
    hls = re.search(r'data-hls="([^"]*)"', watch).group(1)
    assert hls.startswith("/media-pipeline/hls/"), watch
    assert tv.get(unescape(hls)).status_code == 200  # the player's playlist, for a members-only item
    assert tv.get(f"/api/v1/library/items/{lecture.pk}/progress").status_code == 200  # the study clock
    assert tv.get("/inbox/").status_code == 302  # an account page: sign in first
    assert tv.get("/api/v1/library/me/history").status_code == 401  # the rest of the API
    assert tv.get("/admin/").status_code == 302
    # The TV's session does not vouch for another TV; the member's own phone still works everywhere.
    assert tv.get("/tv/signin/phone/", {"t": _code(Client())}).status_code == 302
    assert phone.get("/inbox/").status_code == 200
    # A password sign-in in the same browser ends the TV's limits.
    tv.force_login(member)
    assert tv.get("/inbox/").status_code == 200
