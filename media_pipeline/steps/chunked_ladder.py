"""Chunked parallel encoding of long sources for the web HLS ladder.

Above ``ChunkPolicy.min_source_seconds`` the video is cut at segment boundaries into chunks that several
ffmpeg processes encode at once (each one the whole video ladder of its slice); the audio is encoded once,
in one piece; the chunks are joined by concatenating their media playlists, without encoding again.

Layout: demuxed audio. In the one-process ladder every video rung muxes its own AAC track. Here the video
rungs are video-only and the audio is a separate rendition group per audio bitrate (``EXT-X-MEDIA``,
``AUDIO="…"`` on the variants). Why not mux the audio back into each rung: that is a second pass over all
video bytes (a remux per rung) and ties the audio to chunk boundaries, where AAC frames do not fall on
segment edges. Demuxed audio is standard HLS (RFC 8216 4.3.4.1; hls.js, Safari, ExoPlayer play it), stores
each audio rate once instead of once per rung, and lets the join stay a text operation. An audio-only
variant still points at the audio playlist of its rate, as in the one-process ladder.

Timeline (measured on ffmpeg 5.1, see ``commands._timeline_options``): every chunk and the audio keep the
source's own times, so each segment's ``tfdt`` equals the one-process run's and every chunk writes the same
init segment. The one-process run presents both tracks 2 frames late (its B-frame shift, in its edit
lists); here both start at 0. Audio against video is the same in both.

Building commands and running them are kept apart (``chunk_commands``, ``audio_command``, ``join_chunks``,
``write_master``) so the job engine can later hand chunks to other workers through the task queue;
``encode_chunked`` runs them all on this machine with a small thread pool.
"""

import math
import re
import shutil
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path

import m3u8
from django.utils.translation import gettext as _

from ..errors import Cancelled, EncodeError
from ..ffmpeg.commands import PLAYLIST_NAME, AudioFilter, hls_ladder_command
from ..ffmpeg.ladder import Variant, audio_renditions, plan_variants, video_only
from ..ffmpeg.probe import ProbeResult
from ..ffmpeg.runner import check_run, run_ffmpeg
from . import master_playlist
from .audio_tracks import media_line
from .contract import ProgressCallback
from .iframes import write_iframe_playlists
from .profiles import ChunkPolicy, HlsProfile

DEFAULT_WORKERS = 2  # ffmpeg processes at once on one machine; each x264 runs its own threads
CHUNKS_DIR = "chunks"  # under the work folder: chunk_000/<variant>/…, removed once joined
AUDIO_GROUP_PREFIX = "aac"
# Share of the progress bar the audio gets: AAC at a few rates costs a few per cent of an x264 ladder.
AUDIO_PROGRESS_SHARE = 0.05
POLL_SECONDS = 0.5  # how often the calling thread reports progress while the pool works

RunChunk = Callable[["Chunk", list[str]], None]


@dataclass(frozen=True)
class Chunk:
    """One slice of the source, [start, end) in seconds; its first segment is number ``first_segment``."""

    index: int
    start: float
    end: float
    first_segment: int = 0

    @property
    def length(self) -> float:
        return self.end - self.start


# --- Planning --------------------------------------------------------------------------------------------


def should_chunk(*, probe: ProbeResult, policy: ChunkPolicy) -> bool:
    """Only video is worth cutting: the audio-only ladder is cheap in one piece."""
    return probe.has_video and probe.duration > policy.min_source_seconds


def chunk_plan(*, duration: float, policy: ChunkPolicy, segment_seconds: float) -> list[Chunk]:
    """Chunks of ``policy.chunk_seconds`` rounded to whole segments; the last takes the remainder.

    A tail shorter than one segment (e.g. audio running a frame past the video) joins the chunk before it
    rather than making a process for a sliver. Boundaries are computed in whole segments, so no float
    drift moves them off the segment grid.
    """
    per_chunk = max(1, round(policy.chunk_seconds / segment_seconds))
    starts = list(range(0, max(1, math.ceil(duration / segment_seconds - 1e-9)), per_chunk))
    if len(starts) > 1 and duration - starts[-1] * segment_seconds < segment_seconds:
        starts.pop()
    ends = [first * segment_seconds for first in starts[1:]] + [duration]
    return [
        Chunk(index, first * segment_seconds, end, first)
        for index, (first, end) in enumerate(zip(starts, ends, strict=True))
    ]


