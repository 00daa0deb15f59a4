"""What an answer key means and whether a response meets it.

Keys are stored canonically (courses.models.Question.answer): ``B`` (单选), ``ACD`` (多选), ``T``/``F`` (判断),
blanks as ``答案一|别名；答案二`` (填空: blanks separated by ；, accepted alternatives by |). Grading is all or
nothing per question: 多选 needs all and only the right options (少选、错选不得分); 填空 needs every blank.
"""

import re
import unicodedata

from ..models import QuestionKind

TRUE, FALSE = "T", "F"
TRUEFALSE_LABELS = (TRUE, FALSE)
BLANK_SEPARATOR = "；"
ALTERNATIVE_SEPARATOR = "|"
_SPACES = re.compile(r"\s+")


def blank_fold(text: str) -> str:
    """How two blank answers are compared: full-width folded (NFKC), no spaces, case-insensitive."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(text))).casefold()


def key_blanks(answer: str) -> list[list[str]]:
    """The accepted answers of each blank, folded."""
    blanks = []
    for part in answer.split(BLANK_SEPARATOR):
        accepted = [blank_fold(text) for text in part.split(ALTERNATIVE_SEPARATOR) if blank_fold(text)]
        if accepted:
            blanks.append(accepted)
    return blanks


def blank_count(answer: str) -> int:
    return len(key_blanks(answer))


def key_labels(answer: str) -> set[str]:
    return set(answer)


def is_correct(*, kind: str, answer: str, response: dict | None) -> bool:
    if not response:
        return False
    if kind == QuestionKind.BLANK:
        given = [blank_fold(text) for text in response.get("blanks") or []]
        expected = key_blanks(answer)
        return len(given) == len(expected) and all(
            text in accepted for text, accepted in zip(given, expected, strict=True)
        )
    chosen = set(response.get("options") or [])
    return bool(chosen) and chosen == key_labels(answer)


def shown_letter(shown_order: list[str], label: str) -> str:
    """The letter a member saw for an option (A, B, … by shown position)."""
    return "ABCDEF"[shown_order.index(label)] if label in shown_order else label


def key_display(*, kind: str, answer: str, shown_order: list[str] | None = None) -> str:
    """The key as the member saw the question: shuffled letters, 正确/错误, or the blanks' first answers."""
    if kind == QuestionKind.TRUEFALSE:
        return "正确" if answer == TRUE else "错误"
    if kind == QuestionKind.BLANK:
        return BLANK_SEPARATOR.join(
            part.split(ALTERNATIVE_SEPARATOR)[0].strip() for part in answer.split(BLANK_SEPARATOR)
        )
    letters = [shown_letter(shown_order, label) if shown_order else label for label in answer]
    return "、".join(sorted(letters))
