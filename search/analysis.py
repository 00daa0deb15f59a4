"""Chinese-aware text analysis done in Python, shared by the embedded index and the engines.

A run of Chinese characters has no spaces, so stock tokenizers store it as one token and "红楼梦" never
finds "红楼梦有声书". We index every character and every pair of neighbouring characters instead: any
substring query of two or more characters becomes an AND of its bigrams.
"""

import re
import unicodedata
from functools import cache
from importlib import resources

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# A run of Chinese characters, or a run of other letters/digits (never mixing the two).
_TOKEN = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+)")


@cache
def _t2s_table() -> dict[int, str]:
    """Traditional → simplified, character by character, from OpenCC's own t2s conversion.

    Per character (not per phrase) on purpose: a query is a substring of the text, and phrase-level
    conversion could turn the same character into different simplified forms in the two.
    """
    from opencc import OpenCC

    converter = OpenCC("t2s")
    lines = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text("utf-8").splitlines()
    table = {}
    for line in lines:
        char = line.split("\t", 1)[0]
        simplified = converter.convert(char)
        if len(char) == 1 and simplified != char:
            table[ord(char)] = simplified
    return table


def t2s_mapping() -> dict[str, str]:
    """The traditional → simplified table as characters (engines load it as a mapping char filter)."""
    return {chr(code): simplified for code, simplified in _t2s_table().items()}


def fold_char(char: str) -> str:
    """One character folded the way `normalize` folds text (for mapping highlights back to the source)."""
    return unicodedata.normalize("NFKC", char).lower().translate(_t2s_table())


def normalize(text: str) -> str:
    """Full-width → half-width (NFKC), lowercase, traditional → simplified."""
    return unicodedata.normalize("NFKC", text or "").lower().translate(_t2s_table())


def _runs(text: str):
    for match in _TOKEN.finditer(normalize(text)):
        yield ("cjk", match["cjk"]) if match["cjk"] else ("word", match["word"])


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def index_terms(text: str) -> list[str]:
    """Terms stored for a text: each Chinese character, each character bigram, each other word."""
    terms = []
    for kind, run in _runs(text):
        if kind == "cjk":
            terms.extend(run)
            terms.extend(_bigrams(run))
        else:
            terms.append(run)
    return terms


def query_terms(query: str) -> list[str]:
    """Terms a query must all match: bigrams of each Chinese run (a lone character stays a unigram)."""
    terms = []
    for kind, run in _runs(query):
        terms.extend(_bigrams(run) if kind == "cjk" and len(run) > 1 else [run])
    return list(dict.fromkeys(terms))


def query_fragments(query: str) -> list[str]:
    """The normalized runs of a query, longest first, to highlight in a snippet."""
    return sorted({run for _, run in _runs(query)}, key=len, reverse=True)


def words(text: str) -> list[str]:
    """Words segmented with rjieba (jieba-compatible, much faster) for a precision field."""
    import rjieba

    return [word for word in rjieba.cut(normalize(text)) if _TOKEN.fullmatch(word)]
