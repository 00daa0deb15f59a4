"""I-frame playlists (EXT-X-I-FRAMES-ONLY) for trick play, indexed from the fMP4 segments ffmpeg wrote.

ffmpeg 5.1's HLS muxer writes none, so we read where every keyframe lies and point byte ranges at it.
What ffmpeg 5.1 writes (``-hls_segment_type fmp4``, measured on a ladder output): each ``seg_N.m4s`` is
``styp``, ``sidx`` boxes, ONE ``moof`` (a ``traf`` per track: video and the muxed audio) and one ``mdat``;
with 2-s GOPs in 6-s segments, one ``moof`` holds three keyframes. A keyframe's byte range therefore
starts at its ``moof`` (a player needs it to find the sample) and ends where that keyframe's data ends,
which RFC 8216 permits; for the 2nd and 3rd keyframe the range also spans the samples before them, so
the I-frame stream's measured BANDWIDTH can exceed its variant's. A ``moof`` per GOP would fix that, but
``-hls_segment_options movflags=+frag_keyframe`` (or ``frag_duration=2000000``) made ffmpeg 5.1 write all
the media into the init file, so the ranges are taken as ffmpeg lays the segments out.

The ISO-BMFF reading below is deliberately small: no box library is installed (no pymp4, construct or
bitstring in the venv or requirements.lock), and we only need moov→trak (track id, handler, timescale),
mvex→trex (defaults) and moof→traf→tfhd/tfdt/trun (sample sizes, durations, flags, data offsets).
"""

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

import m3u8

from ..ffmpeg.commands import PLAYLIST_NAME
from ..ffmpeg.ladder import Variant

IFRAME_PLAYLIST_NAME = "iframes.m3u8"

# ISO/IEC 14496-12 8.8.3.1 sample flags: sample_depends_on (2 bits at 24) and sample_is_non_sync_sample.
_DEPENDS_ON_OTHERS = 1
_NON_SYNC = 0x10000


class Box(NamedTuple):
    kind: bytes
    start: int  # first byte of the box header
    body: int  # first byte after the header
    end: int


@dataclass(frozen=True)
class TrackDefaults:
    """What the init segment says about the video track; fragments may override the defaults."""

    track_id: int
    timescale: int
    duration: int = 0
    size: int = 0
    flags: int = 0


@dataclass(frozen=True)
class Sample:
    offset: int  # absolute byte position of the sample's data in the segment file
    size: int
    decode_time: int  # in the track's timescale
    duration: int
    sync: bool


@dataclass(frozen=True)
class Fragment:
    moof_offset: int
    samples: tuple[Sample, ...]  # the video track's samples only


@dataclass(frozen=True)
class SegmentIndex:
    uri: str  # as the media playlist names the segment
    fragments: tuple[Fragment, ...]


@dataclass(frozen=True)
class IFrame:
    uri: str
    offset: int  # byte range start: the moof
    length: int  # up to the end of the keyframe's data
    duration: float  # seconds until the next keyframe (or the end of the track)


@dataclass(frozen=True)
class IFrameStats:
    variant: Variant
    peak_bandwidth: int  # busiest I-frame: bytes a player fetches for it over the time it stands for
    average_bandwidth: int

    @property
    def uri(self) -> str:
        return f"{self.variant.name}/{IFRAME_PLAYLIST_NAME}"


# --- Pure: parsed structures in, playlist out --------------------------------------------------------------


def iframe_entries(*, segments: list[SegmentIndex], timescale: int) -> list[IFrame]:
    """Every keyframe in playback order, lasting until the next keyframe (the last one: until the end)."""
    keys: list[tuple[str, int, int, int]] = []  # uri, range start, range end, decode time
    track_end = 0
    for segment in segments:
        for fragment in segment.fragments:
            for sample in fragment.samples:
                track_end = max(track_end, sample.decode_time + sample.duration)
                if sample.sync:
                    keys.append((segment.uri, fragment.moof_offset, sample.offset + sample.size, sample.decode_time))
    frames = []
    for index, (uri, start, end, decode_time) in enumerate(keys):
        until = keys[index + 1][3] if index + 1 < len(keys) else track_end
        frames.append(IFrame(uri, start, end - start, (until - decode_time) / timescale))
    return frames


def iframe_playlist(*, segments: list[SegmentIndex], init_uri: str, timescale: int) -> str:
    return iframe_playlist_text(frames=iframe_entries(segments=segments, timescale=timescale), init_uri=init_uri)


