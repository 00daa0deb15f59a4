"""形近字: characters that look alike and are typed (or handwritten, or read off a TV) for one another.

A homophone slip is caught by pinyin ("did you mean", selectors.correction); a shape slip is not, because 己/已/巳
(ji, yi, si) sound nothing alike. When a query finds no or few results, selectors.shape_correction tries the query
with one of its characters swapped for a look-alike from these sets and offers the variant the index finds most.

Source: a small hand-made table, curated from the 形近字 lists of primary-school Chinese teaching (pairs that
differ by one stroke, a stroke's length or a dot) and kept to characters common in titles and names; every
character is simplified, as queries are folded before they are read (analysis.normalize). Add a set here when the
search statistics (zero-result queries) show a new slip; a set needs no other change.
"""

from functools import cache

CONFUSABLE_SETS = (
    "己已巳",
    "未末",
    "戊戌戍戎",
    "日曰",
    "人入八",
    "土士",
    "干千于",
    "天夭",
    "大太犬",
    "王玉主",
    "刀力",
    "由甲申",
    "免兔",
    "鸟乌",
    "折拆",
    "候侯",
    "拔拨",
    "崇祟",
    "汩汨",
    "贝见",
    "辨辩辫",
    "赢嬴",
    "准淮",
    "冶治",
    "今令",
    "夫失矢",
    "午牛",
    "杳杏",
    "微徽",
    "茶荼",
    "侍待",
    "幸辛",
    "母毋",
    "洒酒",
    "狠狼",
    "代伐",
    "休体",
    "兵乒乓",
)


@cache
def _look_alikes() -> dict[str, tuple[str, ...]]:
    """Each character → the other characters of its set(s), in the table's order."""
    table: dict[str, list[str]] = {}
    for group in CONFUSABLE_SETS:
        for char in group:
            table.setdefault(char, []).extend(other for other in group if other != char)
    return {char: tuple(dict.fromkeys(others)) for char, others in table.items()}


def shape_variants(text: str, *, limit: int) -> list[str]:
    """`text` with one character swapped for a look-alike, left to right and in the table's order; at most
    `limit` variants (each one costs the caller a search)."""
    variants = []
    table = _look_alikes()
    for position, char in enumerate(text):
        for other in table.get(char, ()):
            if len(variants) >= limit:
                return variants
            variants.append(text[:position] + other + text[position + 1 :])
    return variants
