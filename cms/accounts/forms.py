"""The sign-in and forgotten-password forms, in Chinese, for phones: large fields, the right keyboards, and the
browser's password manager and one-time-code autofill told what each field is."""

import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin

from .identity import mobile_number, normalised, sign_in_username


class SignInForm(AuthenticationForm):
    """Django's AuthenticationForm (authenticate() gets the request, so django-axes throttles every try), with a
    mobile number accepted in place of the username and messages a member understands."""

    username = forms.CharField(
        label="手机号码或用户名",
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false", "autofocus": True}
        ),
    )
    password = forms.CharField(
        label="密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    error_messages = {
        "invalid_login": "手机号码、用户名或密码不对，请再输一次。忘记密码请点“忘记密码”。",
        "inactive": "这个账号已停用，请联系您所在的党支部。",
    }

    def clean_username(self) -> str:
        return sign_in_username(self.cleaned_data["username"])


class MobileForm(forms.Form):
    phone = forms.CharField(
        label="手机号码",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "autofocus": True}),
    )

    def clean_phone(self) -> str:
        phone = mobile_number(self.cleaned_data["phone"])
        if phone is None:
            raise forms.ValidationError("请输入 11 位手机号码。")
        return phone


class ResetCodeForm(SetPasswordMixin, forms.Form):
    """The code from the SMS and the new password twice (Django's password validators judge it)."""

    code = forms.CharField(
        label="短信验证码",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*", "autofocus": True}
        ),
        error_messages={"min_length": "验证码是 6 位数字。"},
    )
    password1 = forms.CharField(
        label="新密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="至少 8 位，不要全是数字，也不要用生日、手机号这样容易猜到的密码。",
    )
    password2 = forms.CharField(
        label="再输一次新密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    error_messages = {"password_mismatch": "两次输入的新密码不一样，请再输一次。"}

    def clean_code(self) -> str:
        code = normalised(self.cleaned_data["code"])  # full-width digits from a Chinese input method too
        if not re.fullmatch(r"[0-9]{6}", code):
            raise forms.ValidationError("验证码是 6 位数字。")
        return code

    def clean(self):
        self.validate_passwords()
        return super().clean()

    def password_acceptable_for(self, member) -> bool:
        """Django's password validators, now that the member is known (similarity to their name and number)."""
        self.validate_password_for_user(member)
        return not self.errors

    def save_password(self, member) -> None:
        self.set_password_and_save(member)
