"""Who a member says they are at sign-in: a username or a mobile number, typed the way people type on a phone
(full-width digits from a Chinese input method, spaces or dashes between the groups, a +86 in front)."""

import re
import unicodedata

from cms.models import Member

MOBILE = re.compile(r"^1\d{10}$")


def normalised(identifier: str) -> str:
    """Full-width digits and letters as ASCII, surrounding spaces gone."""
    return unicodedata.normalize("NFKC", identifier or "").strip()


def mobile_number(identifier: str) -> str | None:
    """The 11-digit mobile number in what was typed ("138 0000 0001", "+86 138-0000-0001"), or None."""
    digits = re.sub(r"[\s\-]", "", normalised(identifier))
    digits = re.sub(r"^\+?86(?=1\d{10}$)", "", digits)
    return digits if MOBILE.match(digits) else None


def sign_in_username(identifier: str) -> str:
    """The username whose password is checked: the username itself when an account has it, else the account with
    this mobile number, otherwise what was typed (the check then fails and counts against that name). Resolving the
    number first gives an account one failure count for sign-in throttling, whichever way its owner types it."""
    typed = normalised(identifier)
    if Member.objects.filter(username=typed).exists():
        return typed
    phone = mobile_number(typed)
    if phone:
        username = Member.objects.filter(phone=phone).values_list("username", flat=True).first()
        if username:
            return username
    return typed


def member_with_mobile(phone: str) -> Member | None:
    """The active member this mobile number belongs to (numbers are unique), or None."""
    return Member.objects.filter(phone=phone, is_active=True).first()


def masked(phone: str) -> str:
    """138****0001: enough for the owner to recognise, not enough to read off a screen."""
    return f"{phone[:3]}****{phone[-4:]}"