def iframe_playlist_text(*, frames: list[IFrame], init_uri: str) -> str:
    target = max((math.ceil(frame.duration) for frame in frames), default=1)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{max(target, 1)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-I-FRAMES-ONLY",
        f'#EXT-X-MAP:URI="{init_uri}"',
    ]
    for frame in frames:
        lines += [f"#EXTINF:{frame.duration:.6f},", f"#EXT-X-BYTERANGE:{frame.length}@{frame.offset}", frame.uri]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def iframe_bandwidths(frames: list[IFrame]) -> tuple[int, int]:
    """(peak, average) bits per second, as a player fetching only these ranges would use."""
    rates = [frame.length * 8 / frame.duration for frame in frames if frame.duration > 0]
    total_seconds = sum(frame.duration for frame in frames)
    average = sum(frame.length for frame in frames) * 8 / total_seconds if total_seconds > 0 else 0
    return math.ceil(max(rates, default=0)), math.ceil(average)


# --- Files: index what ffmpeg wrote, write the playlists ---------------------------------------------------


def write_iframe_playlists(hls_dir: Path, variants: list[Variant]) -> list[IFrameStats]:
    """``<variant>/iframes.m3u8`` beside each video variant's media playlist; audio-only variants get none."""
    stats = []
    for variant in variants:
        if variant.has_video:
            stats.append(_write_variant(hls_dir / variant.name, variant))
    return stats


def _write_variant(variant_dir: Path, variant: Variant) -> IFrameStats:
    playlist = m3u8.load(str(variant_dir / PLAYLIST_NAME))
    init_uri = playlist.segments[0].init_section.uri
    track = video_track((variant_dir / init_uri).read_bytes())
    segments = [index_segment(variant_dir / segment.uri, uri=segment.uri, track=track) for segment in playlist.segments]
    frames = iframe_entries(segments=segments, timescale=track.timescale)
    (variant_dir / IFRAME_PLAYLIST_NAME).write_text(iframe_playlist_text(frames=frames, init_uri=init_uri))
    return IFrameStats(variant, *iframe_bandwidths(frames))


def video_track(init_segment: bytes) -> TrackDefaults:
    """The first video track (handler ``vide``) of an init segment, with its trex defaults."""
    moov = _top_box(init_segment, b"moov")
    track = None
    for trak in _children(init_segment, moov, b"trak"):
        track = track or _video_trak(init_segment, trak)
    if track is None:
        raise ValueError("no video track in the init segment")
    mvex = next(iter(_children(init_segment, moov, b"mvex")), None)
    for trex in _children(init_segment, mvex, b"trex") if mvex else ():
        track_id, _index, duration, size, flags = struct.unpack_from(">5I", init_segment, trex.body + 4)
        if track_id == track.track_id:
            return TrackDefaults(track_id, track.timescale, duration, size, flags)
    return track


def index_segment(path: Path, *, uri: str, track: TrackDefaults) -> SegmentIndex:
    """Read only the moof boxes of a segment file (the media data is skipped, never loaded)."""
    fragments = []
    with path.open("rb") as handle:
        for box in _top_level_boxes(handle):
            if box.kind == b"moof":
                handle.seek(box.start)
                data = handle.read(box.end - box.start)
                fragments.append(Fragment(box.start, tuple(_moof_samples(data, box.start, track))))
    return SegmentIndex(uri, tuple(fragments))


# --- ISO-BMFF reading --------------------------------------------------------------------------------------


def _boxes(data: bytes, start: int, end: int) -> Iterator[Box]:
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, position + 8)
            header = 16
        elif size == 0:
            size = end - position  # "to the end of the enclosing space"
        if size < header:
            raise ValueError(f"bad box size {size} at {position}")
        yield Box(kind, position, position + header, position + size)
        position += size


def _top_level_boxes(handle: BinaryIO) -> Iterator[Box]:
    end = handle.seek(0, 2)
    position = 0
    while position + 8 <= end:
        handle.seek(position)
        header = handle.read(16)
        size, kind = struct.unpack_from(">I4s", header)
        body = position + 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", header, 8)
            body += 8
        elif size == 0:
            size = end - position
        if size < body - position:
            raise ValueError(f"bad box size {size} at {position}")
        yield Box(kind, position, body, position + size)
        position += size


def _children(data: bytes, parent: Box, kind: bytes) -> list[Box]:
    return [box for box in _boxes(data, parent.body, parent.end) if box.kind == kind]


def _top_box(data: bytes, kind: bytes) -> Box:
    for box in _boxes(data, 0, len(data)):
        if box.kind == kind:
            return box
    raise ValueError(f"no {kind.decode()} box")


