"""Pinyin typed for Chinese text, turned into its most likely Chinese readings, the way an input method would.

A member without a Chinese input method types the pinyin of a phrase they remember from a lesson, a poem or an
article ("bajiuwenqingtian" for 把酒问青天). Titles and creators are indexed in pinyin (analysis.pinyin_terms), bodies
are not: that would multiply the index. Instead the query is converted before it reaches any engine:

1. the letters are cut into tokens — full syllables ("xian", or "xi" + "an"), or initials ("bjwqt"); spaces and
   apostrophes typed by the member ("xi'an") are boundaries no token crosses;
2. each token can be any character with that reading (every reading of a polyphonic character: 长 is zhang and
   chang, its usual reading costing less) or, for an initial, any character whose reading starts with it;
3. the readings are scored by the index's own statistics — how many documents hold each character and each pair of
   neighbouring characters (`PinyinDictionary`, built from the embedded index's terms) — with a beam search over
   that lattice of tokens, so the phrase the corpus contains wins over a homophone it does not.

Pure: no database here; selectors builds the dictionary from the index and searches the readings.
"""

import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s")
INITIALS += ("y", "w")
# A syllable is at most six letters (zhuang, shuang); an initial at most two (zh).
MAX_SYLLABLE = 6
# Costs in natural log units: a token typed as an initial says less than a full syllable; a character read in
# another of its readings than its usual one is a little less likely.
INITIAL_COST = 2.0
OTHER_READING_COST = 1.0
# Interpolation of the pair statistics with the single-character ones (unseen pairs keep a small chance).
PAIR_WEIGHT = 0.9
BEAM = 24
# Characters tried for the first token, and per later token besides those that follow the previous character.
START_CANDIDATES = 200
COMMON_CANDIDATES = 12
MAX_TOKENS = 30
MAX_REMEMBERED_STEPS = 100_000
_CHUNK = re.compile(r"[a-z]+")
_SEPARATORS = re.compile(r"[\s'’·-]+")
_CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CHAR_TERM = re.compile(rf"(?<!\S)[{_CJK}](?!\S)")
_PAIR_TERM = re.compile(rf"(?<!\S)[{_CJK}]{{2}}(?!\S)")


@cache
def char_readings(char: str) -> tuple[str, ...]:
    """Every toneless reading of a character, the usual one first ("长" → ("zhang", "chang")); ü is written v.
    Straight from pypinyin's character table: a character alone has no context to choose a reading by."""
    from pypinyin.pinyin_dict import pinyin_dict

    marked = pinyin_dict.get(ord(char), "") if len(char) == 1 else ""
    return tuple(dict.fromkeys(r for r in map(_toneless, marked.split(",")) if r.isascii() and r.isalpha()))


def _toneless(marked: str) -> str:
    """ "lǜ" → "lv", "zhǎng" → "zhang": tone marks dropped, ü written v as keyboards type it."""
    decomposed = unicodedata.normalize("NFD", marked).replace("u\u0308", "v")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain if _has_vowel(plain) else ""


def _has_vowel(syllable: str) -> bool:
    return any(vowel in syllable for vowel in "aeiouv")


@cache
def syllables() -> frozenset[str]:
    """Every toneless syllable pypinyin knows (about 410, with v for ü), from its character table."""
    from pypinyin.pinyin_dict import pinyin_dict

    marked = {reading for value in pinyin_dict.values() for reading in value.split(",")}
    return frozenset(r for r in map(_toneless, marked) if r.isascii() and r.isalpha())


def chunks(text: str) -> list[str]:
    """The query's letters in the pieces the member separated (space, ', ·, -); [] when anything else is typed."""
    pieces = [piece for piece in _SEPARATORS.split(text.lower()) if piece]
    return pieces if pieces and all(_CHUNK.fullmatch(piece) for piece in pieces) else []


def _edges(chunk: str) -> list[list[tuple[int, str, bool]]]:
    """For each start position in `chunk`: (end, token, is_initial) of every token that can start there."""
    table = syllables()
    edges: list[list[tuple[int, str, bool]]] = [[] for _ in chunk]
    for start in range(len(chunk)):
        for end in range(start + 1, min(len(chunk), start + MAX_SYLLABLE) + 1):
            token = chunk[start:end]
            if token in table:
                edges[start].append((end, token, False))
            if token in INITIALS:
                edges[start].append((end, token, True))
    return edges


