"""One bank row into a question, or the Chinese reasons it cannot be one (docs/courses.md, Question bank import).

Answers are stored canonically (courses.quiz.grading): choice letters sorted (``ACD``), ``T``/``F`` for 判断,
blanks joined by ；with alternatives by |.
"""

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext as _

from ..models import OPTION_LABELS, Difficulty, QuestionKind
from ..quiz.grading import ALTERNATIVE_SEPARATOR, BLANK_SEPARATOR, blank_fold

KIND_WORDS = {
    QuestionKind.SINGLE: ["单选", "单选题", "单项选择", "单项选择题", "单择"],
    QuestionKind.MULTIPLE: ["多选", "多选题", "多项选择", "多项选择题", "不定项", "不定项选择", "不定项选择题"],
    QuestionKind.TRUEFALSE: ["判断", "判断题", "是非题", "对错题"],
    QuestionKind.BLANK: ["填空", "填空题"],
}
_KIND_BY_WORD = {word: kind for kind, words in KIND_WORDS.items() for word in words}
TRUE_WORDS = {"对", "正确", "√", "✓", "✔", "t", "true", "是", "y", "yes", "1"}
FALSE_WORDS = {"错", "错误", "×", "✗", "✘", "x", "f", "false", "否", "n", "no", "0"}
DIFFICULTY_WORDS = {
    Difficulty.EASY: ["易", "容易", "简单", "较易", "低", "1", "2"],
    Difficulty.MEDIUM: ["中", "中等", "一般", "适中", "3"],
    Difficulty.HARD: ["难", "困难", "较难", "高", "4", "5"],
}
_DIFFICULTY_BY_WORD = {word: level for level, words in DIFFICULTY_WORDS.items() for word in words}
PRACTICE_YES, PRACTICE_NO = {"是", "y", "yes", "1", "true", "练习"}, {"否", "n", "no", "0", "false"}
KEEP_ORDER = re.compile(r"以上|上述|都(不)?(对|是|正确)")
_CHOICE_SEPARATORS = re.compile(r"[\s,，、;；/|]+")
_BLANK_SPLIT = re.compile(r"[；;]")
_ALTERNATIVE_SPLIT = re.compile(r"[|｜/／]")
OPTION_MAX_LENGTH = 500
TOPIC_MAX_LENGTH = 64
KEY_MAX_LENGTH = 64


@dataclass
class ParsedQuestion:
    key: str
    kind: str
    stem: str
    options: list[tuple[str, str]]
    answer: str
    explanation: str
    difficulty: int
    topic: str
    is_practice: bool
    keep_option_order: bool
    content_hash: str = field(default="")

    def __post_init__(self):
        body = asdict(self) | {"content_hash": ""}
        self.content_hash = hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _options(row: dict, errors: list[str]) -> list[tuple[str, str]]:
    options = [(label, row.get(f"option_{label}", "").strip()) for label in OPTION_LABELS]
    last = max((n for n, (_label, text) in enumerate(options) if text), default=-1)
    for label, text in options[: last + 1]:
        if not text:
            errors.append(_("选项%(label)s为空，但后面还有选项（选项须从 A 起连续填写）。") % {"label": label})
        elif len(text) > OPTION_MAX_LENGTH:
            errors.append(_("选项%(label)s超过 %(n)d 个字。") % {"label": label, "n": OPTION_MAX_LENGTH})
    return [(label, text) for label, text in options[: last + 1] if text]


def _choice_answer(kind: str, raw: str, options, errors: list[str]) -> str:
    letters = _CHOICE_SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()
    if not letters or any(letter not in OPTION_LABELS for letter in letters):
        errors.append(_("答案“%(answer)s”应为选项字母，如 B 或 ACD。") % {"answer": raw})
        return ""
    labels = {label for label, _text in options}
    for letter in dict.fromkeys(letters):
        if letter not in labels:
            errors.append(_("答案“%(letter)s”对应的选项为空。") % {"letter": letter})
    letters = "".join(sorted(set(letters)))
    if len(options) < 2:
        errors.append(_("选择题至少需要两个选项。"))
    if kind == QuestionKind.SINGLE and len(letters) > 1:
        errors.append(_("单选题只能有一个答案（现为“%(answer)s”）。") % {"answer": raw})
    return letters