def audio_group_id(bitrate: int) -> str:
    return f"{AUDIO_GROUP_PREFIX}-{bitrate // 1000}k"


# --- Commands (pure) -------------------------------------------------------------------------------------


def chunk_dir(work_dir: Path, chunk: Chunk) -> Path:
    return work_dir / CHUNKS_DIR / f"chunk_{chunk.index:03d}"


def chunk_commands(
    *,
    source: Path,
    probe: ProbeResult,
    profile: HlsProfile,
    work_dir: Path,
    policy: ChunkPolicy,
    encoder: str = "libx264",
) -> list[tuple[Chunk, list[str]]]:
    """One video-only ladder command per chunk, each writing ``<work_dir>/chunks/chunk_NNN/<variant>/``."""
    chunks = chunk_plan(duration=probe.duration, policy=policy, segment_seconds=profile.segment_seconds)
    common = {"source": source, "probe": probe, "profile": profile, "work_dir": work_dir, "encoder": encoder}
    variants = video_only(plan_variants(profile, probe))
    return [
        (chunk, chunk_command(chunk=chunk, last=chunk is chunks[-1], variants=variants, **common)) for chunk in chunks
    ]


def chunk_command(
    *,
    chunk: Chunk,
    last: bool,
    source: Path,
    probe: ProbeResult,
    profile: HlsProfile,
    variants: list[Variant],
    work_dir: Path,
    encoder: str = "libx264",
) -> list[str]:
    """The video ladder of one slice, on the source's timeline; the last one runs to the end of the video.

    Every chunk of one ladder must use the same encoder (the join needs byte-identical init segments).
    """
    return hls_ladder_command(
        profile=profile,
        probe=probe,
        source=source,
        out_dir=chunk_dir(work_dir, chunk),
        variants=variants,
        start=chunk.start,
        # No -t on the last chunk: the container's duration may end a hair before the last frame.
        length=None if last else chunk.length,
        first_segment=chunk.first_segment,
        source_timeline=True,
        encoder=encoder,
    )


def audio_command(
    *,
    source: Path,
    probe: ProbeResult,
    profile: HlsProfile,
    out_dir: Path,
    audio_filters: Sequence[AudioFilter] = (),
) -> list[str] | None:
    """Every audio rendition in one piece, straight into ``out_dir/<rendition>/``; None without audio."""
    renditions = audio_renditions(plan_variants(profile, probe))
    if not renditions:
        return None
    return hls_ladder_command(
        profile=profile,
        probe=probe,
        source=source,
        out_dir=out_dir,
        variants=renditions,
        source_timeline=True,  # the same timeline as the video chunks: both start at 0, no shift
        audio_filters=audio_filters,
    )


# --- Joining (no encoding) -------------------------------------------------------------------------------


def join_media_playlists(texts: list[str]) -> str:
    """One VOD media playlist from the chunks' playlists, in order.

    Headers and the ``EXT-X-MAP`` come from the first chunk (every chunk's init segment is the same, see
    ``join_chunks``), the segments from all, ``EXT-X-ENDLIST`` once. A chunk whose media sequence does not
    continue the one before (a wrong ``-start_number``) would reuse segment names: refused.
    """
    playlists = [m3u8.loads(text) for text in texts]
    joined = playlists[0]
    init = joined.segments[0].init_section if joined.segments else None
    expected = (joined.media_sequence or 0) + len(joined.segments)
    for playlist in playlists[1:]:
        if (playlist.media_sequence or 0) != expected:
            raise ValueError(f"chunk playlist starts at segment {playlist.media_sequence}, expected {expected}")
        for segment in playlist.segments:
            segment.init_section = init
            joined.segments.append(segment)
        expected += len(playlist.segments)
    joined.target_duration = max(playlist.target_duration or 0 for playlist in playlists)
    joined.is_endlist = True
    return joined.dumps()


