"""Chinese-aware text analysis done in Python, shared by the embedded index and the engines.

A run of Chinese characters has no spaces, so stock tokenizers store it as one token and "红楼梦" never
finds "红楼梦有声书". We index every character and every pair of neighbouring characters instead: any
substring query of two or more characters becomes an AND of its bigrams.
"""

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

# 〇 (U+3007, the ideographic zero of 一〇) counts as a Chinese character: titles number poems 其一〇.
_CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# A run of Chinese characters, or a run of other letters/digits (never mixing the two).
_TOKEN = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+)")
_CJK_RUN = re.compile(rf"[{_CJK}]+")


def is_cjk(run: str) -> bool:
    """Whether a run (as `_runs` splits text) is Chinese, and so is matched by its bigrams. Every other run —
    Latin, digits, but also café, Пушкин or ポケモン — is one whole word, the way `index_terms` stores it."""
    return bool(_CJK_RUN.fullmatch(run))


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


# Symbols written for the ideographic zero: 其一○ (a white circle, U+25CB) is poem 10 of a series, not 其一 with
# a dropped symbol, so it folds to 〇 and is indexed like a character.
_ZERO_LOOKALIKES = {ord("○"): "〇", ord("◯"): "〇"}


@cache
def _fold_table() -> dict[int, str]:
    return {**_t2s_table(), **_ZERO_LOOKALIKES}


def t2s_mapping() -> dict[str, str]:
    """The folding table as characters, traditional → simplified plus ○ → 〇 (engines load it as a mapping
    char filter, so a cluster folds exactly as `normalize` does)."""
    return {chr(code): folded for code, folded in _fold_table().items()}


def fold_char(char: str) -> str:
    """One character folded the way `normalize` folds text (for mapping highlights back to the source)."""
    return unicodedata.normalize("NFKC", char).lower().translate(_fold_table())


def normalize(text: str) -> str:
    """Full-width → half-width (NFKC), lowercase, traditional → simplified, ○ → 〇."""
    return unicodedata.normalize("NFKC", text or "").lower().translate(_fold_table())


def _runs(text: str):
    for match in _TOKEN.finditer(normalize(text)):
        yield ("cjk", match["cjk"]) if match["cjk"] else ("word", match["word"])


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _joined(runs) -> str:
    """Runs as one key: neighbouring Chinese runs side by side, anything else apart by one space."""
    key, previous_cjk = "", False
    for run in runs:
        cjk = is_cjk(run)
        key += ("" if not key or (cjk and previous_cjk) else " ") + run
        previous_cjk = cjk
    return key


# Exact titles are compared on keys of at most this many characters (the embedded index's column).
TITLE_KEY_CHARS = 255


def title_key(text: str) -> str:
    """A title as a query that equals it would read: folded, punctuation and spaces between Chinese runs gone
    ("念奴嬌·赤壁懷古" → "念奴娇赤壁怀古"); an exact title ranks above a title that merely contains the query."""
    return _joined(run for _, run in _runs(text))[:TITLE_KEY_CHARS]


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


def words(text: str) -> list[str]:
    """Words segmented with rjieba (jieba-compatible, much faster) for a precision field."""
    import rjieba

    return [word for word in rjieba.cut(normalize(text)) if _TOKEN.fullmatch(word)]


# --- Pinyin: members type 灯塔 as `dengta` (full spelling) or `dt` (initials), often on a TV remote.
# Each Chinese run is indexed as the pinyin of every window of up to PINYIN_WINDOW syllables starting at each
# syllable, spelled in full and as initials; a pinyin query then matches as a *prefix* of one of those terms
# ("dtdk" is a prefix of "dtdkt", the initials of 灯塔大课堂; "ketang" starts the window at 课).
PINYIN_WINDOW = 10
_PINYIN_QUERY = re.compile(r"[a-z]{2,60}")
_PINYIN_SEPARATORS = re.compile(r"[\s'’·-]+")


# Titles and names repeat (a series' episodes, one author's hundred books): the pinyin of the most recent runs is
# remembered, which makes indexing several times faster (pypinyin is most of its cost). Bounded: a run's terms
# take a few kilobytes, and a web worker keeps them too.
PINYIN_CACHE_RUNS = 8192


