"""Drawing one attempt's question set from the bank by the course's blueprint.

Each rule's pool is the bank's active exam questions (never practice ones: their answers are public) of its type,
and of its topic and difficulty when the rule names them. A pool must hold at least ``POOL_FACTOR`` times what the
rule draws, so that members' sets differ and a leaked set is worth little. Questions are drawn with the system's
random source; options are shuffled per attempt except for 判断 and questions whose options must keep their order
(以上/上述). Pool ids are cached for a minute: the premiere's thousand starts read the bank once, not a thousand
times.
"""

import secrets
from dataclasses import dataclass

from django.core.cache import cache

from ..models import Question, QuestionKind, QuestionOption
from .grading import TRUEFALSE_LABELS

POOL_FACTOR = 3
POOL_CACHE_SECONDS = 60
_random = secrets.SystemRandom()


@dataclass(frozen=True)
class Rule:
    kind: str
    topic: str = ""
    difficulty: int | None = None
    count: int = 1
    points: int = 1

    @classmethod
    def of(cls, rule) -> "Rule":
        return cls(rule.kind, rule.topic.strip(), rule.difficulty, rule.count, rule.points)


@dataclass(frozen=True)
class Shortfall:
    rule: Rule
    available: int

    @property
    def needed(self) -> int:
        return self.rule.count * POOL_FACTOR


class PoolTooSmall(Exception):
    def __init__(self, shortfalls: list[Shortfall]):
        super().__init__(shortfalls)
        self.shortfalls = shortfalls


def _pool_query(bank_id: int, rule: Rule):
    rows = Question.objects.filter(bank_id=bank_id, is_active=True, is_practice=False, kind=rule.kind)
    if rule.topic:
        rows = rows.filter(topic=rule.topic)
    if rule.difficulty:
        rows = rows.filter(difficulty=rule.difficulty)
    return rows


def pool_ids(bank_id: int, rule: Rule, *, fresh: bool = False) -> list[int]:
    key = f"courses:pool:{bank_id}:{rule.kind}:{rule.difficulty or 0}:{rule.topic}"
    ids = None if fresh else cache.get(key)
    if ids is None:
        ids = list(_pool_query(bank_id, rule).order_by("pk").values_list("pk", flat=True))
        cache.set(key, ids, POOL_CACHE_SECONDS)
    return ids


def pool_shortfalls(bank_id: int, rules: list[Rule], *, fresh: bool = False) -> list[Shortfall]:
    """The rules whose pool is smaller than POOL_FACTOR times what they draw."""
    shortfalls = []
    for rule in rules:
        available = len(pool_ids(bank_id, rule, fresh=fresh))
        if available < rule.count * POOL_FACTOR:
            shortfalls.append(Shortfall(rule, available))
    return shortfalls


def _option_orders(question_ids: list[int]) -> dict[int, list[str]]:
    orders: dict[int, list[str]] = {}
    rows = QuestionOption.objects.filter(question_id__in=question_ids).order_by("question_id", "sort_order", "label")
    for question_id, label in rows.values_list("question_id", "label"):
        orders.setdefault(question_id, []).append(label)
    return orders


def draw(bank_id: int, rules: list[Rule]) -> list[dict]:
    """The attempt's set, rule by rule: ``{"q": question id, "o": shown option order, "p": points}``. A question
    retired or deleted since its pool was cached sends the draw back to the bank once, uncached."""
    entries = _draw_once(bank_id, rules, fresh=False)
    return entries if entries is not None else _draw_once(bank_id, rules, fresh=True, partial=True)


def _draw_once(bank_id: int, rules: list[Rule], *, fresh: bool, partial: bool = False) -> list[dict] | None:
    shortfalls = pool_shortfalls(bank_id, rules, fresh=fresh)
    if shortfalls:
        raise PoolTooSmall(shortfalls)
    chosen: list[tuple[int, Rule]] = []
    taken: set[int] = set()
    for rule in rules:
        pool = [pk for pk in pool_ids(bank_id, rule) if pk not in taken]
        picked = _random.sample(pool, min(rule.count, len(pool)))
        taken.update(picked)
        chosen += [(pk, rule) for pk in picked]
    ids = [pk for pk, _rule in chosen]
    usable = Question.objects.filter(pk__in=ids, is_active=True, is_practice=False)
    keep_order = dict(usable.values_list("pk", "keep_option_order"))
    if len(keep_order) < len(ids) and not partial:
        return None
    orders = _option_orders(ids)
    return [_entry(pk, rule, orders.get(pk, []), keep_order[pk]) for pk, rule in chosen if pk in keep_order]


def _entry(pk: int, rule: Rule, labels: list[str], keep_order: bool) -> dict:
    if rule.kind == QuestionKind.TRUEFALSE:
        order = list(TRUEFALSE_LABELS)
    elif rule.kind == QuestionKind.BLANK:
        order = []
    else:
        order = list(labels)
        if not keep_order:
            _random.shuffle(order)
    return {"q": pk, "o": order, "p": rule.points}
