"""Sign in, sign out and a forgotten password, on the site itself (not the Wagtail admin)."""

import posixpath
from urllib.parse import unquote, urlsplit

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from cms.login_throttle import client_ip_address

from . import password_reset
from .forms import MobileForm, ResetCodeForm, SignInForm
from .identity import masked
from .sms import sms_available

RESET_PHONE_SESSION_KEY = "cms_password_reset_phone"


def _path(url: str) -> str:
    """The path a browser would ask for: percent-escapes and dot segments undone, as Django's resolver would."""
    return posixpath.normpath(unquote(urlsplit(url).path) or "/").rstrip("/") + "/"


def lands_in_admin(url: str) -> bool:
    """Whether following ``url`` (already checked to stay on this site) opens the Wagtail admin."""
    return _path(url).startswith(reverse("wagtailadmin_home"))


def leads_back_here(url: str) -> bool:
    """Whether ``url`` is one of these pages (sign in, out, forgotten password): never a place to land after signing
    in (the sign-in page would send a signed-in member on and on)."""
    return _path(url).startswith(reverse("cms_sign_in")) or _path(url) == reverse("cms_sign_out")


class SignInView(LoginView):
    """Django's LoginView: ``next`` is followed only when url_has_allowed_host_and_scheme accepts it (this host,
    https when the page is), and a signed-in visitor is sent on at once. Where it leads into the admin, only who may
    use the admin follows it; a member lands on the home page instead."""

    template_name = "cms/sign_in.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return "/"

    def get_success_url(self) -> str:
        url = super().get_success_url()
        if leads_back_here(url):
            return self.get_default_redirect_url()
        if lands_in_admin(url) and not self.request.user.has_perm("wagtailadmin.access_admin"):
            return self.get_default_redirect_url()
        return url


@require_POST
def sign_out(request):
    """A POST with the CSRF token (the header's 退出 button): a link or a prefetch cannot sign anyone out."""
    logout(request)
    return HttpResponseRedirect("/")


@never_cache
@csrf_protect
def password_forgot(request):
    """Two ways back in: the branch secretary (always), or a code by SMS to the member's registered number."""
    if not sms_available():
        return render(request, "cms/password_forgot.html", {"form": None})
    form = MobileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        refused = password_reset.reset_code_request(phone=phone, address=client_ip_address(request))
        if refused is None:
            request.session[RESET_PHONE_SESSION_KEY] = phone
            return redirect("cms_password_reset")
        form.add_error(None, refused)
    return render(request, "cms/password_forgot.html", {"form": form})


@never_cache
@csrf_protect
def password_reset_with_code(request):
    """The code from the SMS and a new password; then the sign-in page, where the member signs in with it."""
    phone = request.session.get(RESET_PHONE_SESSION_KEY)
    if not phone or not sms_available():
        return redirect("cms_password_forgot")
    form = ResetCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        member = password_reset.reset_code_member(phone=phone, code=form.cleaned_data["code"])
        if member is None:
            form.add_error("code", "验证码不对或已经过期。输错 5 次后要重新获取验证码。")
        elif form.password_acceptable_for(member):
            form.save_password(member)
            password_reset.reset_code_spend(phone=phone)
            del request.session[RESET_PHONE_SESSION_KEY]
            messages.success(request, "密码已经重设好了，请用新密码登录。")
            return redirect("cms_sign_in")
    return render(request, "cms/password_reset.html", {"form": form, "phone": masked(phone)})


@never_cache
@login_required
def inbox(request):
    """消息: the member's notices, newest first, twenty a page; opening the page marks the shown ones read."""
    from django.core.paginator import Paginator

    from .. import selectors, services

    page = Paginator(selectors.notices_of(request.user), 20).get_page(request.GET.get("page"))
    unread = [notice.pk for notice in page if notice.read_at is None]
    response = render(request, "cms/inbox.html", {"page_obj": page, "unread": set(unread)})
    services.notices_mark_read(member=request.user, notice_ids=unread)
    return response


@never_cache
@login_required
def branch_members(request):
    """支部党员: the members of the branches the signed-in secretary leads, each with 重设密码 (a POST that shows the
    new temporary password once, for the secretary to tell the member)."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from .. import selectors, services

    branches = list(selectors.branches_led_by(request.user))
    if not branches:
        raise Http404
    members = get_user_model().objects.filter(org_unit__in=branches, is_active=True).order_by("real_name", "username")
    if request.method == "POST":
        member = members.filter(pk=request.POST.get("member") or 0).first()
        if member is None:
            raise Http404
        try:
            password = services.member_password_reset_by_secretary(by=request.user, member=member)
        except PermissionDenied:
            raise Http404 from None
        messages.success(
            request,
            _("已为 %(name)s 重设密码，新的临时密码是：%(password)s　请当面或电话告诉本人。")
            % {"name": member.get_full_name(), "password": password},
        )
        return redirect("cms_branch_members")
    return render(request, "cms/branch_members.html", {"branches": branches, "members": members})
