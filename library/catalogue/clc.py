"""The Chinese Library Classification (中国图书馆分类法, 中图法, 5th edition) as data, with lookups and validation.

Only the 22 basic classes and the second-level classes this organisation uses most are listed; finer codes such as
"D261.4" are accepted by their basic class and known prefixes rather than by a full table, which is thousands of
entries long and is what the catalogue records (CNMARC 690) already carry.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The 22 basic classes (基本大类). The letters L, M, W and Y are deliberately unused by the scheme.
CLC_TOP: dict[str, str] = {
    "A": "马克思主义、列宁主义、毛泽东思想、邓小平理论",
    "B": "哲学、宗教",
    "C": "社会科学总论",
    "D": "政治、法律",
    "E": "军事",
    "F": "经济",
    "G": "文化、科学、教育、体育",
    "H": "语言、文字",
    "I": "文学",
    "J": "艺术",
    "K": "历史、地理",
    "N": "自然科学总论",
    "O": "数理科学和化学",
    "P": "天文学、地球科学",
    "Q": "生物科学",
    "R": "医药、卫生",
    "S": "农业科学",
    "T": "工业技术",
    "U": "交通运输",
    "V": "航空、航天",
    "X": "环境科学、安全科学",
    "Z": "综合性图书",
}

# Second-level classes. A range such as "D33/37" is written the way the scheme prints it and covers D33 to D37.
CLC_SECOND: dict[str, str] = {
    "A1": "马克思、恩格斯著作",
    "A2": "列宁著作",
    "A3": "斯大林著作",
    "A4": "毛泽东著作",
    "A49": "邓小平著作",
    "A5": "马克思、恩格斯、列宁、斯大林、毛泽东、邓小平著作汇编",
    "A7": "马克思、恩格斯、列宁、斯大林、毛泽东、邓小平生平和传记",
    "A8": "马克思主义、列宁主义、毛泽东思想、邓小平理论的学习和研究",
    "D0": "政治学、政治理论",
    "D1": "国际共产主义运动",
    "D2": "中国共产党",
    "D33/37": "各国共产党",
    "D4": "工人、农民、青年、妇女运动与组织",
    "D5": "世界政治",
    "D6": "中国政治",
    "D73/77": "各国政治",
    "D8": "外交、国际关系",
    "D9": "法律",
    "K0": "史学理论",
    "K1": "世界史",
    "K2": "中国史",
    "K3": "亚洲史",
    "K4": "非洲史",
    "K5": "欧洲史",
    "K6": "大洋洲史",
    "K7": "美洲史",
    "K81": "传记",
    "K85": "文物考古",
    "K89": "风俗习惯",
    "K9": "地理",
    # Industrial technology is the only class split by a second letter, and "TP…" codes are everywhere.
    "TB": "一般工业技术",
    "TD": "矿业工程",
    "TE": "石油、天然气工业",
    "TF": "冶金工业",
    "TG": "金属学与金属工艺",
    "TH": "机械、仪表工业",
    "TJ": "武器工业",
    "TK": "能源与动力工程",
    "TL": "原子能技术",
    "TM": "电工技术",
    "TN": "无线电电子学、电信技术",
    "TP": "自动化技术、计算机技术",
    "TQ": "化学工业",
    "TS": "轻工业、手工业、生活服务业",
    "TU": "建筑科学",
    "TV": "水利工程",
}

# Basic classes whose second level is listed completely above, so a code outside the list is a mistake (there is
# no A6). Other classes accept any digits, since only part of their second level is listed.
_COMPLETE = frozenset({"A"})

# Letters, then digits with a dot after every third, then the auxiliary notations the scheme allows:
# "-" general subdivision, "()" country, "=" period, '"' ethnic group, "<>" place/time, ":" and "+" combination,
# "/" range. Nothing else (no spaces, no lowercase after normalising).
_CODE = re.compile(r'^(?P<letters>[A-Z]{1,2})(?P<digits>\d+(?:\.\d+)*)?(?P<aux>[-()=<>"+:/][-()=<>"+:/0-9.A-Z]*)?$')


def _expand(code: str) -> list[str]:
    """Turn a printed range such as "D33/37" into the prefixes it covers; a plain code covers itself."""
    head, _sep, tail = code.partition("/")
    if not tail:
        return [code]
    letters = head.rstrip("0123456789")
    start, end = int(head[len(letters) :]), int(tail)
    return [f"{letters}{n}" for n in range(start, end + 1)]


# Every known code with the prefixes it covers, most specific (longest) first so the nearest ancestor wins.
_PREFIXES: list[tuple[str, str]] = sorted(
    [(prefix, code) for code in (*CLC_TOP, *CLC_SECOND) for prefix in _expand(code)],
    key=lambda pair: len(pair[0]),
    reverse=True,
)


def _normalise(code: str) -> str:
    """Fold full-width letters, digits and punctuation (common in Chinese records) and drop spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(code))).upper()


def clc_validate(code: str) -> str:
    """Return the normalised CLC code, or raise ValidationError; usable as a Django field validator."""
    normalised = _normalise(code)
    if normalised in CLC_SECOND:
        return normalised
    match = _CODE.match(normalised)
    if not match:
        raise ValidationError(_("中图法分类号格式不正确：%(code)s"), code="clc_format", params={"code": code})
    letters, digits = match["letters"], match["digits"] or ""
    if letters[0] not in CLC_TOP:
        raise ValidationError(_("%(letter)s 不是中图法基本大类"), code="clc_class", params={"letter": letters[0]})
    if len(letters) == 2 and letters not in CLC_SECOND:
        raise ValidationError(_("%(code)s 不是中图法的二级类目"), code="clc_class", params={"code": letters})
    if letters in _COMPLETE and digits and not _ancestor(letters + digits, exclude_top=True):
        raise ValidationError(_("中图法没有类目 %(code)s"), code="clc_class", params={"code": normalised})
    return normalised


def _ancestor(code: str, *, exclude_top: bool = False) -> str | None:
    """The most specific known class that the code falls under (itself included), or None."""
    for prefix, known in _PREFIXES:
        if code.startswith(prefix) and not (exclude_top and known in CLC_TOP):
            return known
    return None


def clc_parent(code: str) -> str | None:
    """The nearest known broader class: "D261.4" → "D2", "D2" → "D", "TP" → "T", "D" → None."""
    normalised = clc_validate(code)
    if normalised in CLC_TOP:
        return None
    for prefix, known in _PREFIXES:
        if normalised.startswith(prefix) and known != normalised:
            return known
    return None


def clc_label(code: str) -> str:
    """A reader-facing label: "D2 中国共产党"; a finer code names its nearest known class: "D261.4（D2 中国共产党）"."""
    normalised = clc_validate(code)
    name = CLC_TOP.get(normalised) or CLC_SECOND.get(normalised)
    if name:
        return f"{normalised} {name}"
    parent = clc_parent(normalised)
    return f"{normalised}（{clc_label(parent)}）" if parent else normalised


def _choices() -> list[tuple[str, str]]:
    """Basic classes in scheme order, each followed by its listed second-level classes."""
    choices = []
    for top in CLC_TOP:
        choices.append((top, clc_label(top)))
        choices.extend((code, f"　{code} {name}") for code, name in CLC_SECOND.items() if code[0] == top)
    return choices


# For forms: a flat list in scheme order, second-level labels indented with a full-width space.
CLC_CHOICES: list[tuple[str, str]] = _choices()
