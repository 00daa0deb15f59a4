"""Normalise and validate book and serial identifiers: ISBN, ISSN and the Chinese CN serial number.

Chinese catalogue data often carries full-width characters (０-９, ＩＳＢＮ, －, ／) and assorted dashes, so every
value is folded with NFKC and stripped of separators before its check digit is computed. The check-digit
arithmetic is a few lines each and python-stdnum is not a dependency (yet); see the ISO 2108 / ISO 3297 rules.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from library.catalogue.clc import CLC_SECOND, CLC_TOP

# Province-level region codes (GB/T 2260) that the CN serial number starts with (GB/T 9999.1).
CN_REGION_CODES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
}

# Hyphen-like characters that NFKC leaves alone but that turn up in pasted catalogue data.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc"
_SEPARATORS = re.compile(rf"[\s\-{_DASHES}]+")
_CN_SERIAL = re.compile(r"^CN(?P<region>\d{2})-?(?P<serial>\d{4})/(?P<cls>[A-Z]{1,2})$")


def _fold(value: str) -> str:
    """Full-width to ASCII, upper case, and every dash spelled "-"."""
    folded = unicodedata.normalize("NFKC", str(value)).upper().strip()
    return re.sub(rf"[{_DASHES}]", "-", folded)


def _compact(value: str, *, prefix: str) -> str:
    """The bare characters of an identifier: no label prefix ("ISBN", "ISBN:"), spaces or dashes."""
    folded = _fold(value)
    folded = re.sub(rf"^{prefix}(?:-1[03])?\s*[:：]?", "", folded)
    return _SEPARATORS.sub("", folded)


def _isbn10_check(first9: str) -> str:
    """ISBN-10 check character: weights 10..2, mod 11, 10 written as X."""
    remainder = (11 - sum(int(d) * w for d, w in zip(first9, range(10, 1, -1), strict=True))) % 11
    return "X" if remainder == 10 else str(remainder)


def _isbn13_check(first12: str) -> str:
    """ISBN-13 (EAN-13) check digit: alternate weights 1 and 3, mod 10."""
    return str((10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))) % 10)


def isbn_normalise(value: str) -> str:
    """Return the 13-digit ISBN for an ISBN-10 or ISBN-13 in any common spelling; raise ValidationError if invalid."""
    compact = _compact(value, prefix="ISBN")
    if len(compact) not in (10, 13):
        raise ValidationError(_("ISBN 应为 10 位或 13 位"), code="isbn_length")
    if len(compact) == 10:
        if not re.fullmatch(r"\d{9}[\dX]", compact):
            raise ValidationError(_("ISBN 只能由数字组成，10 位 ISBN 的末位可以是 X"), code="isbn_format")
        if _isbn10_check(compact[:9]) != compact[9]:
            raise ValidationError(_("ISBN 校验位不正确"), code="isbn_checksum")
        body = "978" + compact[:9]
        return body + _isbn13_check(body)
    if not compact.isdigit():
        raise ValidationError(_("ISBN 只能由数字组成，10 位 ISBN 的末位可以是 X"), code="isbn_format")
    if not compact.startswith(("978", "979")):
        raise ValidationError(_("13 位 ISBN 应以 978 或 979 开头"), code="isbn_prefix")
    if _isbn13_check(compact[:12]) != compact[12]:
        raise ValidationError(_("ISBN 校验位不正确"), code="isbn_checksum")
    return compact


def isbn_is_valid(value: str) -> bool:
    """True when the value is an ISBN-10 or ISBN-13 with a correct check digit."""
    try:
        isbn_normalise(value)
    except ValidationError:
        return False
    return True


def _issn_check(first7: str) -> str:
    """ISSN check character: weights 8..2, mod 11, 10 written as X."""
    remainder = (11 - sum(int(d) * w for d, w in zip(first7, range(8, 1, -1), strict=True))) % 11
    return "X" if remainder == 10 else str(remainder)


def issn_normalise(value: str) -> str:
    """Return the ISSN as "NNNN-NNNC"; raise ValidationError when its shape or check character is wrong."""
    compact = _compact(value, prefix="ISSN")
    if not re.fullmatch(r"\d{7}[\dX]", compact):
        raise ValidationError(_("ISSN 应为 8 位，末位可以是 X"), code="issn_format")
    if _issn_check(compact[:7]) != compact[7]:
        raise ValidationError(_("ISSN 校验位不正确"), code="issn_checksum")
    return f"{compact[:4]}-{compact[4:]}"


def cn_serial_normalise(value: str) -> str:
    """Return the CN serial number as "CN 11-1234/D"; raise ValidationError for a bad shape, region or class."""
    compact = re.sub(r"\s+", "", _fold(value))
    match = _CN_SERIAL.match(compact)
    if not match:
        raise ValidationError(_("CN 号格式应为 CN 11-1234/D"), code="cn_format")
    region, serial, cls = match["region"], match["serial"], match["cls"]
    if region not in CN_REGION_CODES:
        raise ValidationError(
            _("CN 号的地区代码 %(region)s 不是省级行政区代码"), code="cn_region", params={"region": region}
        )
    # The class after the slash is a basic class, or a two-letter industrial class such as TP.
    if cls not in CLC_TOP and cls not in CLC_SECOND:
        raise ValidationError(_("CN 号的分类号 %(cls)s 不是中图法基本大类"), code="cn_class", params={"cls": cls})
    return f"CN {region}-{serial}/{cls}"


def validate_isbn(value: str) -> None:
    """Django field validator for an ISBN-10 or ISBN-13."""
    isbn_normalise(value)


def validate_issn(value: str) -> None:
    """Django field validator for an ISSN."""
    issn_normalise(value)


def validate_cn_serial(value: str) -> None:
    """Django field validator for a CN serial number (国内统一连续出版物号)."""
    cn_serial_normalise(value)