def join_chunks(*, chunks: list[Chunk], variants: list[Variant], work_dir: Path, out_dir: Path) -> None:
    """Per video variant: move every chunk's segments into ``out_dir/<variant>/`` and write one playlist."""
    for variant in variants:
        folders = [chunk_dir(work_dir, chunk) / variant.name for chunk in chunks]
        texts = [(folder / PLAYLIST_NAME).read_text() for folder in folders]
        target = out_dir / variant.name
        target.mkdir(parents=True, exist_ok=True)
        init = m3u8.loads(texts[0]).segment_map[0].uri
        _check_same_init(folders, init, variant)
        shutil.copyfile(folders[0] / init, target / init)
        for folder, text in zip(folders, texts, strict=True):
            for segment in m3u8.loads(text).segments:
                # A rename where the work folder shares the disk (the usual case); a copy where it does not.
                shutil.move(folder / segment.uri, target / segment.uri)
        (target / PLAYLIST_NAME).write_text(join_media_playlists(texts))


def _check_same_init(folders: list[Path], init: str, variant: Variant) -> None:
    # One EXT-X-MAP serves every chunk's segments only if all chunks wrote the same codec configuration
    # (SPS/PPS, timescale, edit list). The same x264 with the same settings does, byte for byte; a worker
    # with another ffmpeg build might not, and its segments would then decode wrongly.
    first = (folders[0] / init).read_bytes()
    for index, folder in enumerate(folders[1:], start=1):
        if (folder / init).read_bytes() != first:
            raise EncodeError(_("分段转码的结果无法拼接，系统将自动重试"), f"{variant.name}: chunk {index}")


# --- Master playlist for the demuxed layout -------------------------------------------------------------


def write_master(
    out_dir: Path,
    variants: list[Variant],
    *,
    frame_rate: float,
    channels: int,
    subtitles: Sequence[master_playlist.SubtitleMedia] = (),
    iframes: bool = False,
    tracks: Sequence = (),
    alternatives: Sequence[master_playlist.VariantStats] = (),
) -> list[master_playlist.VariantStats]:
    """``master_playlist.write_master`` for the demuxed layout; ``variants`` is the plan (``plan_variants``).

    Every number is measured on disk with ``master_playlist.measure_variant``. A video variant's BANDWIDTH is its own
    plus its audio rendition's (RFC 8216 4.3.4.2: the peak of everything that plays together). ``tracks`` and
    ``alternatives``: the master's audio tracks and the measured alternatives (``audio_tracks.py``), in one order.
    """
    audio = _audio_stats(out_dir, variants, frame_rate=frame_rate)
    stats = []
    for variant in variants:
        if variant.has_video:
            video = master_playlist.measure_variant(
                out_dir / variant.name, replace(variant, audio_bitrate=0), frame_rate=frame_rate
            )
            stats.append(_with_audio(video, audio.get(variant.audio_bitrate), variant))
        else:
            stats.append(audio[variant.audio_bitrate])
    iframe_stats = write_iframe_playlists(out_dir, video_only(variants)) if iframes else []
    text = master_playlist.master_playlist(stats, subtitles=subtitles, iframe_stats=iframe_stats)
    text = with_audio_groups(
        text, stats=stats, audio=list(audio.values()), channels=channels, tracks=tracks, alternatives=alternatives
    )
    (out_dir / master_playlist.MASTER_NAME).write_text(text)
    return stats


def _audio_stats(
    out_dir: Path, variants: list[Variant], *, frame_rate: float
) -> dict[int, master_playlist.VariantStats]:
    renditions = audio_renditions(variants)
    measured = [master_playlist.measure_variant(out_dir / a.name, a, frame_rate=frame_rate) for a in renditions]
    return {item.variant.audio_bitrate: item for item in measured}


def _with_audio(
    video: master_playlist.VariantStats, audio: master_playlist.VariantStats | None, planned: Variant
) -> master_playlist.VariantStats:
    if audio is None:
        return video
    return master_playlist.VariantStats(
        variant=planned,
        peak_bandwidth=video.peak_bandwidth + audio.peak_bandwidth,
        average_bandwidth=video.average_bandwidth + audio.average_bandwidth,
        codecs=f"{video.codecs},{audio.codecs}",
        frame_rate=video.frame_rate,
    )


