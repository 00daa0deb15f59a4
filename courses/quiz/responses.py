"""Reading what a client sends for one question into what is stored, refusing anything the server did not issue.

A response is stored with the options' original labels (``{"options": ["A", "C"]}``) or the blanks' texts
(``{"blanks": ["…"]}``); an empty list clears the answer. Every refusal names the question by its number.
"""

from django.utils.translation import gettext as _

from ..errors import QuizInvalid
from ..models import QuestionKind
from .grading import blank_count
from .sealing import option_ids, ref_position

BLANK_MAX_LENGTH = 200


def position_of(*, attempt, ref: str) -> int:
    position = ref_position(attempt=attempt, ref=ref)
    if position is None:
        raise QuizInvalid(_("题目标识无效：这道题不在本次答题中，答案未保存。"))
    return position


def stored_response(*, attempt, position: int, kind: str, answer: str, options=None, blanks=None) -> dict:
    number = position + 1
    if kind == QuestionKind.BLANK:
        return {"blanks": _blanks(number, blanks, expected=blank_count(answer), given_options=options)}
    return {"options": _options(attempt, position, number, kind, options, given_blanks=blanks)}


def _options(attempt, position: int, number: int, kind: str, options, *, given_blanks) -> list[str]:
    if given_blanks:
        raise QuizInvalid(_("第 %(n)d 题是选择题，请提交选项。") % {"n": number})
    issued = option_ids(attempt=attempt, position=position)
    labels = []
    for option in options or []:
        label = issued.get(str(option))
        if label is None:
            raise QuizInvalid(_("第 %(n)d 题的选项无效，答案未保存。") % {"n": number})
        if label not in labels:
            labels.append(label)
    if kind != QuestionKind.MULTIPLE and len(labels) > 1:
        raise QuizInvalid(_("第 %(n)d 题只能选一个选项。") % {"n": number})
    return sorted(labels)


def _blanks(number: int, blanks, *, expected: int, given_options) -> list[str]:
    if given_options:
        raise QuizInvalid(_("第 %(n)d 题是填空题，请填写文字。") % {"n": number})
    texts = [str(text) for text in blanks or []]
    if len(texts) > expected:
        raise QuizInvalid(_("第 %(n)d 题只有 %(count)d 个空。") % {"n": number, "count": expected})
    for text in texts:
        if len(text) > BLANK_MAX_LENGTH:
            raise QuizInvalid(_("第 %(n)d 题每空最多 %(max)d 个字。") % {"n": number, "max": BLANK_MAX_LENGTH})
        if any(ord(char) < 32 and char not in "\t" for char in text):
            raise QuizInvalid(_("第 %(n)d 题的答案含有无法保存的控制字符。") % {"n": number})
    return [text.strip() for text in texts]