@lru_cache(maxsize=PINYIN_CACHE_RUNS)
def _syllables(run: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    # A character pypinyin cannot spell gives "", which breaks windows there.
    spelled = lazy_pinyin(run, errors=lambda chars: [""] * len(chars))
    return tuple(s if s.isascii() and s.isalpha() else "" for s in spelled)


@lru_cache(maxsize=PINYIN_CACHE_RUNS)
def _run_pinyin_terms(run: str) -> tuple[str, ...]:
    """The pinyin terms of one Chinese run: every window of up to PINYIN_WINDOW syllables, full and initials."""
    syllables, terms = _syllables(run), []
    for start in range(len(syllables)):
        window = []
        for syllable in syllables[start : start + PINYIN_WINDOW]:
            if not syllable:
                break
            window.append(syllable)
        if window:
            terms.append("".join(window))
            if len(window) > 1:
                terms.append("".join(s[0] for s in window))
    return tuple(terms)


def pinyin_terms(text: str, *, max_chars: int = 64) -> list[str]:
    """Index terms for pinyin search of `text` (titles and names, not bodies): see PINYIN_WINDOW."""
    terms = [term for kind, run in _runs(text) if kind == "cjk" for term in _run_pinyin_terms(run[:max_chars])]
    return list(dict.fromkeys(terms))


def load_dictionaries() -> None:
    """Load what the analysis reads (the pinyin, word and traditional-form dictionaries: about a second) now. A
    rebuild calls this before it forks its reading processes, which then share them instead of loading each its own."""
    sample = "灯塔大課堂 长城"
    index_terms(sample)
    words(sample)
    pinyin_terms(sample)


def query_pinyin(query: str) -> str:
    """The query as one pinyin string when it looks like pinyin (letters only, spaces and ' allowed), else ""."""
    text = _PINYIN_SEPARATORS.sub("", normalize(query))
    return text if _PINYIN_QUERY.fullmatch(text) else ""


def spoken_pinyin(query: str) -> str:
    """The full pinyin of a query's Chinese characters ("红楼孟" → "hongloumeng"): homophone typos (the usual
    slip with a pinyin input method) spell the same, so this finds what the member meant."""
    return "".join(syllable for kind, run in _runs(query) if kind == "cjk" for syllable in _syllables(run))


MAX_READINGS = 4


def spoken_pinyins(query: str) -> list[str]:
    """`spoken_pinyin` first, then readings with one polyphonic character read another way (长 zhang/chang),
    so a typo spelled with the other reading still finds its word; at most MAX_READINGS."""
    from pypinyin import Style, pinyin

    first = spoken_pinyin(query)
    readings = [first] if first else []
    chars = [char for kind, run in _runs(query) if kind == "cjk" for char in run]
    usual = [syllable for kind, run in _runs(query) if kind == "cjk" for syllable in _syllables(run)]
    if len(usual) != len(chars):
        return readings
    for position, options in enumerate(pinyin("".join(chars), style=Style.NORMAL, heteronym=True)):
        for option in options:
            if len(readings) >= MAX_READINGS:
                return readings
            if option != usual[position] and option.isascii() and option.isalpha():
                reading = "".join([*usual[:position], option, *usual[position + 1 :]])
                if reading not in readings:
                    readings.append(reading)
    return readings


def pinyin_match(text: str, pinyin: str) -> str:
    """The shortest run of whole words in `text` whose pinyin (full, or initials) starts with `pinyin`
    ("灯塔大课堂", "dtdk" → "灯塔大课堂"; "dengta" → "灯塔"), or "" (for 你是不是要找)."""
    import rjieba

    best = ""
    for kind, run in _runs(text):
        if kind != "cjk":
            continue
        syllables = _syllables(run[:64])
        bounds = [0]
        for word in rjieba.cut(run[:64]):
            bounds.append(bounds[-1] + len(word))
        for i, start in enumerate(bounds):
            for end in bounds[i + 1 :]:
                window = syllables[start:end]
                full, initials = "".join(window), "".join(s[:1] for s in window)
                if full.startswith(pinyin) or initials.startswith(pinyin):
                    if not best or end - start < len(best):
                        best = run[start:end]
                    break
    return best


# --- Queries


@dataclass(frozen=True)
class ParsedQuery:
    """A member's query, read once and handed to whichever engine answers.

    `alternatives` are the ways the query can match: the query itself first, then its synonym rewrites;
    each is a tuple of runs (normalized Chinese runs and words) that must all match. `pinyin` is set when
    the query could be pinyin; engines then also match it against the pinyin terms.
    """

    text: str
    normalized: str
    alternatives: tuple[tuple[str, ...], ...]
    pinyin: str = ""

    @property
    def empty(self) -> bool:
        return not self.alternatives and not self.pinyin

    def terms(self, runs: tuple[str, ...]) -> list[str]:
        """The index terms one alternative needs (bigrams of Chinese runs; a lone character stays one)."""
        terms = []
        for run in runs:
            terms.extend(_bigrams(run) if len(run) > 1 and is_cjk(run) else [run])
        return list(dict.fromkeys(terms))

    @property
    def title_keys(self) -> tuple[str, ...]:
        """The title each alternative would equal exactly (see `title_key`)."""
        return tuple(dict.fromkeys(_joined(runs)[:TITLE_KEY_CHARS] for runs in self.alternatives))

    @property
    def fragments(self) -> list[str]:
        """Every run of every alternative, longest first, for highlighting."""
        runs = {run for alternative in self.alternatives for run in alternative}
        return sorted(runs, key=len, reverse=True)


MAX_ALTERNATIVES = 8


# A synonym with Latin letters or digits is a word: it is swapped only where it stands alone ("ai" in "ai 教程",
# never inside "email"); a Chinese synonym has no word boundaries and is swapped wherever it appears.
_LATIN = re.compile(r"[a-z0-9]")


def _swapped(normalized: str, term: str, other: str) -> str:
    if _LATIN.search(term):
        return re.sub(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])", lambda _match: other, normalized)
    return normalized.replace(term, other)


