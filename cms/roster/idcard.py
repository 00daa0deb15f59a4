"""Resident identity card numbers (GB 11643-1999): validation and the masked form editors see.

An 18-character number is 6 digits of region, 8 of birth date, 3 of sequence and a check character computed
from the first 17 (ISO 7064 MOD 11-2). Old 15-digit cards are refused: they carry no check character and have
been replaced since 2013; the organisation department's rosters hold the 18-character form."""

import datetime
import unicodedata

from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
# The first two digits name a province-level region (GB/T 2260); 71, 81, 82 (Taiwan, Hong Kong, Macao) and 83
# (residence permits for compatriots from them) have their own numbers too.
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
EARLIEST_BIRTH = datetime.date(1900, 1, 1)


class InvalidIdNumber(ValueError):
    """The text is not a valid resident ID number; the message says why, in Chinese."""


def normalise(text: str) -> str:
    """Full-width digits and letters folded (NFKC), spaces dropped, a lower-case x made upper."""
    return "".join(unicodedata.normalize("NFKC", text or "").split()).upper()


def check_character(first17: str) -> str:
    return CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def validated(text: str, *, today: datetime.date | None = None) -> str:
    """The number in its normal form, or InvalidIdNumber naming the first thing wrong with it."""
    number = normalise(text)
    if len(number) == 15 and number.isdigit():
        raise InvalidIdNumber(_("这是 15 位旧身份证号，请填写 18 位身份证号。"))
    if len(number) != 18:
        raise InvalidIdNumber(_("身份证号应为 18 位，这里是 %(n)d 位。") % {"n": len(number)})
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidIdNumber(_("身份证号前 17 位应为数字，最后一位为数字或 X。"))
    if number[:2] not in PROVINCE_CODES:
        raise InvalidIdNumber(_("身份证号前两位不是有效的省级行政区划代码。"))
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(_("身份证号中的出生日期不存在。")) from None
    if not EARLIEST_BIRTH <= birth <= (today or datetime.date.today()):
        raise InvalidIdNumber(_("身份证号中的出生日期不在合理范围内。"))
    if check_character(number[:17]) != number[17]:
        raise InvalidIdNumber(_("身份证号校验位不正确，请核对是否抄错。"))
    return number


def masked(number: str) -> str:
    """What screens and reports show: the region's first four and the last four, ``3701**********123X``."""
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"