def with_audio_groups(
    master: str,
    *,
    stats: list[master_playlist.VariantStats],
    audio: list[master_playlist.VariantStats],
    channels: int,
    tracks: Sequence = (),
    alternatives: Sequence[master_playlist.VariantStats] = (),
) -> str:
    """Add the audio renditions to a master ``master_playlist.master_playlist`` wrote, and ``AUDIO=`` to video variants.

    Done on the text so ``master_playlist.py`` (subtitles, I-frame streams) stays the one writer of everything else.
    With several audio tracks (``tracks``, main first) every group also lists the alternatives, and a variant's
    BANDWIDTH grows by what the biggest alternative's peak is above its group's own.
    """
    with_audio = [item for item in stats if item.variant.has_video and item.variant.has_audio]
    groups = {item.uri: audio_group_id(item.variant.audio_bitrate) for item in with_audio}
    own_peak = {audio_group_id(item.variant.audio_bitrate): item.peak_bandwidth for item in audio}
    alt_peak = max((item.peak_bandwidth for item in alternatives), default=0)
    lines = master.splitlines()
    for index, line in enumerate(lines[:-1]):
        group = groups.get(lines[index + 1]) if line.startswith("#EXT-X-STREAM-INF:") else None
        if group:
            extra = max(0, alt_peak - own_peak.get(group, 0))
            line = re.sub(
                r"^(#EXT-X-STREAM-INF:BANDWIDTH=)(\d+)", lambda m, extra=extra: f"{m[1]}{int(m[2]) + extra}", line
            )
            lines[index] = f'{line},AUDIO="{group}"'
    # Renditions go before the first rendition or variant line, i.e. right after the playlist's header tags.
    first = next((i for i, line in enumerate(lines) if line.startswith(("#EXT-X-MEDIA:", "#EXT-X-STREAM-INF:"))), None)
    at = len(lines) if first is None else first
    lines[at:at] = [
        line
        for item in audio
        for line in audio_media_lines(item, channels=channels, tracks=tracks, alternatives=alternatives)
    ]
    return "\n".join(lines) + "\n"