def _rewrites(normalized: str, synonyms: dict[str, tuple[str, ...]]) -> list[str]:
    """The query with each synonym it contains swapped for the group's other words, in the order of `synonyms`
    (`synonym_map` puts the longest words first, so 中国共产党 is swapped before 共产党)."""
    texts = [normalized]
    for term, others in synonyms.items():
        if term and term in normalized:
            texts.extend(swapped for other in others if (swapped := _swapped(normalized, term, other)) != normalized)
    return list(dict.fromkeys(texts))[:MAX_ALTERNATIVES]


def _query_runs(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(run for _, run in _runs(text)))


def query_key(text: str, *, max_chars: int = 100) -> str:
    """A query as one comparable key (promotions and statistics are keyed by it): whitespace collapsed, cut to
    `max_chars`, folded (see `normalize`)."""
    cut = " ".join((text or "").split())[:max_chars]
    return " ".join(normalize(cut).split())


def parse_query(text: str, *, synonyms: dict[str, tuple[str, ...]] | None = None, max_chars: int = 100) -> ParsedQuery:
    """Read a query: cut to `max_chars`, folded, split into runs (punctuation, emoji and query syntax such as
    `title:*` or `AND (` are plain text here and drop out), expanded with `synonyms` (normalized word →
    the other words of its group, see `synonym_map`)."""
    text = " ".join((text or "").split())[:max_chars]
    normalized = query_key(text, max_chars=max_chars)
    alternatives = tuple(runs for runs in map(_query_runs, _rewrites(normalized, synonyms or {})) if runs)
    return ParsedQuery(text=text, normalized=normalized, alternatives=alternatives, pinyin=query_pinyin(text))


def synonym_map(groups: list[list[str]]) -> dict[str, tuple[str, ...]]:
    """Normalized word → the other words of its group(s), from editors' groups of words; longest words first
    (the order `_rewrites` tries them in, sorted once here rather than on every query)."""
    mapping: dict[str, list[str]] = {}
    for group in groups:
        words_ = list(dict.fromkeys(normalize(word).strip() for word in group if normalize(word).strip()))
        for word in words_:
            mapping.setdefault(word, []).extend(other for other in words_ if other != word)
    ordered = sorted(mapping, key=len, reverse=True)
    return {word: tuple(dict.fromkeys(mapping[word])) for word in ordered if mapping[word]}


def document_boost(value) -> float:
    """A document's boost as every engine uses it: a finite number of at least 0 (function_score refuses
    negative factors, JSON has no NaN); missing or not a number counts as 1."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 1.0
    return max(0.0, number) if math.isfinite(number) else 1.0
