"""The resolver's pure part: given one device's plan (the rules that reach it and its channels' loops, as plain
data) and a moment, what plays and why. No database, no settings: ``screens.selectors`` builds the plan.

The fixed order (``Priority``): an emergency takeover, then the quotas of units above (seconds per hour over their
whole subtree, stacked at the start of each clock hour, upper levels first), then the unit's own rules, then
subscribed channels, then filler. Within one class the rule whose window started last wins (a daypart inside an
all-day rule takes over during its hours); emergencies prefer the upper level, filler the nearest level.

A channel plays as a loop anchored at the start of its rule's window, so the same moment always gives the same
item and offset (on the device, in the preview and in the manifest alike). A quota channel runs on its own clock
that only moves during its blocks, so a long promotion loop rotates from hour to hour instead of restarting.

All arithmetic is on aware datetimes in Asia/Shanghai (``SCHEDULE_TIME_ZONE``; no daylight saving there, so an
hour is always 3,600 seconds and every local time exists once).
"""

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

TZ = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# The quota loops' clock starts here: block k of a rule begins k × quota seconds into its loop.
QUOTA_EPOCH = datetime(2000, 1, 1, tzinfo=TZ)

EMERGENCY, QUOTA, OWN, SUBSCRIBED, FILLER = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class Step:
    """One playable entry of a loop, already checked for this device (a rendition exists, the item is public)."""

    entry_id: int
    kind: str  # video, image, notice, newspaper, course, info
    seconds: float
    label: str
    asset_key: str | None = None  # what the manifest lists as an asset ("rendition:12", "image:3:max-1920x1080:…")
    # What a slide shows besides its file, as (name, value) pairs: the manifest's ``slide`` (newspaper, course, info).
    detail: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Loop:
    channel_id: int
    channel_name: str
    steps: tuple[Step, ...]
    skipped: tuple[tuple[int, str], ...] = ()  # (entry id, why it cannot play on this device)

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


@dataclass(frozen=True)
class Rule:
    id: int
    priority: int
    unit_id: int
    unit_name: str
    unit_depth: int  # 1 = province: smaller is higher up
    channel_id: int
    days: frozenset[int]  # ISO weekdays
    start: time
    end: time
    starts_on: date | None = None
    ends_on: date | None = None
    quota_seconds: int = 0


@dataclass(frozen=True)
class Plan:
    """What decides the screen of one device: the rules reaching it (already matched to its unit and screen type)
    and a loop for every channel they name."""

    rules: tuple[Rule, ...]
    loops: dict[int, Loop]


@dataclass(frozen=True)
class QuotaBlock:
    rule: Rule
    start: datetime
    end: datetime
    wanted: int  # the rule's seconds per hour

    @property
    def short(self) -> bool:
        return (self.end - self.start).total_seconds() < self.wanted


@dataclass(frozen=True)
class Decision:
    """The answer for one moment. ``rule`` None: nothing is scheduled (the player shows its idle screen)."""

    moment: datetime
    priority: int | None = None
    rule: Rule | None = None
    loop: Loop | None = None
    step: Step | None = None
    step_offset: float = 0.0  # seconds into the step
    loop_offset: float = 0.0  # seconds into the loop
    window_start: datetime | None = None
    window_end: datetime | None = None
    quota: QuotaBlock | None = None
    passed_over: tuple[tuple[Rule, str], ...] = ()  # rules that were active but lost, and why
    warnings: tuple[str, ...] = field(default=())


# --- Windows ------------------------------------------------------------------------------------------------------


def local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the resolver needs an aware moment")
    return moment.astimezone(TZ)


def window_on(rule: Rule, day: date) -> tuple[datetime, datetime] | None:
    """The rule's window that starts on local ``day``, or None when it does not play that day."""
    if day.isoweekday() not in rule.days:
        return None
    if (rule.starts_on and day < rule.starts_on) or (rule.ends_on and day > rule.ends_on):
        return None
    start = datetime.combine(day, rule.start, tzinfo=TZ)
    end = datetime.combine(day, rule.end, tzinfo=TZ)
    if end <= start:
        end += DAY  # crosses midnight; equal times mean the whole day
    return start, end


