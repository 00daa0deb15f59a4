"""Sign-in throttling (issue 11, item 4): the admin login, the feeds' HTTP Basic auth and the API's token issuing
all go through django-axes with the rules of cms.login_throttle: per address, per account and address, and per
account from anywhere for untrusted clients only, so an attacker cannot lock the owner out."""

import base64

import pytest
from django.test import Client, RequestFactory

from cms import login_throttle
from cms.models import OrgUnit
from cms.services import member_create

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456"
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"
LOGIN = "/admin/login/"


@pytest.fixture
def unit():
    return OrgUnit.add_root(name="山东省", code="sd", level="province")


@pytest.fixture
def owner(unit):
    member = member_create(username="zhang", password=PASSWORD, real_name="张三", org_unit=unit)
    member.is_superuser = True
    member.save()
    return member


def _sign_in(client: Client, username: str, password: str, address: str):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _basic(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def test_thirty_wrong_admin_passwords_then_the_right_one_is_still_refused_in_chinese(client, owner):
    """After 30 wrong passwords for one account from one address, the right password from that address is refused
    too: 429, a Chinese message, Retry-After, and no session."""
    for _attempt in range(30):
        assert _sign_in(client, "zhang", "wrong", ATTACKER).status_code in (200, 429)
    response = _sign_in(client, "zhang", PASSWORD, ATTACKER)
    assert response.status_code == 429
    assert "密码错误次数过多" in response.content.decode()
    assert "Account locked" not in response.content.decode()
    assert int(response["Retry-After"]) == 15 * 60
    assert not _signed_in(client)


def test_the_account_and_address_rule_locks_at_its_limit(client, owner, settings):
    """Wrong passwords for one account from one address are answered normally until the limit, and the attempt
    that reaches it is already the lockout page."""
    limit = settings.SIGN_IN_LIMITS["account_address"]
    for _attempt in range(limit - 1):
        assert _sign_in(client, "zhang", "wrong", ATTACKER).status_code == 200
    assert _sign_in(client, "zhang", "wrong", ATTACKER).status_code == 429


def test_one_password_sprayed_across_many_usernames_from_one_address_is_throttled(client, owner, unit, settings):
    """One password tried once for each of many usernames from one address: after the per-address limit even a
    real member's right password from that address is refused; another address is not affected."""
    member_create(username="li", password=PASSWORD, real_name="李四", org_unit=unit)
    for index in range(settings.SIGN_IN_LIMITS["address"]):
        _sign_in(client, f"user{index}", "Spring2026!", ATTACKER)
    assert _sign_in(Client(), "li", PASSWORD, ATTACKER).status_code == 429
    elsewhere = Client()
    assert _sign_in(elsewhere, "li", PASSWORD, OWNER).status_code == 302 and _signed_in(elsewhere)


def test_an_attackers_wrong_guesses_do_not_lock_the_owner_out(client, owner):
    """Ten wrong guesses for the owner's account from the attacker's address: the owner still signs in from
    their own address, on a browser that never signed in before."""
    attacker = Client()
    for _attempt in range(10):
        _sign_in(attacker, "zhang", "wrong", ATTACKER)
    assert _sign_in(attacker, "zhang", PASSWORD, ATTACKER).status_code == 429
    response = _sign_in(client, "zhang", PASSWORD, OWNER)
    assert response.status_code == 302 and _signed_in(client)


def test_a_distributed_attack_locks_untrusted_browsers_but_not_the_owners_device(client, owner, settings):
    """Guesses for one account from many addresses (each under the per-address limits) lock that account for
    browsers it never signed in on; the owner's browser, which carries the signed trusted-device cookie from an
    earlier sign-in, still gets in. A forged cookie trusts nothing."""
    earlier = Client()
    assert _sign_in(earlier, "zhang", PASSWORD, OWNER).status_code == 302
    # The owner signed out since (Django's test client would drop every cookie on logout(); a browser keeps this).
    client.cookies[login_throttle.TRUSTED_DEVICE_COOKIE] = earlier.cookies[login_throttle.TRUSTED_DEVICE_COOKIE].value
    for index in range(settings.SIGN_IN_LIMITS["account"]):
        _sign_in(Client(), "zhang", "wrong", f"192.0.2.{index + 1}")
    assert _sign_in(Client(), "zhang", PASSWORD, OWNER).status_code == 429  # a new browser: untrusted
    forged = Client()
    forged.cookies[login_throttle.TRUSTED_DEVICE_COOKIE] = "zhang"
    assert _sign_in(forged, "zhang", PASSWORD, OWNER).status_code == 429
    response = _sign_in(client, "zhang", PASSWORD, OWNER)
    assert response.status_code == 302 and _signed_in(client)


def test_feeds_basic_auth_is_throttled_by_the_same_rules(client, owner, unit, settings):
    """The feeds' Basic auth counts wrong passwords with the same rules: the attempt that reaches the account and
    address limit gets 429 in Chinese, then even the right password (also one remembered from an earlier check) is
    refused from there; the owner's app from another address still works."""
    assert client.get("/opds/login/", REMOTE_ADDR=OWNER, **_basic("zhang", PASSWORD)).status_code == 200
    limit = settings.SIGN_IN_LIMITS["account_address"]
    for _attempt in range(limit - 1):
        assert client.get("/opds/login/", REMOTE_ADDR=ATTACKER, **_basic("zhang", "wrong")).status_code == 401
    locked = client.get("/opds/login/", REMOTE_ADDR=ATTACKER, **_basic("zhang", "wrong"))
    assert locked.status_code == 429 and "密码错误次数过多" in locked.content.decode()
    right = client.get("/opds/login/", REMOTE_ADDR=ATTACKER, **_basic("zhang", PASSWORD))
    assert right.status_code == 429 and int(right["Retry-After"]) > 0
    assert client.get("/podcasts/", REMOTE_ADDR=ATTACKER, **_basic("zhang", PASSWORD)).status_code == 429
    assert client.get("/opds/login/", REMOTE_ADDR=OWNER, **_basic("zhang", PASSWORD)).status_code == 200


def test_feeds_basic_auth_password_spraying_is_throttled_per_address(client, owner, settings):
    """One password across many usernames through the feeds: refused from that address after the per-address
    limit, like on the admin login."""
    for index in range(settings.SIGN_IN_LIMITS["address"]):
        client.get("/opds/login/", REMOTE_ADDR=ATTACKER, **_basic(f"user{index}", "Spring2026!"))
    assert client.get("/opds/login/", REMOTE_ADDR=ATTACKER, **_basic("zhang", PASSWORD)).status_code == 429


def test_api_token_issuing_is_throttled_with_a_chinese_json_answer(client, owner, settings):
    """POST /api/v1/auth/token checks passwords too: after the limit it answers 429 JSON in Chinese, even for the
    right password."""
    url = "/api/v1/auth/token"
    for _attempt in range(settings.SIGN_IN_LIMITS["account_address"]):
        client.post(url, {"username": "zhang", "password": "wrong"}, content_type="application/json")
    response = client.post(url, {"username": "zhang", "password": PASSWORD}, content_type="application/json")
    assert response.status_code == 429
    assert "密码错误次数过多" in response.json()["detail"]


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.2.3.4", "10.0.0.1"),  # no proxy: what the client writes is ignored
        (1, "1.2.3.4, 203.0.113.5", "203.0.113.5"),  # one proxy: its entry; the client's own ignored
        (2, "1.2.3.4, 203.0.113.5, 10.0.0.9", "203.0.113.5"),
        (1, "", "10.0.0.1"),  # the proxy wrote nothing: the connection's address
        (1, "not-an-address", "10.0.0.1"),
    ],
)
def test_the_client_address_behind_proxies(settings, proxies, forwarded, expected):
    """Behind TRUSTED_PROXY_COUNT proxies the address is the one the outermost proxy appended to X-Forwarded-For,
    so a client cannot pick its own address to dodge the per-address rules; without proxies it is REMOTE_ADDR."""
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert login_throttle.client_ip_address(request) == expected
