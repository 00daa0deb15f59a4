"""The chunked ladder: ``chunked_ladder.chunked_speedup``'s model for N workers next to what this machine measures.

On a generated 640x360p25 clip with audio (3 × ``BENCH_SECONDS``, default 60 s), the web ladder's rungs that
fit (360p, 234p, plus the audio-only rung), chunks of 12 s (``ChunkPolicy(min_source_seconds=0, ...)``):

- reference: the whole ladder in one ffmpeg process (``hls_ladder_command``, muxed audio);
- the parts, one at a time: each chunk's video ladder, the audio in one piece, the join (no encoding): they
  give the model its chunk, audio and join costs;
- ``encode_chunked`` with 1 and 2 local workers (the audio always runs beside the chunks).

The model assumes a core (or a machine) per worker. Here every x264 process already spreads over all the
machine's cores, so the measured two-worker gain is bounded by what one process leaves idle.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcode_common import (
    Cost,
    bench_seconds,
    cores,
    fresh_dir,
    machine_line,
    measure,
    ratio,
    setup_django,
)

CHUNK_SECONDS = 12.0
MODEL_WORKERS = (1, 2, 4, 8, 16)
MEASURED_WORKERS = (1, 2)


def single_process(source: Path, probe, profile, out: Path) -> Cost:
    from media_pipeline.ffmpeg.commands import hls_ladder_command
    from media_pipeline.ffmpeg.runner import check_run, run_ffmpeg

    args = hls_ladder_command(profile=profile, probe=probe, source=source, out_dir=fresh_dir(out))
    with measure() as cost:
        check_run(run_ffmpeg(args, duration=probe.duration))
    return cost


def parts_one_at_a_time(source: Path, probe, profile, policy, work: Path) -> tuple[list[tuple], Cost, Cost]:
    """Every chunk alone, then the audio alone, then the join: ([(chunk, cost)], audio cost, join cost)."""
    from media_pipeline.ffmpeg.ladder import plan_variants, video_only
    from media_pipeline.ffmpeg.runner import check_run, run_ffmpeg
    from media_pipeline.steps import chunked_ladder

    fresh_dir(work)
    chunks = []
    for chunk, args in chunked_ladder.chunk_commands(
        source=source, probe=probe, profile=profile, work_dir=work, policy=policy
    ):
        with measure() as cost:
            check_run(run_ffmpeg(args, duration=chunk.length))
        chunks.append((chunk, cost))
    out = work / "out"
    audio_args = chunked_ladder.audio_command(source=source, probe=probe, profile=profile, out_dir=out)
    with measure() as audio:
        check_run(run_ffmpeg(audio_args, duration=probe.duration))
    variants = video_only(plan_variants(profile, probe))
    with measure() as join:
        chunked_ladder.join_chunks(chunks=[c for c, _cost in chunks], variants=variants, work_dir=work, out_dir=out)
    return chunks, audio, join


def chunked(source: Path, probe, profile, policy, out: Path, workers: int) -> Cost:
    from media_pipeline.steps.chunked_ladder import encode_chunked

    fresh_dir(out)
    with measure() as cost:
        encode_chunked(source=source, probe=probe, profile=profile, out_dir=out, policy=policy, workers=workers)
    return cost


def main() -> None:
    seconds = 3 * bench_seconds(20)
    var = setup_django(prefix="lh-bench-chunked-", migrate=False)
    from media_pipeline.ffmpeg.ladder import plan_variants
    from media_pipeline.ffmpeg.probe import probe_file
    from media_pipeline.steps.chunked_ladder import chunked_speedup
    from media_pipeline.steps.profiles import HLS_WEB, ChunkPolicy
    from media_pipeline.synthetic.media import make_clip

    print(machine_line())
    print(f"making the source: {seconds:g} s 640x360p25 testsrc2 + 440 Hz tone …", flush=True)
    source = make_clip(var / "source.mp4", size="640x360", seconds=seconds)
    probe = probe_file(source)
    policy = ChunkPolicy(min_source_seconds=0, chunk_seconds=CHUNK_SECONDS)
    single = single_process(source, probe, HLS_WEB, var / "single")
    parts, audio, join = parts_one_at_a_time(source, probe, HLS_WEB, policy, var / "parts")
    measured = {n: chunked(source, probe, HLS_WEB, policy, var / f"chunked{n}", n) for n in MEASURED_WORKERS}

    chunk_cost = sum(cost.wall for _chunk, cost in parts) / len(parts)
    serial = sum((cost for _chunk, cost in parts), Cost()) + audio
    rungs = " ".join(v.name for v in plan_variants(HLS_WEB, probe))
    print(
        f"\nsource {probe.duration:.1f} s 640x360p25 with AAC; ladder {rungs}; {CHUNK_SECONDS:g} s chunks → "
        f"{len(parts)} chunk(s)\n"
    )
    print(f"{'':48s}{'wall':>9s}{'CPU':>14s}")
    _row("one process, whole ladder (muxed audio)", single)
    for chunk, cost in parts:
        _row(f"  chunk {chunk.index} [{chunk.start:g}–{chunk.end:g} s), alone", cost)
    _row("  audio renditions in one piece, alone", audio)
    _row("  join (move segments, join playlists)", join)
    _row("  parts in turn (the model's one-process time)", serial)
    for workers, cost in measured.items():
        _row(f"encode_chunked, {workers} local worker{'s' if workers > 1 else ''} + audio", cost)

    print(
        f"\nmodel: chunked_speedup(chunks={len(parts)}, chunk_cost={chunk_cost:.2f}, "
        f"audio_cost={audio.wall:.2f}, join_cost={join.wall:.2f}) — costs in wall seconds of one process"
    )
    print(
        f"{'workers':>8s}{'model ×':>10s}{'model wall':>12s}{'measured':>11s}{'× vs parts':>12s}"
        f"{'× vs one process':>18s}"
    )
    for workers in MODEL_WORKERS:
        speedup = chunked_speedup(
            workers=workers, chunks=len(parts), chunk_cost=chunk_cost, join_cost=join.wall, audio_cost=audio.wall
        )
        line = f"{workers:8d}{speedup:9.2f}×{serial.wall / speedup:10.2f} s"
        if workers in measured:
            wall = measured[workers].wall
            line += f"{wall:9.2f} s{ratio(serial.wall, wall):11.2f}×{ratio(single.wall, wall):17.2f}×"
        print(line)
    n = cores()
    floor = serial.cpu / n
    print(
        f"\non this {n}-core machine the parts need {serial.cpu:.1f} CPU-s, so no number of local workers can beat "
        f"{floor:.2f} s wall ({ratio(serial.wall, floor):.2f}× the parts in turn): one x264 process already keeps "
        f"{ratio(serial.cpu, serial.wall):.2f} of {n} cores busy. The measured 2-worker gain is small for that "
        "reason; the model's figures for 4–16 workers assume a core or a machine per worker (chunks handed to "
        "other machines' workers through the task queue)."
    )


def _row(label: str, cost: Cost) -> None:
    print(f"{label:48s}{cost.wall:7.2f} s{cost.cpu:9.2f} CPU-s")


if __name__ == "__main__":
    sys.exit(main())