def _path(data: bytes, parent: Box, *kinds: bytes) -> Box | None:
    box = parent
    for kind in kinds:
        found = _children(data, box, kind)
        if not found:
            return None
        box = found[0]
    return box


def _video_trak(data: bytes, trak: Box) -> TrackDefaults | None:
    hdlr, mdhd, tkhd = (
        _path(data, trak, b"mdia", b"hdlr"),
        _path(data, trak, b"mdia", b"mdhd"),
        _path(data, trak, b"tkhd"),
    )
    if not (hdlr and mdhd and tkhd) or data[hdlr.body + 8 : hdlr.body + 12] != b"vide":
        return None
    wide = data[tkhd.body] == 1  # version 1: 64-bit creation/modification times
    (track_id,) = struct.unpack_from(">I", data, tkhd.body + (20 if wide else 12))
    (timescale,) = struct.unpack_from(">I", data, mdhd.body + (20 if data[mdhd.body] == 1 else 12))
    return TrackDefaults(track_id, timescale)


def _moof_samples(moof: bytes, moof_offset: int, track: TrackDefaults) -> Iterator[Sample]:
    """Samples of ``track`` in one moof; offsets made absolute in the segment file."""
    box = Box(b"moof", 0, 8, len(moof))
    data_end = 0  # base offset rule for a traf without its own: where the previous traf's data ended
    for traf in _children(moof, box, b"traf"):
        tfhd = _children(moof, traf, b"tfhd")[0]
        track_id, base, defaults = _tfhd(moof, tfhd, track, moof_offset, data_end)
        decode_time, data_end = _tfdt(moof, traf), base
        for trun in _children(moof, traf, b"trun"):
            # A run's data_offset counts from the traf's base; a run without one follows the previous run.
            samples, data_end, decode_time = _trun(moof, trun, defaults, base, data_end, decode_time)
            if track_id == track.track_id:
                yield from samples


def _tfhd(data: bytes, tfhd: Box, track: TrackDefaults, moof_offset: int, data_end: int):
    flags = int.from_bytes(data[tfhd.body + 1 : tfhd.body + 4], "big")
    (track_id,) = struct.unpack_from(">I", data, tfhd.body + 4)
    at, base = tfhd.body + 8, None
    duration, size, sample_flags = track.duration, track.size, track.flags
    if flags & 0x1:
        (base,) = struct.unpack_from(">Q", data, at)
        at += 8
    if flags & 0x2:  # sample description index
        at += 4
    if flags & 0x8:
        (duration,) = struct.unpack_from(">I", data, at)
        at += 4
    if flags & 0x10:
        (size,) = struct.unpack_from(">I", data, at)
        at += 4
    if flags & 0x20:
        (sample_flags,) = struct.unpack_from(">I", data, at)
    if base is None:
        # default-base-is-moof (what ffmpeg writes), or the first traf: the moof; later ones follow on.
        base = moof_offset if flags & 0x20000 or not data_end else data_end
    return track_id, base, (duration, size, sample_flags)


def _tfdt(data: bytes, traf: Box) -> int:
    found = _children(data, traf, b"tfdt")
    if not found:
        return 0
    body = found[0].body
    return struct.unpack_from(">Q" if data[body] == 1 else ">I", data, body + 4)[0]


def _trun(data: bytes, trun: Box, defaults: tuple[int, int, int], base: int, follow_on: int, decode_time: int):
    flags = int.from_bytes(data[trun.body + 1 : trun.body + 4], "big")
    (count,) = struct.unpack_from(">I", data, trun.body + 4)
    at, offset = trun.body + 8, follow_on
    if flags & 0x1:
        offset = base + struct.unpack_from(">i", data, at)[0]
        at += 4
    default_duration, default_size, default_flags = defaults
    first_flags = default_flags
    if flags & 0x4:
        (first_flags,) = struct.unpack_from(">I", data, at)
        at += 4
    # Per sample, in this order, only the fields the flags announce: duration, size, flags, cts offset.
    fields = [bit for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit]
    samples = []
    for index in range(count):
        values = dict(zip(fields, struct.unpack_from(f">{len(fields)}I", data, at), strict=True))
        at += 4 * len(fields)
        duration = values.get(0x100, default_duration)
        size = values.get(0x200, default_size)
        sample_flags = values.get(0x400, first_flags if index == 0 else default_flags)
        samples.append(Sample(offset, size, decode_time, duration, _is_sync(sample_flags)))
        offset += size
        decode_time += duration
    return samples, offset, decode_time


def _is_sync(flags: int) -> bool:
    return not flags & _NON_SYNC and (flags >> 24) & 0x3 != _DEPENDS_ON_OTHERS