def audio_media_lines(
    item: master_playlist.VariantStats, *, channels: int, tracks: Sequence = (), alternatives: Sequence = ()
) -> list[str]:
    """One group: its own rendition (the default one), then the master's other audio tracks, if any."""
    rate = item.variant.audio_bitrate
    if not tracks:
        return [
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{audio_group_id(rate)}",NAME="AAC {rate // 1000}k",'
            f'DEFAULT=YES,AUTOSELECT=YES,CHANNELS="{channels}",URI="{item.uri}"'
        ]
    uris = [item.uri, *(alternative.uri for alternative in alternatives)]
    return [
        media_line(track, group=audio_group_id(rate), channels=channels, uri=uri)
        for track, uri in zip(tracks, uris, strict=True)
    ]


# --- Running ----------------------------------------------------------------------------------------------


def encode_chunked(
    *,
    source: Path,
    probe: ProbeResult,
    profile: HlsProfile,
    out_dir: Path,
    policy: ChunkPolicy,
    run_chunk: RunChunk | None = None,
    workers: int = DEFAULT_WORKERS,
    work_dir: Path | None = None,
    on_progress: ProgressCallback | None = None,
    audio_filters: Sequence[AudioFilter] = (),
) -> list[Chunk]:
    """Encode the audio and every chunk (``workers`` chunks at once), then join the chunks into ``out_dir``.

    ``run_chunk(chunk, args)`` runs one chunk's command and raises on failure; by default ``run_ffmpeg``
    here. The audio always runs here, beside the chunks. ``on_progress`` is called from THIS thread only
    (the job engine writes the database from it); returning False stops every ffmpeg and raises Cancelled.
    Afterwards write the master with ``write_master``.
    """
    if not probe.has_video:
        raise ValueError("chunked encoding is for video sources")
    work_dir = work_dir or out_dir
    commands = chunk_commands(source=source, probe=probe, profile=profile, work_dir=work_dir, policy=policy)
    audio_args = audio_command(
        source=source, probe=probe, profile=profile, out_dir=out_dir, audio_filters=audio_filters
    )
    chunks = [chunk for chunk, _args in commands]
    progress = _Progress(
        {**{chunk.index: chunk.length for chunk, _args in commands}, "audio": _audio_weight(probe, audio_args)}
    )
    jobs: list[Callable[[], None]] = []
    if audio_args:
        jobs.append(lambda: _run_local(audio_args, probe.duration, progress.reporter("audio")))
    for chunk, args in commands:
        jobs.append(_chunk_job(chunk, args, run_chunk, progress))
    _run_all(jobs, workers=workers + (1 if audio_args else 0), progress=progress, on_progress=on_progress)
    join_chunks(chunks=chunks, variants=video_only(plan_variants(profile, probe)), work_dir=work_dir, out_dir=out_dir)
    shutil.rmtree(work_dir / CHUNKS_DIR, ignore_errors=True)
    return chunks


def _audio_weight(probe: ProbeResult, audio_args: list[str] | None) -> float:
    return probe.duration * AUDIO_PROGRESS_SHARE if audio_args else 0.0


def _chunk_job(chunk: Chunk, args: list[str], run_chunk: RunChunk | None, progress: "_Progress"):
    report = progress.reporter(chunk.index)
    if run_chunk is None:
        return lambda: _run_local(args, chunk.length, report)

    def job() -> None:
        if progress.cancelled.is_set():
            raise Cancelled()
        run_chunk(chunk, args)
        report(1.0)

    return job


def _run_local(args: list[str], duration: float, report: ProgressCallback) -> None:
    check_run(run_ffmpeg(args, duration=duration, on_progress=report))


def _run_all(
    jobs: list[Callable[[], None]], *, workers: int, progress: "_Progress", on_progress: ProgressCallback | None
) -> None:
    """Run the jobs on a pool; report from this thread; on the first failure stop the rest and raise it."""
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="chunk") as pool:
        futures = [pool.submit(job) for job in jobs]
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_EXCEPTION)
            if on_progress is not None and on_progress(progress.fraction()) is False:
                progress.cancelled.set()
            if progress.cancelled.is_set() or any(f.exception() for f in done):
                progress.cancelled.set()  # the running ffmpegs see it at their next progress line
                for future in pending:
                    future.cancel()
                break
    _raise_first_error(futures)


def _raise_first_error(futures: list[Future]) -> None:
    # The failure that started it all, not the Cancelled it caused in the other jobs.
    errors = [f.exception() for f in futures if not f.cancelled() and f.exception() is not None]
    real = [error for error in errors if not isinstance(error, Cancelled)]
    if real:
        raise real[0]
    if errors or any(f.cancelled() for f in futures):
        raise Cancelled()


class _Progress:
    """Progress of jobs running at once, each weighted by the seconds it encodes; one cancel flag for all."""

    def __init__(self, weights: dict):
        self._weights = weights
        self._done = dict.fromkeys(weights, 0.0)
        self._lock = threading.Lock()
        self.cancelled = threading.Event()

    def reporter(self, key) -> ProgressCallback:
        def report(fraction: float) -> bool:
            with self._lock:
                self._done[key] = fraction
            return not self.cancelled.is_set()

        return report

    def fraction(self) -> float:
        total = sum(self._weights.values())
        with self._lock:
            done = sum(self._done[key] * weight for key, weight in self._weights.items())
        return done / total if total else 0.0


# --- Speed-up model --------------------------------------------------------------------------------------


def chunked_speedup(*, workers: int, chunks: int, chunk_cost: float, join_cost: float, audio_cost: float) -> float:
    """One-process time over chunked wall time (Amdahl-style), for the benchmark to print next to its measure.

    One process does it all in turn: chunks × chunk_cost + audio_cost. Chunked: the audio runs beside the
    chunks, which go ``workers`` at a time, then the join: max(audio, ⌈chunks/workers⌉ × chunk_cost) + join.
    Costs in any one unit (seconds of wall time one process takes). Assumes the machine has a core per worker
    and chunks of equal cost.
    """
    serial = chunks * chunk_cost + audio_cost
    wall = max(audio_cost, math.ceil(chunks / max(1, workers)) * chunk_cost) + join_cost
    return serial / wall if wall > 0 else 1.0
