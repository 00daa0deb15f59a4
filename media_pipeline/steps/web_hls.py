"""The phone/web step: the whole adaptive ladder from one ffmpeg process, captions as WebVTT subtitle
renditions, I-frame playlists for trick play, and our own master playlist naming them all. A master with several
audio tracks gets its other tracks as alternative audio renditions (``audio_tracks.py``).

Sources longer than the chunk policy's threshold are cut into chunks (``chunked_ladder.py``) that every heavy
worker helps encode (``jobs/chunks.py``, through ``ctx.chunks``), with the audio in one piece, joined without
encoding again.
"""

import time
from dataclasses import replace
from pathlib import Path

from django.conf import settings

from ..errors import Cancelled
from ..ffmpeg.commands import hls_ladder_command
from ..ffmpeg.encoders import encoder_in_force
from ..ffmpeg.ladder import plan_variants, video_only
from ..ffmpeg.loudness import loudness_filters
from ..ffmpeg.runner import check_run, run_ffmpeg
from . import audio_tracks, captions, chunked_ladder, master_playlist
from .contract import Output, StepContext
from .profiles import CAPTIONS, CHUNKING, ChunkPolicy, HlsProfile

CAPTIONS_SHARE = 0.05  # of this step's progress; the ladder encode is the rest
ALTERNATIVES_SHARE = 0.05  # of this step's progress, when the master has other audio tracks
AUDIO_SHARE = 0.05  # of a chunked encode: one AAC pass next to a whole x264 ladder
WAIT_SECONDS = 1.0  # how often the coordinator looks at chunks other workers hold


def chunk_policy() -> ChunkPolicy:
    """profiles.CHUNKING, unless the deployment set MEDIA_CHUNK_MIN_SECONDS / MEDIA_CHUNK_SECONDS."""
    return ChunkPolicy(
        min_source_seconds=settings.MEDIA_CHUNK_MIN_SECONDS or CHUNKING.min_source_seconds,
        chunk_seconds=settings.MEDIA_CHUNK_SECONDS or CHUNKING.chunk_seconds,
    )


def produce(ctx: StepContext, profile: HlsProfile) -> list[Output]:
    probe = ctx.probe
    hls_dir = ctx.out_dir / profile.name
    filters = loudness_filters(
        target=profile.loudness,
        measured=ctx.loudness,
        source_channels=probe.audio_channels,
        output_channels=profile.audio_channels,
    )
    others = audio_tracks.alternatives(probe) if probe.has_audio and profile.audio else []
    ladder_share = 1 - CAPTIONS_SHARE - (ALTERNATIVES_SHARE if others else 0)
    encode_progress = _part(ctx, 0.0, ladder_share)
    policy = chunk_policy()
    chunked = chunked_ladder.should_chunk(probe=probe, policy=policy)
    if chunked:
        _encode_chunked(ctx, profile, hls_dir, filters, policy, encode_progress)
    else:
        args = hls_ladder_command(
            profile=profile,
            probe=probe,
            source=ctx.source,
            out_dir=hls_dir,
            audio_filters=filters,
            encoder=encoder_in_force(),
        )
        check_run(run_ffmpeg(args, duration=probe.duration, on_progress=encode_progress))
    offered = (
        audio_tracks.encode_alternatives(
            source=ctx.source,
            probe=probe,
            profile=profile,
            out_dir=hls_dir,
            chunked=chunked,
            on_progress=_part(ctx, ladder_share, ALTERNATIVES_SHARE),
        )
        if others
        else []
    )
    caption_outputs = _captions(ctx, profile)
    stats = _write_master(ctx, profile, hls_dir, caption_outputs, chunked, offered)
    top = next((s for s in stats if s.variant.has_video), stats[0])
    master = Output(
        profile=profile.name,
        kind="hls",
        path=f"{profile.name}/{master_playlist.MASTER_NAME}",
        files=_files_under(ctx.out_dir, hls_dir),
        width=top.variant.width or None,
        height=top.variant.height or None,
        bandwidth=max(s.peak_bandwidth for s in stats),
        duration=probe.duration,
        meta={
            "variants": [s.variant.name for s in stats],
            "captions": [o.meta["language"] for o in caption_outputs],
            "chunked": chunked,
            # Other audio tracks of the master, offered in the master's audio group (verify checks each).
            "audio_tracks": [
                {"uri": track.uri, "name": track.name, "language": track.language, "normalised": normalised}
                for track, normalised in offered
            ],
        },
    )
    return [master, *caption_outputs]


