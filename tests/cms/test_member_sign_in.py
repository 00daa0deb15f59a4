"""Members' sign-in on the site (issue 13): the header's 登录 / 我的 / 退出, the Chinese sign-in page (username or
mobile number, ``next`` followed only when safe, never into the admin for a member, throttled like every other
password check), signing out by POST, a forgotten password through the branch secretary or an SMS code (pluggable
backend, logging by default), the members-only prompt on item pages (unit-only items stay 404), the demo's plain
member, the favicon and the 404/500 pages in the site's look."""

import io
import re
from urllib.parse import quote

import pytest
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client
from django.views.defaults import server_error
from PIL import Image
from wagtail.models import Site

from cms import login_throttle
from cms.accounts.sms import SMSBackend
from cms.checks import check_sms_backend
from cms.models import LighthouseImage, Member, OrgUnit
from cms.services import member_create
from library.models import LibraryItem, LibraryPage
from library.selectors import item_url

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456"
PHONE = "13912345678"
SIGN_IN = "/login/"


class RecordingSMSBackend(SMSBackend):
    """An SMS backend of our own, chosen by SMS_BACKEND like a provider's would be: it keeps what it was given."""

    sent: list[tuple[str, str]] = []

    def send(self, *, phone: str, text: str) -> None:
        RecordingSMSBackend.sent.append((phone, text))


@pytest.fixture
def unit():
    return OrgUnit.add_root(name="山东省", code="sd-sign-in", level="province")


@pytest.fixture
def member(unit):
    return member_create(username="wangdeming", password=PASSWORD, real_name="王德明", phone=PHONE, org_unit=unit)


@pytest.fixture
def library_page():
    root = Site.objects.get(is_default_site=True).root_page
    return root.add_child(instance=LibraryPage(title="数字图书馆", slug="library"))


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_BACKEND = f"{__name__}.RecordingSMSBackend"
    RecordingSMSBackend.sent = []
    return RecordingSMSBackend.sent


