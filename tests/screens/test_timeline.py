"""The pure resolver (screens/schedule/timeline.py): the fixed priority, dayparts in Asia/Shanghai (across
midnight, days of week, date ranges), quotas stacked at the top of each hour with overflow warnings, loops anchored
so that one moment always gives one answer, and the timeline's blocks. Plain data, no database."""

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from screens.schedule.timeline import (
    EMERGENCY,
    FILLER,
    OWN,
    QUOTA,
    SUBSCRIBED,
    Loop,
    Plan,
    Rule,
    Step,
    quota_blocks,
    resolve,
    timeline,
)

SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
ALL = frozenset(range(1, 8))


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def loop(channel_id: int, *seconds: float) -> Loop:
    steps = tuple(Step(channel_id * 100 + n, "video", s, f"c{channel_id}-{n}") for n, s in enumerate(seconds))
    return Loop(channel_id=channel_id, channel_name=f"频道{channel_id}", steps=steps)


def rule(rule_id, priority, channel_id, start="00:00", end="00:00", depth=1, days=ALL, **fields) -> Rule:
    return Rule(
        id=rule_id,
        priority=priority,
        unit_id=depth,
        unit_name=f"单位{depth}",
        unit_depth=depth,
        channel_id=channel_id,
        days=days,
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        **fields,
    )


def plan(*rules, loops=None) -> Plan:
    loops = loops or {}
    for r in rules:
        loops.setdefault(r.channel_id, loop(r.channel_id, 60, 60))
    return Plan(rules=tuple(rules), loops=loops)


def test_priority_order_emergency_quota_own_subscribed_filler():
    """At one moment with every class active, the emergency wins; without it the quota block, then own, then
    subscribed, then filler; the losers are named."""
    rules = [
        rule(1, FILLER, 5),
        rule(2, SUBSCRIBED, 4),
        rule(3, OWN, 3),
        rule(4, QUOTA, 2, quota_seconds=120),
        rule(5, EMERGENCY, 1),
    ]
    moment = at(2026, 12, 7, 9, 0, 30)
    expected = [5, 4, 3, 2, 1]
    for drop in range(5):
        decision = resolve(plan(*rules[: 5 - drop]), moment)
        assert decision.rule.id == expected[drop]
    first = resolve(plan(*rules), moment)
    assert {other.id for other, _why in first.passed_over} == {1, 2, 3, 4}


def test_quota_block_sits_at_the_top_of_the_hour_and_own_content_resumes_after():
    p = plan(rule(1, OWN, 1, "08:00", "12:00"), rule(2, QUOTA, 2, quota_seconds=120, depth=1))
    assert resolve(p, at(2026, 12, 7, 9, 1, 59)).rule.id == 2
    after = resolve(p, at(2026, 12, 7, 9, 2, 0))
    assert after.rule.id == 1
    # The own channel's loop kept running under the quota block: anchored at 08:00, 62 minutes in.
    assert after.loop_offset == pytest.approx((62 * 60) % 120)


def test_quotas_stack_upper_level_first_and_an_overflowing_hour_warns():
    """Province 2,000 s and city 2,000 s cannot both fit in one hour: the province gets its full share first, the
    city what is left, and the hour carries a warning naming the city's rule."""
    p = plan(rule(1, QUOTA, 1, quota_seconds=2000, depth=2), rule(2, QUOTA, 2, quota_seconds=2000, depth=1))
    blocks, warnings = quota_blocks(p, at(2026, 12, 7, 10, 0))
    assert [(b.rule.id, b.start.minute, (b.end - b.start).seconds) for b in blocks] == [(2, 0, 2000), (1, 33, 1600)]
    assert len(warnings) == 1 and "#1" in warnings[0] and "1600" in warnings[0]
    # The same in the timeline: one warning per overflowing hour, each hour once.
    _blocks, hour_warnings = timeline(p, at(2026, 12, 7, 10, 0), at(2026, 12, 7, 13, 0))
    assert len(hour_warnings) == 3


def test_a_quota_loop_rotates_from_hour_to_hour():
    """A 300 s promotion loop with a 120 s quota: hour k starts k × 120 s into the loop, so every item gets aired."""
    p = plan(rule(1, QUOTA, 1, quota_seconds=120), loops={1: loop(1, 100, 100, 100)})
    first = resolve(p, at(2026, 12, 7, 10, 0, 0))
    second = resolve(p, at(2026, 12, 7, 11, 0, 0))
    assert (second.loop_offset - first.loop_offset) % 300 == pytest.approx(120)


def test_daypart_crossing_midnight_belongs_to_the_day_it_starts():
    """Fridays 22:00–02:00: Saturday 01:00 plays (Friday's window), Friday 01:00 does not (Thursday has none)."""
    p = plan(rule(1, OWN, 1, "22:00", "02:00", days=frozenset({5})))
    assert resolve(p, at(2026, 12, 12, 1, 0)).rule.id == 1  # Saturday 01:00
    assert resolve(p, at(2026, 12, 11, 1, 0)).rule is None  # Friday 01:00
    assert resolve(p, at(2026, 12, 11, 23, 0)).rule.id == 1
    assert resolve(p, at(2026, 12, 12, 2, 0)).rule is None  # the end is exclusive
    decision = resolve(p, at(2026, 12, 12, 1, 0))
    assert decision.window_start == at(2026, 12, 11, 22, 0) and decision.window_end == at(2026, 12, 12, 2, 0)