def _truefalse_answer(raw: str, options, errors: list[str]) -> str:
    word = _fold(raw)
    by_letter = {label.casefold(): _fold(text) for label, text in options}
    word = by_letter.get(word, word)  # "A" where option A is 正确
    if word in TRUE_WORDS:
        return "T"
    if word in FALSE_WORDS:
        return "F"
    errors.append(_("判断题答案“%(answer)s”无法识别，应为“对”或“错”。") % {"answer": raw})
    return ""


def _blank_answer(raw: str, errors: list[str]) -> str:
    blanks = []
    for part in _BLANK_SPLIT.split(raw):
        alternatives = [text.strip() for text in _ALTERNATIVE_SPLIT.split(part) if blank_fold(text)]
        if alternatives:
            blanks.append(ALTERNATIVE_SEPARATOR.join(alternatives))
    if not blanks:
        errors.append(_("填空题缺少答案。"))
    return BLANK_SEPARATOR.join(blanks)


def _difficulty(raw: str, errors: list[str]) -> int:
    if not raw:
        return Difficulty.MEDIUM
    level = _DIFFICULTY_BY_WORD.get(_fold(raw))
    if level is None:
        errors.append(_("难度“%(value)s”无法识别，应为易、中、难或 1–5。") % {"value": raw})
        return Difficulty.MEDIUM
    return level


def _practice(raw: str, default: bool, errors: list[str]) -> bool:
    word = _fold(raw)
    if not word:
        return default
    if word in PRACTICE_YES:
        return True
    if word not in PRACTICE_NO:
        errors.append(_("“练习”一列应为“是”或“否”，现为“%(value)s”。") % {"value": raw})
    return False


def stem_key(kind: str, stem: str) -> str:
    """A question's key when the file has no 编号: its type and its stem, folded, hashed."""
    return "h-" + hashlib.sha1(f"{kind}:{_fold(stem)}".encode()).hexdigest()[:20]


def parse_row(row: dict, *, practice_default: bool = False) -> tuple[ParsedQuestion | None, list[str]]:
    """(question, []) or (None, reasons)."""
    errors: list[str] = []
    kind_word = row.get("kind", "").strip()
    kind = _KIND_BY_WORD.get(_fold(kind_word))
    if not kind_word:
        errors.append(_("缺少题型。"))
    elif kind is None:
        errors.append(_("题型“%(kind)s”无法识别，应为单选、多选、判断或填空。") % {"kind": kind_word})
    stem = row.get("stem", "").strip()
    if not stem:
        errors.append(_("缺少题干。"))
    raw_answer = row.get("answer", "").strip()
    if not raw_answer:
        errors.append(_("缺少答案。"))
    options = _options(row, errors)
    answer = ""
    if kind and raw_answer:
        if kind == QuestionKind.TRUEFALSE:
            answer, options = _truefalse_answer(raw_answer, options, errors), []
        elif kind == QuestionKind.BLANK:
            answer, options = _blank_answer(raw_answer, errors), []
        else:
            answer = _choice_answer(kind, raw_answer, options, errors)
    topic = row.get("topic", "").strip()
    if len(topic) > TOPIC_MAX_LENGTH:
        errors.append(_("知识点超过 %(n)d 个字。") % {"n": TOPIC_MAX_LENGTH})
    key = row.get("key", "").strip()
    if len(key) > KEY_MAX_LENGTH:
        errors.append(_("编号超过 %(n)d 个字符。") % {"n": KEY_MAX_LENGTH})
    difficulty = _difficulty(row.get("difficulty", "").strip(), errors)
    is_practice = _practice(row.get("practice", ""), practice_default, errors)
    if any("\x00" in text for text in row.values()):
        errors.append(_("含有空字符。"))
    if errors:
        return None, errors
    return (
        ParsedQuestion(
            key=key or stem_key(kind, stem),
            kind=kind,
            stem=stem,
            options=options,
            answer=answer,
            explanation=row.get("explanation", "").strip(),
            difficulty=difficulty,
            topic=topic,
            is_practice=is_practice,
            keep_option_order=any(KEEP_ORDER.search(text) for _label, text in options),
        ),
        [],
    )