def active_window(rule: Rule, moment: datetime) -> tuple[datetime, datetime] | None:
    """The window of ``rule`` holding ``moment`` (one that started today or, crossing midnight, yesterday)."""
    here = local(moment)
    for day in (here.date(), here.date() - DAY):
        window = window_on(rule, day)
        if window and window[0] <= here < window[1]:
            return window
    return None


def windows_between(rule: Rule, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Every window of the rule that overlaps [start, end)."""
    found, day = [], local(start).date() - DAY
    while day <= local(end).date():
        window = window_on(rule, day)
        if window and window[0] < end and window[1] > start:
            found.append(window)
        day += DAY
    return found


def hour_start(moment: datetime) -> datetime:
    return local(moment).replace(minute=0, second=0, microsecond=0)


# --- Quotas -------------------------------------------------------------------------------------------------------


def quota_blocks(plan: Plan, hour: datetime) -> tuple[list[QuotaBlock], list[str]]:
    """The quota blocks of one clock hour, stacked from the hour's start, upper levels first; and a warning for
    every quota the hour could not hold in full (the quotas overflow the hour, or a rule's daypart ends first)."""
    hour, blocks, warnings = hour_start(hour), [], []
    cursor = hour
    quotas = sorted((rule for rule in plan.rules if rule.priority == QUOTA), key=lambda r: (r.unit_depth, r.id))
    for rule in quotas:
        for window_start, window_end in windows_between(rule, hour, hour + HOUR):
            start = max(cursor, window_start, hour)
            end = min(start + timedelta(seconds=rule.quota_seconds), window_end, hour + HOUR)
            if end <= start:
                warnings.append(_overflow_text(rule, hour, 0))
                continue
            block = QuotaBlock(rule=rule, start=start, end=end, wanted=rule.quota_seconds)
            blocks.append(block)
            cursor = end
            if block.short:
                warnings.append(_overflow_text(rule, hour, int((end - start).total_seconds())))
            break  # one block per rule and hour
    return blocks, warnings


def _overflow_text(rule: Rule, hour: datetime, got: int) -> str:
    return _("%(hour)s 这一小时放不下全部必播时长：%(unit)s 的规则 #%(rule)s 要 %(wanted)s 秒，只排进 %(got)s 秒。") % {
        "hour": hour.strftime("%m-%d %H:00"),
        "unit": rule.unit_name,
        "rule": rule.id,
        "wanted": rule.quota_seconds,
        "got": got,
    }


def quota_loop_offset(block: QuotaBlock, moment: datetime, loop: Loop) -> float:
    """Where the quota channel's own clock stands: every earlier hour's full quota, plus the time into this block."""
    hours = int((hour_start(block.start) - QUOTA_EPOCH).total_seconds() // 3600)
    return (hours * block.wanted + (moment - block.start).total_seconds()) % loop.seconds


# --- Deciding -----------------------------------------------------------------------------------------------------


def resolve(plan: Plan, moment: datetime) -> Decision:
    """What plays on the device at ``moment``, and why (the rule, its level, the quota block, who lost)."""
    moment = local(moment)
    passed: list[tuple[Rule, str]] = []
    blocks, warnings = quota_blocks(plan, moment)
    for priority in (EMERGENCY, QUOTA, OWN, SUBSCRIBED, FILLER):
        for rule, window, block in _candidates(plan, priority, moment, blocks):
            loop = plan.loops.get(rule.channel_id)
            if loop is None or not loop.steps:
                passed.append((rule, "empty"))
                continue
            decision = _playing(rule, loop, moment, window, block)
            others = tuple(passed) + tuple((other, "lower") for other, _w, _b in _rest(plan, priority, moment, rule))
            return Decision(**decision, passed_over=others, warnings=tuple(warnings))
    return Decision(moment=moment, passed_over=tuple(passed), warnings=tuple(warnings))


def _candidates(plan: Plan, priority: int, moment: datetime, blocks: list[QuotaBlock]):
    """Active rules of one class at ``moment``, the winner first: (rule, window, quota block or None)."""
    if priority == QUOTA:
        return [(b.rule, (b.start, b.end), b) for b in blocks if b.start <= moment < b.end]
    active = []
    for rule in plan.rules:
        if rule.priority == priority and (window := active_window(rule, moment)):
            active.append((rule, window, None))

    def order(candidate):
        rule, window, _block = candidate
        started = -window[0].timestamp()
        if priority == EMERGENCY:
            return (rule.unit_depth, started, -rule.id)
        if priority == FILLER:
            return (-rule.unit_depth, started, -rule.id)
        return (started, -rule.id)

    return sorted(active, key=order)


def _rest(plan: Plan, priority: int, moment: datetime, winner: Rule):
    """Rules active at the same moment that the winner beat: the same class, and every lower class."""
    blocks, _warnings = quota_blocks(plan, moment)
    for lower in range(priority, FILLER + 1):
        for candidate in _candidates(plan, lower, moment, blocks):
            if candidate[0] is not winner:
                yield candidate


def _playing(rule: Rule, loop: Loop, moment: datetime, window, block: QuotaBlock | None) -> dict:
    if block is not None:
        offset = quota_loop_offset(block, moment, loop)
    else:
        offset = (moment - window[0]).total_seconds() % loop.seconds
    step, into = step_at(loop, offset)
    return {
        "moment": moment,
        "priority": rule.priority,
        "rule": rule,
        "loop": loop,
        "step": step,
        "step_offset": into,
        "loop_offset": offset,
        "window_start": window[0],
        "window_end": window[1],
        "quota": block,
    }


def step_at(loop: Loop, offset: float) -> tuple[Step, float]:
    """The step playing ``offset`` seconds into the loop, and how far into it."""
    for step in loop.steps:
        if offset < step.seconds:
            return step, offset
        offset -= step.seconds
    return loop.steps[-1], loop.steps[-1].seconds  # rounding at the very end of the loop


# --- A stretch of time: the manifest's blocks and the preview's hours ------------------------------------------


@dataclass(frozen=True)
class Block:
    """A stretch where one rule decides: the player plays ``channel_id``'s loop from ``loop_offset`` at ``start``."""

    start: datetime
    end: datetime
    rule: Rule | None
    channel_id: int | None
    loop_offset: float
    quota: bool = False


def breakpoints(plan: Plan, start: datetime, end: datetime) -> list[datetime]:
    """Every moment in [start, end) at which the deciding rule may change: window edges and quota block edges."""
    points = {local(start), local(end)}
    for rule in plan.rules:
        for window_start, window_end in windows_between(rule, start, end):
            points |= {window_start, window_end}
    hour = hour_start(start)
    while hour < end:
        for block in quota_blocks(plan, hour)[0]:
            points |= {block.start, block.end}
        points.add(hour)
        hour += HOUR
    return sorted(point for point in points if start <= point <= end)


def timeline(plan: Plan, start: datetime, end: datetime) -> tuple[list[Block], list[str]]:
    """The blocks covering [start, end) and the hours' warnings, each once. Adjacent stretches of the same rule
    whose loop simply runs on are one block."""
    blocks: list[Block] = []
    warnings: list[str] = []
    points = breakpoints(plan, start, end)
    for here, until in itertools.pairwise(points):
        decision = resolve(plan, here)
        warnings += [w for w in decision.warnings if w not in warnings]
        block = Block(
            start=here,
            end=until,
            rule=decision.rule,
            channel_id=decision.rule.channel_id if decision.rule else None,
            loop_offset=round(decision.loop_offset, 3),
            quota=decision.quota is not None,
        )
        if blocks and _continues(blocks[-1], block, plan):
            blocks[-1] = Block(**{**blocks[-1].__dict__, "end": until})
        else:
            blocks.append(block)
    return blocks, warnings


def _continues(previous: Block, block: Block, plan: Plan) -> bool:
    if previous.rule != block.rule or previous.quota or block.quota:
        return False
    if block.rule is None:
        return True
    loop = plan.loops[block.channel_id]
    expected = (previous.loop_offset + (block.start - previous.start).total_seconds()) % loop.seconds
    return abs(expected - block.loop_offset) < 0.01 or abs(abs(expected - block.loop_offset) - loop.seconds) < 0.01
