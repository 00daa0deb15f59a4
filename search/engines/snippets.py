"""Highlighted snippets for the embedded index (engines make their own)."""

from collections.abc import Iterable
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from search.engines.analysis import ParsedQuery, fold_char, is_cjk, parse_query

_fold = lru_cache(maxsize=65536)(fold_char)


def _folded_with_origin(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of the source character."""
    folded, origin = [], []
    for index, char in enumerate(text):
        for folded_char in _fold(char):
            folded.append(folded_char)
            origin.append(index)
    return "".join(folded), origin


def needles(query: str | ParsedQuery, also: Iterable[str] = ()) -> list[str]:
    """What to mark for a query: its whole runs first, then their bigrams (the bigrams of a run may be scattered
    in the text). A ParsedQuery gives every alternative's, so a synonym's matches are marked too; `also` adds
    words found another way (the title words a pinyin query spells)."""
    parsed = query if isinstance(query, ParsedQuery) else parse_query(query)
    terms = [term for runs in parsed.alternatives for term in parsed.terms(runs)]
    found = [*parsed.fragments, *terms]
    # A lone letter (not a Chinese character) would light up half a sentence; it still matches, it is just not
    # marked.
    return [
        needle for needle in dict.fromkeys([*found, *also]) if needle and not (len(needle) == 1 and not is_cjk(needle))
    ]


def _marked(text: str, wanted: list[str]) -> list[bool]:
    folded, origin = _folded_with_origin(text)
    marked = [False] * len(text)
    for needle in wanted:
        start = folded.find(needle)
        while start != -1:
            for position in range(start, start + len(needle)):
                marked[origin[position]] = True
            start = folded.find(needle, start + len(needle))
    return marked


def _render(text: str, marked: list[bool]) -> str:
    html, run_start = [], 0
    for index in range(1, len(text) + 1):
        if index == len(text) or marked[index] != marked[run_start]:
            piece = escape(text[run_start:index])
            html.append(f"<mark>{piece}</mark>" if marked[run_start] else piece)
            run_start = index
    return "".join(html)


def highlight(text: str, query: str | ParsedQuery, *, width: int | None = None, also: Iterable[str] = ()) -> SafeString:
    """`text` escaped, with the matches of `query` (a query string or a ParsedQuery, synonyms included) and of
    `also` in <mark>; with `width`, a window of about that many characters around the first match."""
    text = " ".join((text or "").split())
    if not text:
        return mark_safe("")
    wanted = needles(query, also)
    marked = _marked(text, [normalized for normalized in (_fold_text(needle) for needle in wanted) if normalized])
    if width is None or len(text) <= width:
        return mark_safe(_render(text, marked))
    first = marked.index(True) if True in marked else 0
    start = max(0, min(first - width // 4, len(text) - width))
    window = text[start : start + width]
    html = _render(window, marked[start : start + width])
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    return mark_safe(f"{prefix}{html}{suffix}")


def _fold_text(text: str) -> str:
    # Needles from a ParsedQuery are folded already; `also` may come straight from a title.
    return "".join(_fold(char) for char in text)