def _sign_in(client, username, password, next_url=None, **extra):
    data = {"username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post(SIGN_IN, data, **extra)


def _signed_in_as(client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return Member.objects.get(pk=user_id).username if user_id else None


def _cover() -> LighthouseImage:
    data = io.BytesIO()
    Image.new("RGB", (60, 80), (180, 30, 30)).save(data, "JPEG")
    return LighthouseImage.objects.create(
        title="封面", file=ContentFile(data.getvalue(), name="cover.jpg"), width=60, height=80
    )


def _members_only_item(unit, **fields) -> LibraryItem:
    fields = {
        "kind": "article",
        "title": "支部工作手册",
        "summary": "简介里的党员内容",
        "body": "<p>正文里的党员内容</p>",
        "access": LibraryItem.Access.MEMBERS,
        **fields,
    }
    return LibraryItem.objects.create(owning_unit=unit, **fields)


# --- Signing in -------------------------------------------------------------------------------------------------


def test_sign_in_page_is_chinese_and_site_branded(client):
    """The sign-in page is the site's own (header, brand, stylesheet), in Chinese, with fields for a phone number
    or username and a password, a 忘记密码 link, and no inline script or style for the CSP to refuse."""
    response = client.get(SIGN_IN)
    html = response.content.decode()
    assert response.status_code == 200
    assert "党员登录" in html and "手机号码或用户名" in html and "密码" in html and "忘记密码" in html
    assert 'class="site-header"' in html and "css/site.css" in html
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html
    assert "wagtail" not in html.lower()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and " style=" not in html


def test_member_signs_in_with_username_and_returns_to_next(client, member):
    """Username and password sign the member in and send them back to the page they came from."""
    response = _sign_in(client, "wangdeming", PASSWORD, "/library/item/7/?p=2")
    assert response.status_code == 302 and response["Location"] == "/library/item/7/?p=2"
    assert _signed_in_as(client) == "wangdeming"


@pytest.mark.parametrize("typed", [PHONE, "139 1234 5678", "+86 139-1234-5678", "１３９１２３４５６７８"])
def test_member_signs_in_with_mobile_number_as_typed_on_a_phone(client, member, typed):
    """The mobile number works in place of the username, also with spaces, dashes, +86 or full-width digits."""
    response = _sign_in(client, typed, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert _signed_in_as(client) == "wangdeming"


def test_wrong_password_is_told_in_chinese(client, member):
    """A wrong password answers the form again with a Chinese message that points to 忘记密码; nobody is signed in
    and the typed number stays in the field."""
    response = _sign_in(client, PHONE, "wrong-password")
    html = response.content.decode()
    assert response.status_code == 200
    assert "手机号码、用户名或密码不对" in html and 'role="alert"' in html
    assert f'value="{PHONE}"' in html
    assert "Please enter a correct" not in html and _signed_in_as(client) is None


@pytest.mark.parametrize(
    "unsafe",
    [
        "https://evil.example/",
        "//evil.example/",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        "/\\evil.example",
    ],
)
def test_unsafe_next_is_refused(client, member, unsafe):
    """``next`` pointing off this site (or at a script) is ignored: the member lands on the home page."""
    response = _sign_in(client, "wangdeming", PASSWORD, unsafe)
    assert response.status_code == 302 and response["Location"] == "/"
    assert _signed_in_as(client) == "wangdeming"


@pytest.mark.parametrize("into_admin", ["/admin/", "/admin", "/admin/pages/", "/%61dmin/", "/./admin/users/"])
def test_a_member_never_lands_in_the_admin(client, member, into_admin):
    """Whatever ``next`` says, a member without admin access is sent to the home page, never into /admin/."""
    response = _sign_in(client, "wangdeming", PASSWORD, into_admin)
    assert response.status_code == 302 and response["Location"] == "/"


def test_an_editor_may_follow_next_into_the_admin_but_is_not_sent_there_by_default(client, unit):
    """An editor signing in on the site lands on the home page; only a ``next`` into the admin takes them there."""
    member_create(username="sd_editor", password=PASSWORD, real_name="省编辑", org_unit=unit, roles=("editor",))
    assert _sign_in(client, "sd_editor", PASSWORD)["Location"] == "/"
    client.logout()
    assert _sign_in(client, "sd_editor", PASSWORD, "/admin/pages/")["Location"] == "/admin/pages/"


def test_a_signed_in_visitor_is_sent_on(client, member):
    """Opening the sign-in page when already signed in goes straight on to ``next`` (or home)."""
    client.force_login(member)
    assert client.get(SIGN_IN, {"next": "/library/"})["Location"] == "/library/"
    assert client.get(SIGN_IN, {"next": "/admin/"})["Location"] == "/"
    for own_page in ("/login/", "/login/?next=/login/", "/logout/", "/login/forgot/"):  # no loop, no 405
        assert client.get(SIGN_IN, {"next": own_page})["Location"] == "/"


def test_sign_in_throttling_applies_and_counts_one_account_however_it_is_typed(client, member, settings):
    """Wrong passwords on the site's page count per account and address like the admin's (django-axes): typed as
    the number or the username they count against one account, the attempt reaching the limit is the Chinese
    lockout page (429, Retry-After), and then even the right password is refused from that address."""
    limit = settings.SIGN_IN_LIMITS["account_address"]
    for attempt in range(limit - 1):
        typed = PHONE if attempt % 2 else "wangdeming"
        assert _sign_in(client, typed, "wrong", REMOTE_ADDR="203.0.113.9").status_code == 200
    locked = _sign_in(client, PHONE, "wrong", REMOTE_ADDR="203.0.113.9")
    assert locked.status_code == 429 and "密码错误次数过多" in locked.content.decode()
    assert int(locked["Retry-After"]) > 0 and "忘记密码" in locked.content.decode()
    right = _sign_in(client, "wangdeming", PASSWORD, REMOTE_ADDR="203.0.113.9")
    assert right.status_code == 429 and _signed_in_as(client) is None
    elsewhere = Client()
    assert _sign_in(elsewhere, PHONE, PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302


def test_signing_in_marks_the_browser_as_the_members_trusted_device(client, member, rf):
    """A sign-in here sets the trusted-device cookie the throttle relies on, so attackers' guesses from elsewhere
    never lock the member out of their own phone."""
    _sign_in(client, PHONE, PASSWORD)
    request = rf.get("/")
    request.COOKIES[login_throttle.TRUSTED_DEVICE_COOKIE] = client.cookies[login_throttle.TRUSTED_DEVICE_COOKIE].value
    assert login_throttle.trusted_accounts(request) == ["wangdeming"]


def test_sign_out_is_a_post_with_the_csrf_token(member):
    """退出 signs out only on a POST carrying the CSRF token: a GET (a link, a prefetch) is refused, a forged POST is
    403 (in Chinese, in the site's look); the real one ends the session and goes home."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.get("/logout/").status_code == 405 and _signed_in_as(client) == "wangdeming"
    forged = client.post("/logout/")
    assert forged.status_code == 403 and _signed_in_as(client) == "wangdeming"
    assert "页面已过期" in forged.content.decode() and 'class="site-header"' in forged.content.decode()
    client.get("/login/forgot/")  # any page with the header sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post("/logout/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/"
    assert _signed_in_as(client) is None


def test_admin_keeps_its_own_login_and_site_pages_send_visitors_to_the_site_sign_in(client, library_page):
    """Wagtail's admin still sends anonymous visitors to /admin/login/; the site (我的图书馆) to /login/."""
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.get("/library/me/")["Location"] == "/login/?next=/library/me/"


# --- The header on every page -----------------------------------------------------------------------------------


def test_header_offers_sign_in_to_anonymous_visitors_with_the_way_back(client, library_page):
    """An anonymous visitor sees 登录 in the header, linking to the sign-in page with this page as ``next``; no
    我的 or 退出."""
    for url in ("/search/?q=党史", "/library/", "/no-such-page/"):
        response = client.get(url)
        html = response.content.decode()
        back = quote(response.wsgi_request.get_full_path(), safe="/")  # the path as a query value, escaped once
        assert f'href="/login/?next={back}"' in html, url
        assert ">退出<" not in html and ">我的<" not in html


def test_header_offers_mine_and_sign_out_to_members(client, member, library_page):
    """A signed-in member sees 我的 (我的图书馆) and 退出 (a POST form with the CSRF token), and no 登录."""
    client.force_login(member)
    for url in ("/search/", "/library/", "/login/forgot/"):
        html = client.get(url).content.decode()
        assert '<a href="/library/me/">我的</a>' in html, url
        sign_out = re.search(r'<form method="post" action="/logout/">(.*?)</form>', html, re.S)
        assert sign_out and "csrfmiddlewaretoken" in sign_out[1] and "退出" in sign_out[1], url
        assert 'href="/login/?next=' not in html


# --- Members-only items: a prompt for visitors, a 404 for unit-only --------------------------------------------


def test_members_only_item_asks_an_anonymous_visitor_to_sign_in_and_shows_no_content(client, unit, library_page):
    """An anonymous visitor at a members-only item gets 200 with 请登录后阅读, the title, the cover and a sign-in link
    back to the item, and nothing of the content: no summary, body, reader, file link or download."""
    item = _members_only_item(unit, cover=_cover(), download=LibraryItem.Download.MEMBERS)
    response = client.get(item_url(item))
    html = response.content.decode()
    assert response.status_code == 200
    assert "请登录后阅读" in html and "支部工作手册" in html and 'class="cover"' in html
    assert f'href="/login/?next={item_url(item)}"' in html
    assert '<meta name="robots" content="noindex">' in html
    for content in (
        "简介里的党员内容",
        "正文里的党员内容",
        "/library-files/",
        "/media-pipeline/",
        "下载",
        "data-opened-item",
    ):
        assert content not in html, content


def test_signing_in_from_the_prompt_opens_the_item(client, member, unit, library_page):
    """From the prompt's link the member signs in and lands on the item itself, now with its content."""
    item = _members_only_item(unit)
    prompt = client.get(item_url(item)).content.decode()
    link = re.search(r'class="button-primary" href="([^"]+)"', prompt)[1]
    next_url = client.get(link).context["next"]
    response = _sign_in(client, PHONE, PASSWORD, next_url)
    assert response["Location"] == item_url(item)
    html = client.get(item_url(item)).content.decode()
    assert "正文里的党员内容" in html and "请登录后阅读" not in html


def test_unit_only_and_unopened_items_stay_404_for_outsiders(client, unit, library_page):
    """Nothing that would stay closed after signing in as just any member gets a prompt: a unit-only item, a
    members-only episode of a unit-only series and an unpublished item answer 404 like a missing one, to anonymous
    visitors and to a member of another unit alike."""
    series = LibraryItem.objects.create(
        owning_unit=unit, kind="video", role="series", title="本单位系列", access="unit", access_unit=unit
    )
    closed = [
        _members_only_item(unit, title="本单位文章", access=LibraryItem.Access.UNIT, access_unit=unit),
        _members_only_item(unit, title="单集", kind="video", role="episode", parent=series),
        _members_only_item(unit, title="未发布", is_published=False),
    ]
    outsider = member_create(
        username="outsider", password=PASSWORD, org_unit=OrgUnit.add_root(name="外省", code="other", level="province")
    )
    other = Client()
    other.force_login(outsider)
    for item in closed:
        for visitor in (client, other):
            response = visitor.get(item_url(item))
            assert response.status_code == 404 and "请登录后阅读" not in response.content.decode(), item.title
    assert client.get("/library/item/999999/").status_code == 404


# --- Forgotten password -----------------------------------------------------------------------------------------


def test_forgot_password_names_the_branch_secretary_and_offers_an_sms_code(client):
    """忘记密码 explains the branch secretary's way (always there) and offers a code by SMS."""
    html = client.get("/login/forgot/").content.decode()
    assert "支部的书记" in html and "手机号码" in html and "发送验证码" in html


def test_an_sms_code_resets_the_password(client, member, sms_outbox):
    """The member asks for a code with their number, the configured SMS backend gets it, the code and a new
    password (twice) set it, and the member then signs in with the new password; the code is spent."""
    response = client.post("/login/forgot/", {"phone": "139 1234 5678"})
    assert response.status_code == 302 and response["Location"] == "/login/forgot/code/"
    [(phone, text)] = sms_outbox
    code = re.search(r"\d{6}", text)[0]
    assert phone == PHONE and "灯塔" in text
    page = client.get("/login/forgot/code/").content.decode()
    assert "139****5678" in page and PHONE not in page
    new = {"password1": "Qilu-xianfeng-2026", "password2": "Qilu-xianfeng-2026"}
    response = client.post("/login/forgot/code/", {"code": code, **new})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "密码已经重设好了" in client.get(SIGN_IN).content.decode()
    assert _sign_in(client, PHONE, "Qilu-xianfeng-2026").status_code == 302
    client.logout()
    client.post("/login/forgot/", {"phone": PHONE})  # within a minute: refused, no new code
    assert len(sms_outbox) == 1


def test_a_refused_new_password_keeps_the_code_and_says_why_in_chinese(client, member, sms_outbox):
    """A new password the validators refuse, or two that differ, are explained and the right code stays valid."""
    client.post("/login/forgot/", {"phone": PHONE})
    code = re.search(r"\d{6}", sms_outbox[0][1])[0]
    differ = client.post("/login/forgot/code/", {"code": code, "password1": "Aa-123456789", "password2": "Bb-1"})
    assert "两次输入的新密码不一样" in differ.content.decode()
    weak = client.post("/login/forgot/code/", {"code": code, "password1": "12345678", "password2": "12345678"})
    assert weak.status_code == 200 and "errorlist" in weak.content.decode()
    good = client.post("/login/forgot/code/", {"code": code, "password1": "Dengta-2026!", "password2": "Dengta-2026!"})
    assert good.status_code == 302


def test_a_code_is_void_after_five_wrong_tries(client, member, sms_outbox):
    """Five wrong codes void the code: the right one no longer works and the password is unchanged."""
    client.post("/login/forgot/", {"phone": PHONE})
    code = re.search(r"\d{6}", sms_outbox[0][1])[0]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    new = {"password1": "Dengta-2026!", "password2": "Dengta-2026!"}
    for _try in range(5):
        assert "验证码不对或已经过期" in client.post("/login/forgot/code/", {"code": wrong, **new}).content.decode()
    assert client.post("/login/forgot/code/", {"code": code, **new}).status_code == 200
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_an_unknown_number_looks_the_same_and_sends_nothing(client, member, sms_outbox):
    """A number no member has gets the same answer as a member's (nothing to learn), and no SMS is sent."""
    response = client.post("/login/forgot/", {"phone": "13700000000"})
    assert response.status_code == 302 and response["Location"] == "/login/forgot/code/"
    assert sms_outbox == []
    bad = client.post("/login/forgot/", {"phone": "12345"})
    assert "请输入 11 位手机号码" in bad.content.decode()


def test_the_default_sms_backend_only_writes_to_the_log_and_deploy_checks_say_so(client, member, caplog, settings):
    """Without a provider the code goes to the log (the demo can read it there) and `check --deploy` warns; with a
    provider's backend configured the warning is gone."""
    with caplog.at_level("WARNING", logger="cms.accounts.sms"):
        client.post("/login/forgot/", {"phone": PHONE})
    assert any(PHONE in record.getMessage() and "验证码" in record.getMessage() for record in caplog.records)
    assert [warning.id for warning in check_sms_backend(None)] == ["lighthouse.W003"]
    settings.SMS_BACKEND = f"{__name__}.RecordingSMSBackend"
    assert check_sms_backend(None) == []


# --- The demo's plain member ------------------------------------------------------------------------------------


def test_demo_has_a_plain_member_who_signs_in_by_phone_and_is_printed():
    """load_demo creates a member with no role (username dangyuan, a mobile number), prints the account and the
    password, and that member signs in on the site with the number."""
    out = io.StringIO()
    call_command("load_demo", "--no-media", stdout=out)
    member = Member.objects.get(username="dangyuan")
    assert member.phone and not member.groups.exists() and not member.is_staff and member.org_unit is not None
    assert "dangyuan" in out.getvalue() and member.phone in out.getvalue() and "lighthouse-demo" in out.getvalue()
    response = _sign_in(Client(), member.phone, "lighthouse-demo")
    assert response.status_code == 302 and response["Location"] == "/"


# --- Favicon, 404 and 500 ---------------------------------------------------------------------------------------


def test_favicon_files_exist_are_linked_and_served_at_the_root(client):
    """An SVG, an ICO (16, 32, 48 px) and a 180 px touch icon are static files every page links; /favicon.ico
    redirects to the static icon."""
    for name in ("favicon.svg", "favicon.ico", "apple-touch-icon.png"):
        assert finders.find(name), name
    with Image.open(finders.find("favicon.ico")) as icon:
        assert {(16, 16), (32, 32), (48, 48)} <= set(icon.ico.sizes())
    with Image.open(finders.find("apple-touch-icon.png")) as touch:
        assert touch.size == (180, 180)
    html = client.get(SIGN_IN).content.decode()
    assert 'href="/static/favicon.svg" type="image/svg+xml"' in html and 'href="/static/favicon.ico"' in html
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.ico"


def test_404_page_is_chinese_in_the_sites_look(client):
    """A missing page answers 404 with the site's header (登录 and the search box included) and ways back, in
    Chinese."""
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in html and 'class="site-header"' in html and "css/site.css" in html
    assert 'name="q"' in html and 'href="/login/?next=/no-such-page/"' in html and "favicon.svg" in html
    assert 'href="/library/"' in html and 'href="/"' in html


def test_500_page_is_chinese_in_the_sites_look_without_touching_the_database(rf, django_assert_num_queries):
    """The 500 page renders with no request context and no database query (the database may be what failed): the
    site's header and stylesheet, Chinese text, and no form that would need a CSRF token."""
    with django_assert_num_queries(0):
        response = server_error(rf.get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "服务器出错了" in html and 'class="site-header"' in html and "css/site.css" in html and "favicon.svg" in html
    assert 'method="post"' not in html


@pytest.mark.django_db
def test_without_an_sms_backend_only_the_secretarys_way_is_offered(client, settings):
    """Production leaves SMS_BACKEND empty until a provider is configured: the page offers the branch secretary's
    way only, a posted number sends nothing, and the code page sends the member back."""
    settings.SMS_BACKEND = ""
    page = client.get("/login/forgot/").content.decode()
    assert "找支部书记重设" in page and "发送验证码" not in page
    assert "发送验证码" not in client.post("/login/forgot/", {"phone": "13800000001"}).content.decode()
    assert client.get("/login/forgot/code/")["Location"].endswith("/login/forgot/")