def test_date_range_is_inclusive_and_checked_against_the_windows_first_day():
    p = plan(rule(1, OWN, 1, "23:00", "01:00", starts_on=date(2026, 12, 7), ends_on=date(2026, 12, 8)))
    assert resolve(p, at(2026, 12, 7, 23, 30)).rule is not None
    assert resolve(p, at(2026, 12, 9, 0, 30)).rule is not None  # the 8th's window runs into the 9th
    assert resolve(p, at(2026, 12, 9, 23, 30)).rule is None
    assert resolve(p, at(2026, 12, 7, 0, 30)).rule is None  # the 6th had no window


def test_moments_in_any_zone_are_read_as_shanghai_time():
    """08:00–09:00 Shanghai is 00:00–01:00 UTC and (in December) 19:00–20:00 of the previous day in New York."""
    p = plan(rule(1, OWN, 1, "08:00", "09:00", days=frozenset({1})))  # Mondays
    monday_8_30 = at(2026, 12, 7, 8, 30)
    assert resolve(p, monday_8_30.astimezone(UTC)).rule.id == 1
    assert resolve(p, monday_8_30.astimezone(ZoneInfo("America/New_York"))).rule.id == 1
    assert resolve(p, datetime(2026, 12, 7, 1, 30, tzinfo=UTC)).rule is None  # 09:30 in Shanghai
    with pytest.raises(ValueError):
        resolve(p, datetime(2026, 12, 7, 8, 30))


def test_inside_one_class_the_window_that_started_last_wins():
    """An all-day own rule and a 12:00–13:00 one: at noon the lunchtime rule plays, the all-day one is passed over."""
    p = plan(rule(1, OWN, 1), rule(2, OWN, 2, "12:00", "13:00"))
    noon = resolve(p, at(2026, 12, 7, 12, 10))
    assert noon.rule.id == 2 and [r.id for r, _why in noon.passed_over] == [1]
    assert resolve(p, at(2026, 12, 7, 13, 0)).rule.id == 1


def test_emergency_prefers_the_upper_level_and_filler_the_nearest():
    p = plan(rule(1, EMERGENCY, 1, depth=3), rule(2, EMERGENCY, 2, depth=1))
    assert resolve(p, at(2026, 12, 7, 10, 0)).rule.id == 2
    p = plan(rule(1, FILLER, 1, depth=3), rule(2, FILLER, 2, depth=1))
    assert resolve(p, at(2026, 12, 7, 10, 0)).rule.id == 1


def test_a_channel_with_nothing_playable_falls_through_to_the_next_class():
    empty = Loop(channel_id=1, channel_name="空", steps=(), skipped=((7, "还没有适合这块屏幕的版本"),))
    p = plan(rule(1, OWN, 1), rule(2, FILLER, 2), loops={1: empty})
    decision = resolve(p, at(2026, 12, 7, 10, 0))
    assert decision.rule.id == 2 and decision.passed_over[0][1] == "empty"


def test_same_moment_same_answer_and_the_loop_is_anchored_at_the_window_start():
    """Items of 30, 60 and 90 s from 08:00: 08:01:40 is 100 s in, the 90 s item's 10th second."""
    p = plan(rule(1, OWN, 1, "08:00", "10:00"), loops={1: loop(1, 30, 60, 90)})
    decision = resolve(p, at(2026, 12, 7, 8, 1, 40))
    assert decision.step.entry_id == 102 and decision.step_offset == pytest.approx(10)
    assert resolve(p, at(2026, 12, 7, 8, 1, 40)) == decision
    wrapped = resolve(p, at(2026, 12, 7, 8, 3, 0) + timedelta(seconds=5))  # 185 s: the loop's second round
    assert wrapped.step.entry_id == 100 and wrapped.step_offset == pytest.approx(5)


def test_timeline_blocks_cover_the_stretch_without_gaps_and_agree_with_resolve():
    p = plan(
        rule(1, OWN, 1, "08:00", "20:00"),
        rule(2, QUOTA, 2, quota_seconds=60),
        rule(3, FILLER, 3),
        rule(4, EMERGENCY, 4, "09:30", "09:40", days=frozenset({1})),
    )
    start, end = at(2026, 12, 7, 6, 0), at(2026, 12, 8, 6, 0)
    blocks, _warnings = timeline(p, start, end)
    assert blocks[0].start == start and blocks[-1].end == end
    assert all(a.end == b.start for a, b in itertools.pairwise(blocks))
    for block in blocks:
        middle = block.start + (block.end - block.start) / 2
        decision = resolve(p, middle)
        assert (decision.rule.id if decision.rule else None) == (block.rule.id if block.rule else None)
        if decision.rule:
            seconds = p.loops[block.channel_id].seconds
            expected = (block.loop_offset + (middle - block.start).total_seconds()) % seconds
            assert decision.loop_offset == pytest.approx(expected)
    # 24 quota blocks, the emergency once, own content twice a day around them: a bounded, small list.
    assert sum(block.quota for block in blocks) == 24
    assert [b.rule.id for b in blocks if b.rule and b.rule.priority == EMERGENCY] == [4]
    assert len(blocks) < 80
