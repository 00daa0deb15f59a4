"""I-frame playlists (EXT-X-I-FRAMES-ONLY) for trick play: a dedicated I-frame rendition per video variant.

ffmpeg 5.1's HLS muxer writes no I-frame playlist, and it cannot make one addressable from the variant itself:
each ``seg_N.m4s`` is ``styp``, ``sidx``, ONE ``moof`` and one ``mdat``, so with 2-s GOPs in 6-s segments one
``moof`` holds three keyframes, and a byte range for the 2nd or 3rd keyframe must start at that ``moof``: decoding
it alone gives the segment's first keyframe again, and its bytes (all the samples before it) made the declared
I-frame BANDWIDTH twice the variant's. ``-hls_segment_options movflags=+frag_keyframe`` made ffmpeg 5.1 put all
the media into the init file, so the variant's own layout cannot be changed from the HLS muxer.

So every video variant gets its own I-frame rendition (Apple's HLS authoring spec recommends dedicated ones):
``<variant>/iframes.mp4``, the variant's keyframes copied bit for bit (``-c copy``, the ``noise`` bitstream filter
dropping every packet that is not a keyframe; no encoding, so the picture is exactly the variant's at that
instant), muxed by the mp4 muxer as fragmented MP4 with one ``moof`` + ``mdat`` per keyframe. The playlist
(``<variant>/iframes.m3u8``) names the file's ``ftyp`` + ``moov`` as its EXT-X-MAP byte range and each keyframe's
``moof`` + ``mdat`` as an entry lasting until the next keyframe (the last one: until the variant's end). Its
rates are measured from those ranges, so they are true, and they stay below the variant's: a keyframe is a part
of its GOP's bytes. ``jobs/verify.py`` decodes the file back and checks one frame per entry, at its time.

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

from ..ffmpeg.commands import GLOBAL_ARGS, PLAYLIST_NAME
from ..ffmpeg.ladder import Variant
from ..ffmpeg.runner import check_run, run_ffmpeg

IFRAME_PLAYLIST_NAME = "iframes.m3u8"
IFRAME_MEDIA_NAME = "iframes.mp4"  # the I-frame rendition: init (ftyp + moov), then one moof + mdat per keyframe
# One fragment per keyframe (every packet left is one); the moof's own offsets count from the moof. delay_moov:
# the moov is written once the first keyframe is known, so it carries the same edit list (B-frame delay) as the
# variant's init; with empty_moov alone the muxer shifted a chunked ladder's keyframes 2 frames late instead.
IFRAME_MOVFLAGS = "+frag_keyframe+empty_moov+delay_moov+default_base_moof"

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


def iframe_entries(*, segments: list[SegmentIndex], timescale: int, track_end: int = 0) -> list[IFrame]:
    """Every keyframe in playback order, its range from its moof to the end of its data, lasting until the next
    keyframe; the last one until ``track_end`` (decode time, same timescale) or the end of its own samples."""
    keys: list[tuple[str, int, int, int]] = []  # uri, range start, range end, decode time
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


def iframe_playlist_text(*, frames: list[IFrame], init_uri: str, init_length: int | None = None) -> str:
    """The I-frames-only media playlist; ``init_length``: the init section is the first bytes of its file."""
    init_range = f',BYTERANGE="{init_length}@0"' if init_length else ""
    target = max((math.ceil(frame.duration) for frame in frames), default=1)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{max(target, 1)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-I-FRAMES-ONLY",
        f'#EXT-X-MAP:URI="{init_uri}"{init_range}',
    ]
    for frame in frames:
        lines += [f"#EXTINF:{_extinf(frame.duration)},", f"#EXT-X-BYTERANGE:{frame.length}@{frame.offset}", frame.uri]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _extinf(seconds: float) -> str:
    return f"{seconds:.6f}"


def iframe_bandwidths(frames: list[IFrame]) -> tuple[int, int]:
    """(peak, average) bits per second, as a player fetching only these ranges would use.

    Computed from the durations as the playlist writes them, so anyone re-measuring the playlist (``verify``)
    finds the same numbers."""
    return range_bandwidths([(frame.length, float(_extinf(frame.duration))) for frame in frames])


def range_bandwidths(ranges: list[tuple[int, float]]) -> tuple[int, int]:
    """(peak, average) bits per second of (bytes, seconds) entries: the busiest entry, and all bytes over all time."""
    rates = [length * 8 / seconds for length, seconds in ranges if seconds > 0]
    total_seconds = sum(seconds for _length, seconds in ranges)
    average = sum(length for length, _seconds in ranges) * 8 / total_seconds if total_seconds > 0 else 0
    return math.ceil(max(rates, default=0)), math.ceil(average)


# --- Files: make each variant's I-frame rendition, index it, write the playlists ---------------------------


def iframe_rendition_command(*, variant_dir: Path) -> list[str]:
    """The variant's keyframes, copied (never encoded again), as fragmented MP4 with one fragment per keyframe.

    Reads the variant through its own media playlist (init + segments, in order, with their timestamps).
    ``noise=drop=not(key)`` drops every packet but the keyframes; the mp4 muxer then cuts a fragment at each.
    """
    return [
        *GLOBAL_ARGS,
        "-y",
        "-copyts",  # the variant's own timestamps, untouched: entry N plays at the variant's keyframe N
        "-protocol_whitelist",
        "file",  # only the variant's own files: never what a playlist might point at elsewhere
        "-i",
        str(variant_dir / PLAYLIST_NAME),
        "-map",
        "0:v:0",
        "-c",
        "copy",
        "-bsf:v",
        "noise=drop=not(key)",
        "-f",
        "mp4",
        "-movflags",
        IFRAME_MOVFLAGS,
        str(variant_dir / IFRAME_MEDIA_NAME),
    ]


def write_iframe_playlists(hls_dir: Path, variants: list[Variant]) -> list[IFrameStats]:
    """``<variant>/iframes.mp4`` + ``iframes.m3u8`` beside each video variant's media playlist; audio-only
    variants get none."""
    stats = []
    for variant in variants:
        if variant.has_video:
            stats.append(_write_variant(hls_dir / variant.name, variant))
    return stats


def _write_variant(variant_dir: Path, variant: Variant) -> IFrameStats:
    playlist = m3u8.load(str(variant_dir / PLAYLIST_NAME))
    if not playlist.segments:
        raise ValueError(f"{variant.name}: no segments to take keyframes from")
    check_run(run_ffmpeg(iframe_rendition_command(variant_dir=variant_dir), duration=0))
    media = variant_dir / IFRAME_MEDIA_NAME
    track = video_track(_init_bytes(media))
    segment = index_segment(media, uri=IFRAME_MEDIA_NAME, track=track)
    init_length = segment.fragments[0].moof_offset if segment.fragments else 0
    if not init_length or any(len(f.samples) != 1 or not f.samples[0].sync for f in segment.fragments):
        raise ValueError(f"{variant.name}: the I-frame rendition is not one keyframe per fragment")
    frames = iframe_entries(
        segments=[segment],
        timescale=track.timescale,
        track_end=round(variant_end_seconds(variant_dir, playlist) * track.timescale),
    )
    text = iframe_playlist_text(frames=frames, init_uri=IFRAME_MEDIA_NAME, init_length=init_length)
    (variant_dir / IFRAME_PLAYLIST_NAME).write_text(text)
    return IFrameStats(variant, *iframe_bandwidths(frames))


def variant_end_seconds(variant_dir: Path, playlist: m3u8.M3U8) -> float:
    """When the variant's picture ends: its last segment's last video sample (decode time + duration)."""
    init_uri = playlist.segments[0].init_section.uri
    track = video_track((variant_dir / init_uri).read_bytes())
    last = playlist.segments[-1].uri
    samples = [s for f in index_segment(variant_dir / last, uri=last, track=track).fragments for s in f.samples]
    return max((s.decode_time + s.duration for s in samples), default=0) / track.timescale


def _init_bytes(path: Path) -> bytes:
    """The leading boxes of a fragmented MP4 up to its first moof (ftyp + moov), read without the media."""
    with path.open("rb") as handle:
        end = next((box.start for box in _top_level_boxes(handle) if box.kind == b"moof"), 0)
        handle.seek(0)
        return handle.read(end)


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
