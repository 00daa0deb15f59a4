"""Resetting a forgotten password with a code sent by SMS (cms.accounts.sms). Codes live in the shared cache, never
in the database: six digits, valid for ``CODE_MINUTES``, void after ``WRONG_TRIES`` wrong entries. Sends are limited
per number and per address, so nobody can flood a member's phone or collect codes to guess at scale: with these
limits a guesser gets at most 25 tries an hour at a million codes.

Asking for a code answers the same whether or not the number belongs to a member (no list of members' numbers can
be read off this page); only a member's own phone receives anything."""

import secrets
import time

from django.core.cache import cache
from django.utils.crypto import constant_time_compare, salted_hmac

from cms.models import Member

from .identity import member_with_mobile
from .sms import sms_send

CODE_MINUTES = 10
WRONG_TRIES = 5
RESEND_SECONDS = 60
SENDS_PER_HOUR_PER_PHONE = 5
SENDS_PER_HOUR_PER_ADDRESS = 20
HOUR = 3600
SALT = "cms.accounts.password_reset"


def _digest(phone: str, code: str) -> str:
    return salted_hmac(SALT, f"{phone}:{code}").hexdigest()


def _counted(key: str, seconds: int) -> int:
    """How many times this happened in the window that began with its first time (this one included)."""
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, seconds)
        return 1


def reset_code_request(*, phone: str, address: str | None) -> str | None:
    """Send a new code to ``phone`` if it is a member's; returns why nothing could be sent now, or None."""
    if not cache.add(f"{SALT}:recent:{phone}", 1, RESEND_SECONDS):
        return "验证码刚刚发过，请过 1 分钟再试。"
    over_phone = _counted(f"{SALT}:phone:{phone}", HOUR) > SENDS_PER_HOUR_PER_PHONE
    over_address = _counted(f"{SALT}:address:{address}", HOUR) > SENDS_PER_HOUR_PER_ADDRESS
    if over_phone or over_address:
        return "验证码发送次数太多，请过 1 小时再试，或者找支部书记重设密码。"
    if member_with_mobile(phone) is None:
        return None
    code = f"{secrets.randbelow(10**6):06d}"
    stored = {"digest": _digest(phone, code), "wrong": 0, "expires": time.time() + CODE_MINUTES * 60}
    cache.set(f"{SALT}:code:{phone}", stored, CODE_MINUTES * 60)
    text = f"【灯塔】您的重设密码验证码是 {code}，{CODE_MINUTES} 分钟内有效。如非本人操作，请忽略。"
    sms_send(phone=phone, text=text)
    return None


def reset_code_member(*, phone: str, code: str) -> Member | None:
    """The member whose password this code may reset, or None (no code, wrong, expired, or void after too many wrong
    tries). A right code stays valid until ``reset_code_spend``, so a new password the validators refuse can be
    corrected without a new code."""
    key = f"{SALT}:code:{phone}"
    stored = cache.get(key)
    if stored is None:
        return None
    if not constant_time_compare(stored["digest"], _digest(phone, code)):
        stored["wrong"] += 1
        if stored["wrong"] >= WRONG_TRIES:
            cache.delete(key)
        else:  # the count is kept; the code's life is not extended
            cache.set(key, stored, max(1, int(stored["expires"] - time.time())))
        return None
    return member_with_mobile(phone)


def reset_code_spend(*, phone: str) -> None:
    cache.delete(f"{SALT}:code:{phone}")