def segmentations(text: str, *, limit: int = 20) -> list[tuple[str, ...]]:
    """The ways `text` reads as tokens, fewest initials then fewest tokens first ("xian" → ("xian",), ("xi", "an"),
    …; "xi'an" → ("xi", "an") first: a typed boundary is kept). For tests and explanations; `readings` walks the
    same lattice without listing it."""
    pieces = chunks(text)
    paths: list[tuple[int, tuple[str, ...]]] = [(0, ())] if pieces else []
    for chunk in pieces:
        edges, complete = _edges(chunk), {}

        def walk(position, cost, tokens, chunk=chunk, edges=edges, complete=complete):
            if len(complete) > 500:
                return
            if position == len(chunk):
                complete[tokens] = cost
                return
            for end, token, initial in edges[position]:
                walk(end, cost + initial, (*tokens, token))

        walk(0, 0, ())
        paths = sorted((c + c2, p + p2) for c, p in paths for p2, c2 in complete.items())[:500]
        if not paths:
            return []
    paths.sort(key=lambda path: (path[0], len(path[1]), path[1]))
    return list(dict.fromkeys(path for _, path in paths))[:limit]


@dataclass
class PinyinDictionary:
    """How many documents of the index hold each character and each pair of neighbouring characters, with the
    characters grouped by the tokens (readings and initials) they answer to."""

    chars: Counter = field(default_factory=Counter)
    pairs: dict[str, Counter] = field(default_factory=dict)
    documents: int = 0
    _total: int = 1
    _by_token: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _steps: dict[tuple, list[tuple[str, float]]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_terms(cls, documents: Iterable[str]) -> "PinyinDictionary":
        """From each document's index terms as the embedded index stores them (`IndexEntry.terms`: characters,
        bigrams and words apart by spaces), each counted once per document; read with regular expressions, which
        keeps a large index's dictionary quick to build."""
        dictionary, pairs = cls(), Counter()
        for terms in documents:
            dictionary.documents += 1
            dictionary.chars.update(set(_CHAR_TERM.findall(terms)))
            pairs.update(set(_PAIR_TERM.findall(terms)))
        for pair, count in pairs.items():
            dictionary.pairs.setdefault(pair[0], Counter())[pair[1]] = count
        dictionary._group()
        return dictionary

    def _group(self) -> None:
        by_token: dict[str, list[str]] = {}
        for char, _count in self.chars.most_common():
            for token in char_tokens(char):
                by_token.setdefault(token, []).append(char)
        self._by_token = by_token
        self._total = sum(self.chars.values()) or 1

    def candidates(self, token: str) -> list[str]:
        """The index's characters that answer to `token`, most common first."""
        return self._by_token.get(token, [])

    def unigram(self, char: str) -> float:
        return (self.chars.get(char, 0) + 0.01) / self._total

    def starts(self, token: str, initial: bool) -> list[tuple[str, float]]:
        """(character, log score) for a reading's first token, best first: log P(char) plus the token's cost."""
        return self._remembered(("", token, initial), lambda: self._scored(token, initial, math.log))

    def unseen(self, token: str, initial: bool) -> list[tuple[str, float]]:
        """(character, log score) after a character it never follows in the index, best first: the same for every
        previous character, so the search extends only its best hypothesis with these."""
        return self._remembered(
            (None, token, initial), lambda: self._scored(token, initial, lambda p: math.log((1 - PAIR_WEIGHT) * p))
        )

    def followers(self, previous: str, token: str, initial: bool) -> list[tuple[str, float]]:
        """(character, log score) for the characters that follow `previous` somewhere in the index and answer to
        `token`: log P(char | previous), the share of `previous`'s documents where `char` follows it with a little
        of `char`'s own frequency, plus the token's cost."""

        def build():
            seen, documents = self.pairs.get(previous, {}), max(1, self.chars.get(previous, 0))
            chars = [char for char in seen if token in char_tokens(char)]
            return [
                (
                    char,
                    math.log(PAIR_WEIGHT * seen[char] / documents + (1 - PAIR_WEIGHT) * self.unigram(char))
                    + _emission(char, token, initial),
                )
                for char in chars
            ]

        return self._remembered((previous, token, initial), build)

    def _scored(self, token, initial, probability) -> list[tuple[str, float]]:
        scored = [(c, probability(self.unigram(c)) + _emission(c, token, initial)) for c in self.candidates(token)]
        return sorted(scored, key=lambda pair: -pair[1])

    def _remembered(self, key, build):
        found = self._steps.get(key)
        if found is None:
            if len(self._steps) >= MAX_REMEMBERED_STEPS:
                self._steps.clear()  # bounded: a web worker keeps the dictionary for many queries
            found = self._steps[key] = build()
        return found

    def attested(self, text: str) -> bool:
        """Whether every pair of neighbouring characters in `text` is held by some document."""
        return all(self.pairs.get(a, {}).get(b, 0) for a, b in itertools.pairwise(text))


@cache
def char_tokens(char: str) -> frozenset[str]:
    """The tokens a character answers to: its readings, and the initial of each (z answers for zh too, as input
    methods allow; a reading that starts with a vowel is typed whole)."""
    tokens = set()
    for reading in char_readings(char):
        tokens.add(reading)
        tokens.update(initial for initial in INITIALS if reading.startswith(initial))
    return frozenset(tokens)


def _emission(char: str, token: str, initial: bool) -> float:
    if initial:
        return -INITIAL_COST
    readings = char_readings(char)
    return 0.0 if readings and readings[0] == token else -OTHER_READING_COST


@dataclass(frozen=True)
class _Hypothesis:
    score: float
    text: str
    tokens: int


def _extend(dictionary: PinyinDictionary, beam: list[_Hypothesis], token: str, initial: bool) -> list[_Hypothesis]:
    """Every hypothesis grown by one character for `token`: by the characters that follow its last one in the
    index, and the best hypothesis also by the token's common characters (an unseen pair scores the same whatever
    came before, so only the best one can win with it)."""
    if not beam[0].text:
        return [_Hypothesis(score, char, 1) for char, score in dictionary.starts(token, initial)[:START_CANDIDATES]]
    grown = [
        _Hypothesis(h.score + score, h.text + char, h.tokens + 1)
        for h in beam
        for char, score in dictionary.followers(h.text[-1], token, initial)
    ]
    best = beam[0]
    for char, score in dictionary.unseen(token, initial)[:COMMON_CANDIDATES]:
        grown.append(_Hypothesis(best.score + score, best.text + char, best.tokens + 1))
    return grown


def _best(hypotheses: list[_Hypothesis]) -> list[_Hypothesis]:
    kept: dict[str, _Hypothesis] = {}
    for hypothesis in sorted(hypotheses, key=lambda h: -h.score):
        if hypothesis.text not in kept:
            kept[hypothesis.text] = hypothesis
            if len(kept) >= BEAM:
                break
    return list(kept.values())


def _chunk_readings(dictionary: PinyinDictionary, chunk: str, beam: list[_Hypothesis]) -> list[_Hypothesis]:
    """Beam search over one chunk's lattice: hypotheses ending at each letter position, the best BEAM kept."""
    edges = _edges(chunk)
    at: list[list[_Hypothesis]] = [[] for _ in range(len(chunk) + 1)]
    at[0] = beam
    for start in range(len(chunk)):
        current = _best(at[start])
        if not current:
            continue
        for end, token, initial in edges[start]:
            at[end].extend(_extend(dictionary, current, token, initial))
    return _best(at[len(chunk)])


def readings(text: str, dictionary: PinyinDictionary, *, limit: int = 3) -> list[str]:
    """The most likely Chinese readings of pinyin `text` in this index, best first: at least two tokens, and every
    pair of neighbouring characters held by some document (so an English word read as pinyin rarely passes)."""
    pieces = chunks(text)
    if not pieces or not dictionary.chars or sum(map(len, pieces)) > MAX_TOKENS * MAX_SYLLABLE:
        return []
    beam = [_Hypothesis(0.0, "", 0)]
    for chunk in pieces:
        beam = _chunk_readings(dictionary, chunk, beam)
        if not beam:
            return []
    found = [h.text for h in beam if 2 <= h.tokens <= MAX_TOKENS and dictionary.attested(h.text)]
    return found[:limit]
