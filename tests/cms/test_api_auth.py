"""Who is calling the JSON API (cms.api_auth): bearer tokens for the apps, the session (with CSRF) for web pages.

The member and public rules are checked on a small API of our own mounted next to the site's, so these tests
need no feature app's routes; the token endpoint is the real one at /api/v1/auth/token.
"""

from datetime import datetime

import pytest
from django.core import signing
from django.test import Client
from django.urls import include, path
from ninja import NinjaAPI

from cms.api_auth import MEMBER_AUTH, PUBLIC_AUTH, TOKEN_SALT, api_token_for, api_token_user, api_user
from cms.models import Member

probe = NinjaAPI(urls_namespace="cms-auth-probe")


def _caller(request) -> dict:
    user = api_user(request)
    # request.user too: selectors and services read it as on any Django view.
    return {"user": user.get_username(), "request_user": request.user.get_username()}


@probe.get("/member", auth=MEMBER_AUTH)
def member_read(request):
    return _caller(request)


@probe.post("/member", auth=MEMBER_AUTH)
def member_write(request):
    return _caller(request)


@probe.get("/public", auth=PUBLIC_AUTH)
def public_read(request):
    return _caller(request)


urlpatterns = [path("probe/", probe.urls), path("", include("cms.project.urls"))]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

TOKEN_URL = "/api/v1/auth/token"
CSRF_SECRET = "a" * 32


@pytest.fixture
def member():
    return Member.objects.create_user(username="wang", password="pw-123456", real_name="王芳")


def _bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _issued_ago(monkeypatch, user, seconds: int) -> str:
    """A token for `user` as it was issued `seconds` ago (the signature carries the time it was made)."""
    then = int(datetime.now().timestamp()) - seconds
    with monkeypatch.context() as patch:
        patch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(then))
        return api_token_for(user)


# --- Issuing: POST /api/v1/auth/token -----------------------------------------------------------------------


def test_the_right_password_gets_a_token_for_that_member(member, settings):
    """Username and password give a bearer token that stands for the member, its expiry (now + the max age) and
    who the member is; no CSRF token is needed, since the apps have no cookies."""
    settings.API_TOKEN_MAX_AGE = 3600
    app = Client(enforce_csrf_checks=True)
    response = app.post(TOKEN_URL, {"username": "wang", "password": "pw-123456"}, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["member"] == {"id": member.pk, "username": "wang", "name": "王芳"}
    assert api_token_user(body["token"]) == member
    expires_in = datetime.fromisoformat(body["expires_at"]).timestamp() - datetime.now().timestamp()
    assert 3500 < expires_in <= 3600


@pytest.mark.parametrize("password", ["wrong-password", "PW-123456"])
def test_a_wrong_password_gets_no_token(client, member, password):
    """A wrong password is a 401 that says so in Chinese, and carries no token."""
    response = client.post(TOKEN_URL, {"username": "wang", "password": password}, content_type="application/json")
    assert response.status_code == 401
    assert response.json() == {"detail": "用户名或密码错误"}


def test_unknown_and_deactivated_members_get_no_token(client, member):
    """A username nobody has and a deactivated member's right password both get the same 401 as a wrong
    password (nothing tells a guesser which usernames exist)."""
    member.is_active = False
    member.save()
    for username in ("wang", "nobody"):
        response = client.post(
            TOKEN_URL, {"username": username, "password": "pw-123456"}, content_type="application/json"
        )
        assert response.status_code == 401 and response.json()["detail"] == "用户名或密码错误"


def test_an_empty_or_missing_field_is_a_422_naming_it(client, member):
    """Empty or missing username/password never reach the password check: 422 naming the field."""
    response = client.post(TOKEN_URL, {"username": "", "password": "pw-123456"}, content_type="application/json")
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["username"]
    response = client.post(TOKEN_URL, {"username": "wang"}, content_type="application/json")
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["password"]


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [("\x00", "pw-123456", "username"), ("wa\nng", "pw-123456", "username"), ("wang", "pw\x00123456", "password")],
)
def test_control_characters_are_a_422_not_a_500(client, member, username, password, field):
    """A NUL (which PostgreSQL text cannot hold) or a control character in the username, or a NUL in the password,
    is refused as bad input naming the field, before any sign-in check or throttle record touches the database
    (found by the API fuzzing on PostgreSQL)."""
    response = client.post(TOKEN_URL, {"username": username, "password": password}, content_type="application/json")
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == [field]


# --- What a token stands for --------------------------------------------------------------------------------


