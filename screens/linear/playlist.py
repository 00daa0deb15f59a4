"""The linear channel's arithmetic, without the database: where a channel's loop stands at a moment, and the live
HLS playlists, master and programme times that follow from it.

The loop is anchored at a fixed epoch (``EPOCH``, Beijing midnight, 2026-01-01) and repeats for ever: the same
moment gives the same playlist on every server, with nothing stored. Segment ``g`` (counted from the epoch over
every repetition) is segment ``g mod S`` of the loop, ``S`` segments long; it airs at ``EPOCH + (g div S) × L +``
its offset in the loop (``L`` the loop's length). So the media sequence of a window is ``g`` of its first segment,
and its discontinuity sequence the number of programme starts after segment 0 up to it. Durations are whole
microseconds (EXTINF as ffmpeg writes it has six decimals), so the arithmetic is exact.
"""

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

from ..models import SCHEDULE_TIME_ZONE

EPOCH = datetime(2026, 1, 1, tzinfo=SCHEDULE_TIME_ZONE)
MICROS = 1_000_000
WINDOW_SEGMENTS = 6  # the live window holds at least this many segments ...
WINDOW_TARGETS = 3  # ... and at least this many target durations (RFC 8216 6.2.2)
HLS_VERSION = 7  # fMP4 segments with EXT-X-MAP after a discontinuity need version 6 or later


@dataclass(frozen=True)
class Programme:
    """One item of the loop: its stored segments as (microseconds, storage name) and its init segment."""

    key: int  # which rendition the names belong to (the view signs them through it)
    title: str
    init: str | None
    segments: tuple[tuple[int, str], ...]

    @cached_property
    def micros(self) -> int:
        return sum(micros for micros, _name in self.segments)


@dataclass(frozen=True)
class Entry:
    """One segment of a live window."""

    sequence: int  # media sequence number, counted from the epoch
    programme: Programme
    micros: int
    name: str
    starts: datetime  # when it airs (aware)
    starts_programme: bool
    discontinuity: bool  # an EXT-X-DISCONTINUITY goes before it


@dataclass(frozen=True)
class Window:
    media_sequence: int
    discontinuity_sequence: int
    target_duration: int
    entries: tuple[Entry, ...]


def seconds_to_micros(seconds: float) -> int:
    return round(seconds * MICROS)


