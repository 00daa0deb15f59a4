"""Highlighted snippets for the embedded index (engines make their own)."""

from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from search.analysis import fold_char, query_fragments, query_terms

_fold = lru_cache(maxsize=65536)(fold_char)


def _folded_with_origin(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of the source character."""
    folded, origin = [], []
    for index, char in enumerate(text):
        for folded_char in _fold(char):
            folded.append(folded_char)
            origin.append(index)
    return "".join(folded), origin


def _marked(text: str, query: str) -> list[bool]:
    folded, origin = _folded_with_origin(text)
    marked = [False] * len(text)
    # Whole query runs first, then their bigrams (the bigrams of a run may be scattered in the text).
    for needle in dict.fromkeys(query_fragments(query) + query_terms(query)):
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


def highlight(text: str, query: str, *, width: int | None = None) -> SafeString:
    """`text` escaped, with query matches in <mark>; with `width`, a window around the first match."""
    text = " ".join((text or "").split())
    if not text:
        return mark_safe("")
    marked = _marked(text, query)
    if width is None or len(text) <= width:
        return mark_safe(_render(text, marked))
    first = marked.index(True) if True in marked else 0
    start = max(0, min(first - width // 4, len(text) - width))
    window = text[start : start + width]
    html = _render(window, marked[start : start + width])
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    return mark_safe(f"{prefix}{html}{suffix}")