def test_a_token_stands_for_its_member_until_the_password_changes(member):
    """A token is good until the member's password changes: the change revokes every token issued before it,
    as it ends every session; a token issued after the change works."""
    old = api_token_for(member)
    assert api_token_user(old) == member
    member.set_password("new-pw-7890")
    member.save()
    assert api_token_user(old) is None
    assert api_token_user(api_token_for(member)) == member


def test_a_token_expires_after_the_max_age(monkeypatch, member, settings):
    """A token older than API_TOKEN_MAX_AGE is refused; a younger one is accepted."""
    settings.API_TOKEN_MAX_AGE = 3600
    assert api_token_user(_issued_ago(monkeypatch, member, 3500)) == member
    assert api_token_user(_issued_ago(monkeypatch, member, 3700)) is None


def test_tokens_of_deactivated_or_deleted_members_are_refused(member):
    """Deactivating a member stops their tokens at once; so does deleting them."""
    token = api_token_for(member)
    member.is_active = False
    member.save()
    assert api_token_user(token) is None
    member.is_active = True
    member.save()
    assert api_token_user(token) == member
    member.delete()
    assert api_token_user(token) is None


def test_forged_and_malformed_tokens_stand_for_nobody(member):
    """Tampered tokens, other signatures of ours (another salt), signed nonsense and plain garbage are refused
    without an error."""
    token = api_token_for(member)
    other_purpose = signing.TimestampSigner(salt="lighthouse.other").sign(f"{member.pk}:x")
    ours = signing.TimestampSigner(salt=TOKEN_SALT)
    fragment = token.split(":")[1]
    for bad in (
        token + "x",
        token.replace(f"{member.pk}:", f"{member.pk + 1}:", 1),
        other_purpose,
        ours.sign("no-colon"),
        ours.sign(f"not-a-number:{fragment}"),
        ours.sign(f"{member.pk}:wrong-fragment"),
        "",
        "a:b:c",
    ):
        assert api_token_user(bad) is None, bad


# --- Using a token, or the session ---------------------------------------------------------------------------


def test_a_bearer_token_opens_member_routes_without_cookies_or_csrf(member):
    """The apps send only the token: member routes answer for its member, writes need no CSRF token, and
    request.user is the member too."""
    app = Client(enforce_csrf_checks=True)
    headers = _bearer(api_token_for(member))
    assert app.get("/probe/member", **headers).json() == {"user": "wang", "request_user": "wang"}
    assert app.post("/probe/member", **headers).json()["user"] == "wang"


def test_member_routes_refuse_callers_without_credentials(client):
    """No token and no session: member routes answer 401."""
    assert client.get("/probe/member").status_code == 401
    assert client.post("/probe/member").status_code == 401


def test_a_bad_token_is_a_clear_401_even_on_public_routes(member):
    """A token that was sent but is no good is a 401 asking to sign in again, also on public routes: an app must
    not silently fall back to what visitors see."""
    app = Client()
    for path_ in ("/probe/member", "/probe/public"):
        response = app.get(path_, **_bearer(api_token_for(member) + "x"))
        assert response.status_code == 401 and "重新登录" in response.json()["detail"]
    response = app.get("/probe/member", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 401


def test_public_routes_take_visitors_and_members(client, member):
    """Public routes answer visitors (anonymous) and say who the member is when a token comes along; an
    Authorization header of another scheme is not a token and leaves the caller a visitor."""
    assert client.get("/probe/public").json()["user"] == ""
    assert client.get("/probe/public", **_bearer(api_token_for(member))).json()["user"] == "wang"
    assert client.get("/probe/public", HTTP_AUTHORIZATION="Basic d2FuZzpwdw==").json()["user"] == ""


def test_the_token_decides_when_a_session_comes_along(member):
    """A browser signed in as one member that sends another member's token is served as the token's member."""
    other = Member.objects.create_user(username="li", password="pw-123456")
    browser = Client()
    browser.force_login(other)
    assert browser.get("/probe/member", **_bearer(api_token_for(member))).json()["user"] == "wang"


def test_a_session_reads_freely_but_writes_only_with_the_csrf_token(member):
    """Web pages use the session: reads need nothing more, a write without X-CSRFToken is a 403 naming CSRF, and
    with the cookie's token it goes through."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    assert browser.get("/probe/member").json()["user"] == "wang"
    refused = browser.post("/probe/member")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    browser.cookies["csrftoken"] = CSRF_SECRET
    assert browser.post("/probe/member", HTTP_X_CSRFTOKEN=CSRF_SECRET).json()["user"] == "wang"


def test_an_anonymous_write_is_a_401_not_a_csrf_error():
    """The CSRF check runs only for a signed-in session: an anonymous write is told to sign in, not that its page
    expired."""
    response = Client(enforce_csrf_checks=True).post("/probe/member")
    assert response.status_code == 401