@dataclass(frozen=True)
class Loop:
    """A channel's loop of programmes (each with at least one segment), laid out once."""

    programmes: tuple[Programme, ...]

    @cached_property
    def flat(self) -> tuple[tuple[int, int, int], ...]:
        """(programme index, segment index, start in the loop) of each of the loop's segments."""
        rows, start = [], 0
        for index, programme in enumerate(self.programmes):
            for number, (micros, _name) in enumerate(programme.segments):
                rows.append((index, number, start))
                start += micros
        return tuple(rows)

    @cached_property
    def starts(self) -> tuple[int, ...]:
        return tuple(start for _p, _s, start in self.flat)

    @cached_property
    def programme_start_offsets(self) -> tuple[int, ...]:
        return tuple(self.starts[i] for i in self.programme_firsts)

    @cached_property
    def ends(self) -> tuple[int, ...]:
        return tuple(start + self.programmes[p].segments[s][0] for p, s, start in self.flat)

    @cached_property
    def programme_firsts(self) -> tuple[int, ...]:
        """The loop index of each programme's first segment."""
        return tuple(i for i, (_p, number, _start) in enumerate(self.flat) if number == 0)

    @cached_property
    def micros(self) -> int:
        return sum(programme.micros for programme in self.programmes)

    @cached_property
    def size(self) -> int:
        return len(self.flat)

    @cached_property
    def target_duration(self) -> int:
        """EXT-X-TARGETDURATION: the longest segment of the whole loop, rounded to the nearest second (RFC 8216:
        every EXTINF rounded must be ≤ it). The loop's, not the window's: a live playlist's target must not change."""
        longest = max(micros for programme in self.programmes for micros, _name in programme.segments)
        return max(1, (longest + MICROS // 2) // MICROS)

    def segment(self, sequence: int) -> tuple[Programme, int, int]:
        """(programme, segment index, start in microseconds since the epoch) of segment ``sequence``."""
        turn, index = divmod(sequence, self.size)
        programme_index, number, start = self.flat[index]
        return self.programmes[programme_index], number, turn * self.micros + start

    def discontinuities_through(self, sequence: int) -> int:
        """How many programme starts there are among segments 1 … ``sequence`` (each one a discontinuity)."""
        turn, index = divmod(sequence, self.size)
        return turn * len(self.programmes) + bisect.bisect_right(self.programme_firsts, index) - 1

    def segments_ended(self, micros: int) -> int:
        """How many segments have ended ``micros`` after the epoch."""
        turn, position = divmod(micros, self.micros)
        return turn * self.size + bisect.bisect_right(self.ends, position)


def since_epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return (moment - EPOCH) // timedelta(microseconds=1)


def at(micros: int) -> datetime:
    return (EPOCH + timedelta(microseconds=micros)).astimezone(SCHEDULE_TIME_ZONE)


def window(loop: Loop, moment: datetime) -> Window:
    """The live window at ``moment``: the last segments that have aired in full, at least ``WINDOW_SEGMENTS`` of
    them and ``WINDOW_TARGETS`` target durations (fewer only just after the epoch)."""
    last = loop.segments_ended(since_epoch(moment)) - 1
    first, count, micros = last, 0, 0
    while first >= 0 and (count < WINDOW_SEGMENTS or micros < WINDOW_TARGETS * loop.target_duration * MICROS):
        programme, number, _start = loop.segment(first)
        micros += programme.segments[number][0]
        count += 1
        first -= 1
    first += 1
    entries = tuple(_entry(loop, sequence, sequence == first) for sequence in range(first, last + 1))
    return Window(
        media_sequence=first,
        discontinuity_sequence=loop.discontinuities_through(first) if entries else 0,
        target_duration=loop.target_duration,
        entries=entries,
    )


def _entry(loop: Loop, sequence: int, is_first: bool) -> Entry:
    programme, number, start = loop.segment(sequence)
    micros, name = programme.segments[number]
    # The first segment's discontinuity is counted in EXT-X-DISCONTINUITY-SEQUENCE, not tagged.
    discontinuity = number == 0 and sequence > 0 and not is_first
    return Entry(sequence, programme, micros, name, at(start), number == 0, discontinuity)


def program_date_time(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as EXT-X-PROGRAM-DATE-TIME is best understood by every player."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def extinf(micros: int) -> str:
    return f"{micros // MICROS}.{micros % MICROS:06d}"


def media_playlist(live: Window, url: Callable[[Programme, str], str]) -> str:
    """The live media playlist text; ``url(programme, storage name)`` gives each file's (signed) URL."""
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{HLS_VERSION}",
        f"#EXT-X-TARGETDURATION:{live.target_duration}",
        f"#EXT-X-MEDIA-SEQUENCE:{live.media_sequence}",
        f"#EXT-X-DISCONTINUITY-SEQUENCE:{live.discontinuity_sequence}",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    for index, entry in enumerate(live.entries):
        if entry.discontinuity:
            lines.append("#EXT-X-DISCONTINUITY")
        if (index == 0 or entry.starts_programme) and entry.programme.init:
            lines.append(f'#EXT-X-MAP:URI="{url(entry.programme, entry.programme.init)}"')
        if index == 0 or entry.starts_programme:
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{program_date_time(entry.starts)}")
        lines.append(f"#EXTINF:{extinf(entry.micros)},")
        lines.append(url(entry.programme, entry.name))
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Rung:
    """One variant of the master: its playlist URL and what a player chooses it by."""

    url: str
    bandwidth: int
    average_bandwidth: int | None
    codecs: str
    width: int
    height: int
    frame_rate: float | None


def master_playlist(rungs: list[Rung]) -> str:
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{HLS_VERSION}", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rung in rungs:
        attributes = [f"BANDWIDTH={rung.bandwidth}"]
        if rung.average_bandwidth:
            attributes.append(f"AVERAGE-BANDWIDTH={rung.average_bandwidth}")
        if rung.codecs:
            attributes.append(f'CODECS="{rung.codecs}"')
        attributes.append(f"RESOLUTION={rung.width}x{rung.height}")
        if rung.frame_rate:
            attributes.append(f"FRAME-RATE={rung.frame_rate:.3f}")
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attributes), rung.url]
    return "\n".join(lines) + "\n"


def airings(loop: Loop, start: datetime, end: datetime, *, limit: int) -> list[tuple[Programme, datetime, datetime]]:
    """(programme, start, stop) of every programme airing between ``start`` and ``end``: the guide's rows, from
    the one on air at ``start``; at most ``limit`` of them."""
    begin, finish = since_epoch(start), since_epoch(end)
    turn, position = divmod(begin, loop.micros)
    firsts = loop.programme_start_offsets
    index = bisect.bisect_right(firsts, position) - 1
    rows = []
    while len(rows) < limit:
        programme_start = turn * loop.micros + firsts[index]
        if programme_start >= finish:
            break
        programme = loop.programmes[index]
        rows.append((programme, at(programme_start), at(programme_start + programme.micros)))
        index += 1
        if index == len(loop.programmes):
            turn, index = turn + 1, 0
    return rows