def _write_master(ctx: StepContext, profile: HlsProfile, hls_dir: Path, caption_outputs, chunked: bool, offered):
    probe = ctx.probe
    options = {
        "frame_rate": min(probe.fps, profile.max_frame_rate),
        "subtitles": captions.subtitle_media(caption_outputs, master_dir=profile.name),
        "iframes": profile.iframe_playlists and probe.has_video,
    }
    variants = plan_variants(profile, probe)
    alternatives = [
        master_playlist.measure_variant(
            hls_dir / track.folder,
            audio_tracks.alternative_variant(profile, probe, track),
            frame_rate=options["frame_rate"],
        )
        for track, _normalised in offered
    ]
    tracks = audio_tracks.plan_tracks(probe) if offered else []
    if chunked:
        return chunked_ladder.write_master(
            hls_dir,
            variants,
            channels=profile.audio_channels,
            tracks=tracks,
            alternatives=alternatives,
            **options,
        )
    stats = master_playlist.write_master(hls_dir, variants, **options)
    if tracks:
        master = hls_dir / master_playlist.MASTER_NAME
        alt_peak = max(item.peak_bandwidth for item in alternatives)
        master.write_text(
            audio_tracks.with_muxed_alternatives(
                master.read_text(), tracks=tracks, alt_peak=alt_peak, channels=profile.audio_channels
            )
        )
    return stats


def _encode_chunked(ctx: StepContext, profile: HlsProfile, hls_dir: Path, filters, policy, report) -> None:
    probe = ctx.probe
    if ctx.chunks is None:  # no job engine around (a benchmark, a script): every chunk on this machine
        chunked_ladder.encode_chunked(
            source=ctx.source,
            probe=probe,
            profile=profile,
            out_dir=hls_dir,
            policy=policy,
            work_dir=ctx.work_dir,
            on_progress=report,
            audio_filters=filters,
        )
        return
    coordinator = ctx.chunks
    commands = chunked_ladder.chunk_commands(
        source=ctx.source,
        probe=probe,
        profile=profile,
        work_dir=ctx.work_dir,
        policy=policy,
        encoder=encoder_in_force(),
    )
    args_by_index = {chunk.index: args for chunk, args in commands}
    chunks = [chunk for chunk, _args in commands]
    coordinator.start(chunks)

    def overall(done_here: float = 0.0) -> float:
        return AUDIO_SHARE + (1 - AUDIO_SHARE) * (coordinator.done_seconds() + done_here) / probe.duration

    audio = chunked_ladder.audio_command(
        source=ctx.source, probe=probe, profile=profile, out_dir=hls_dir, audio_filters=filters
    )
    if audio:
        check_run(run_ffmpeg(audio, duration=probe.duration, on_progress=lambda f: report(AUDIO_SHARE * f)))
    while True:
        chunk = coordinator.claim_next()
        if chunk is not None:

            def chunk_progress(fraction: float, chunk=chunk) -> bool:
                coordinator.renew(chunk)
                return report(overall(fraction * chunk.length))

            check_run(run_ffmpeg(args_by_index[chunk.index], duration=chunk.length, on_progress=chunk_progress))
            coordinator.finish_local(chunk, chunked_ladder.chunk_dir(ctx.work_dir, chunk))
            continue
        if coordinator.remaining() == 0:
            break
        if report(overall()) is False:
            raise Cancelled()
        time.sleep(WAIT_SECONDS)
    coordinator.fetch(ctx.work_dir)
    chunked_ladder.join_chunks(
        chunks=chunks, variants=video_only(plan_variants(profile, probe)), work_dir=ctx.work_dir, out_dir=hls_dir
    )  # the stored chunks stay until the job has published (the engine deletes them then)


def _captions(ctx: StepContext, profile: HlsProfile) -> list[Output]:
    if not profile.captions:
        return []
    # Attached files first, then the master's own text subtitle streams (an MKV's SRT, an MP4's mov_text).
    tracks = (*ctx.captions, *captions.embedded_tracks(ctx, CAPTIONS))
    if not tracks:
        return []
    report = _part(ctx, 1 - CAPTIONS_SHARE, CAPTIONS_SHARE)
    outputs = captions.produce(replace(ctx, captions=tracks, on_progress=report), CAPTIONS)
    # One rendition row per language (a job publishes each profile name once).
    return [replace(output, profile=f"{CAPTIONS.name}_{output.meta['language']}") for output in outputs]


def _part(ctx: StepContext, start: float, share: float):
    return lambda fraction: ctx.on_progress(start + fraction * share)


def _files_under(out_dir: Path, folder: Path) -> tuple[str, ...]:
    return tuple(sorted(p.relative_to(out_dir).as_posix() for p in folder.rglob("*") if p.is_file()))
