"""The four-rung web ladder: our whole pipeline vs hand-written ffmpeg, measured side by side in one run.

On a generated 1080p25 clip with audio (``BENCH_SECONDS``, default 20 s; the issue's figures used 60 s):

(a) a hand-written decode-once ffmpeg command (split + scale ×4, x264 veryfast ×4, AAC, HLS fMP4 with
    ``-var_stream_map``), written out literally below and NOT built by ``commands.py``;
(b) one ffmpeg process per rung, one after another, each decoding the source itself;
(c) our pipeline for the ladder group: upload (``only_groups=["ladder"]``), the analyse job (probe, loudness
    pass 1) and the ladder job (encode with loudnorm pass 2, master and I-frame playlists, verification with
    ffprobe and ebur128, storing every file), broken down by phase;
(d) decoding alone, the cost (b) pays three extra times.

All sides make the same outputs: HLS_WEB's four largest rungs (each with its AAC track) plus the audio-only
rung. For (c) the registry's ``hls_web`` is swapped, in this process only, for that four-rung copy.
``BENCH_REPEATS`` runs (a)–(c) several times, interleaved (a b c, c b a, …), and reports medians: use it on a
shared machine, where the other load moves wall times more than anything measured here.
"""

import os
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcode_common import (
    Cost,
    PhaseTimer,
    bench_seconds,
    cores,
    fresh_dir,
    load,
    machine_line,
    measure,
    median,
    ratio,
    run_tool,
    setup_django,
    verdict,
)

# The hand-written reference's rungs: (name, width, height, video bits/s, audio bits/s). Checked against
# HLS_WEB at start, so a profile change shows up here instead of silently comparing different ladders.
RUNGS = (
    ("1080p", 1920, 1080, 6_000_000, 128_000),
    ("720p", 1280, 720, 3_000_000, 128_000),
    ("540p", 960, 540, 2_000_000, 128_000),
    ("360p", 640, 360, 730_000, 96_000),
)
AUDIO_ONLY = ("audio", 64_000)
QUIET = ["-hide_banner", "-nostats", "-loglevel", "error", "-y"]
# x264 and HLS settings as HLS_WEB asks for them: 2 s closed GOPs at 25 fps, no scene-cut keyframes, 6 s
# fMP4 segments. Shared by (a) and (b).
X264 = [
    "-c:v", "libx264", "-profile:v", "high", "-preset", "veryfast",
    "-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-flags", "+cgop",
    "-force_key_frames", "expr:gte(t,n_forced*2)",
]  # fmt: skip
AAC = ["-c:a", "aac", "-ar", "48000", "-ac", "2"]


def hls_options() -> list[str]:
    return [
        "-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4",
        "-hls_flags", "independent_segments", "-hls_fmp4_init_filename", "init.mp4",
    ]  # fmt: skip


def hand_written_ladder(*, ffmpeg: str, source: Path, out: Path) -> list[str]:
    """(a): decode once, split four ways, every rung and the audio-only rung from one process."""
    return [
        ffmpeg, *QUIET, "-i", str(source),
        "-filter_complex",
        "[0:v:0]split=4[v0][v1][v2][v3];"
        "[v0]scale=1920:1080,setsar=1,format=yuv420p[v1080];"
        "[v1]scale=1280:720,setsar=1,format=yuv420p[v720];"
        "[v2]scale=960:540,setsar=1,format=yuv420p[v540];"
        "[v3]scale=640:360,setsar=1,format=yuv420p[v360];"
        "[0:a:0]aresample=48000,asplit=5[a0][a1][a2][a3][a4]",
        "-map", "[v1080]", "-map", "[a0]", "-map", "[v720]", "-map", "[a1]",
        "-map", "[v540]", "-map", "[a2]", "-map", "[v360]", "-map", "[a3]", "-map", "[a4]",
        *X264,
        "-b:v:0", "6000000", "-maxrate:v:0", "6600000", "-bufsize:v:0", "12000000",
        "-b:v:1", "3000000", "-maxrate:v:1", "3300000", "-bufsize:v:1", "6000000",
        "-b:v:2", "2000000", "-maxrate:v:2", "2200000", "-bufsize:v:2", "4000000",
        "-b:v:3", "730000", "-maxrate:v:3", "803000", "-bufsize:v:3", "1460000",
        *AAC,
        "-b:a:0", "128000", "-b:a:1", "128000", "-b:a:2", "128000", "-b:a:3", "96000", "-b:a:4", "64000",
        *hls_options(),
        "-hls_segment_filename", f"{out}/%v/seg_%05d.m4s",
        "-var_stream_map", "v:0,a:0,name:1080p v:1,a:1,name:720p v:2,a:2,name:540p v:3,a:3,name:360p a:4,name:audio",
        f"{out}/%v/index.m3u8",
    ]  # fmt: skip


def per_rung_commands(*, ffmpeg: str, source: Path, out: Path) -> list[list[str]]:
    """(b): one process per rung, each decoding the whole source; the audio-only rung is a fifth."""
    commands = []
    for name, width, height, video, audio in RUNGS:
        commands.append([
            ffmpeg, *QUIET, "-i", str(source), "-map", "0:v:0", "-map", "0:a:0",
            "-vf", f"scale={width}:{height},setsar=1,format=yuv420p", *X264,
            "-b:v", str(video), "-maxrate", str(int(video * 1.1)), "-bufsize", str(video * 2),
            *AAC, "-b:a", str(audio), *hls_options(),
            "-hls_segment_filename", f"{out}/{name}/seg_%05d.m4s", f"{out}/{name}/index.m3u8",
        ])  # fmt: skip
    name, audio = AUDIO_ONLY
    commands.append([
        ffmpeg, *QUIET, "-i", str(source), "-map", "0:a:0", *AAC, "-b:a", str(audio), *hls_options(),
        "-hls_segment_filename", f"{out}/{name}/seg_%05d.m4s", f"{out}/{name}/index.m3u8",
    ])  # fmt: skip
    return commands


def run_hand_written(ffmpeg: str, source: Path, out: Path) -> Cost:
    fresh_dir(out)
    with measure() as cost:
        run_tool(hand_written_ladder(ffmpeg=ffmpeg, source=source, out=out))
    _check_outputs(out)
    return cost


def run_per_rung(ffmpeg: str, source: Path, out: Path) -> Cost:
    fresh_dir(out)
    for name, *_rest in (*RUNGS, AUDIO_ONLY):
        (out / name).mkdir()
    with measure() as cost:
        for command in per_rung_commands(ffmpeg=ffmpeg, source=source, out=out):
            run_tool(command)
    _check_outputs(out)
    return cost


def _check_outputs(out: Path) -> None:
    names = sorted(p.parent.name for p in out.glob("*/index.m3u8"))
    expected = sorted(name for name, *_rest in (*RUNGS, AUDIO_ONLY))
    if names != expected:
        raise RuntimeError(f"{out}: expected playlists for {expected}, found {names}")


def phase_timer() -> PhaseTimer:
    """Wrap the pipeline's parts, so one run of the real jobs also says where their time goes."""
    from media_pipeline.ffmpeg import loudness
    from media_pipeline.jobs import analysis, producers, publishing, verify
    from media_pipeline.steps import master_playlist, web_hls

    timer = PhaseTimer()
    timer.wrap(analysis, "probe_file", "probe (ffprobe)")
    timer.wrap(loudness, "loudness_measure", "loudness pass 1 (loudnorm analysis)")
    timer.wrap(web_hls, "run_ffmpeg", "ladder encode (incl. loudnorm pass 2)")
    timer.wrap(master_playlist, "write_master", "master + I-frame playlists (measured)")
    timer.wrap(producers, "verify_outputs", "verify (playlists, ffprobe, ebur128)")
    timer.wrap(verify, "run_ffmpeg", "  of which ebur128 on the audio rung")
    timer.wrap(publishing, "store_outputs", "store renditions")
    return timer


def run_pipeline(source: Path, timer: PhaseTimer) -> dict:
    """Upload, then run the analyse job and the ladder job in this process, as a worker would."""
    from django.core.files import File

    from media_pipeline.services import media_asset_create, transcode_job_run

    with source.open("rb") as handle, measure() as upload:
        asset = media_asset_create(file=File(handle, name="bench.mp4"), options={"only_groups": ["ladder"]})
    analyse_job = asset.transcode_jobs.get(group="analyse")
    with measure() as analyse:
        done = transcode_job_run(job_id=analyse_job.pk, worker_id="bench")
    _check_done(done)
    analyse_phases = timer.take()
    ladder_job = asset.transcode_jobs.get(group="ladder")
    with measure() as ladder:
        done = transcode_job_run(job_id=ladder_job.pk, worker_id="bench")
    _check_done(done)
    asset.refresh_from_db()
    result = {
        "upload": upload,
        "analyse": analyse,
        "ladder": ladder,
        "analyse_phases": analyse_phases,
        "ladder_phases": timer.take(),
        "loudness": (asset.probe or {}).get("loudness"),
    }
    asset.delete()  # a repeat uploads the same bytes: without this it would reuse the finished asset
    return result


def _check_done(job) -> None:
    if job is None or job.state != "done":
        raise RuntimeError(f"pipeline job did not finish: {getattr(job, 'state', None)} {getattr(job, 'error', '')}")


def loudnorm_pass2_cost(ffmpeg: str, source: Path, measured: dict | None) -> tuple[Cost, Cost] | None:
    """The audio chain alone, with and without loudnorm pass 2: the extra the pipeline's encode carries."""
    if not measured:
        return None
    loudnorm = (
        f"loudnorm=I=-16:TP=-1.5:LRA=11:measured_I={measured['input_i']:.2f}:measured_TP={measured['input_tp']:.2f}"
        f":measured_LRA={max(measured['input_lra'], 0.01):.2f}:measured_thresh={measured['input_thresh']:.2f}"
        f":offset={measured['target_offset']:.2f}:linear=true"
    )
    costs = []
    for chain in ("aformat=channel_layouts=stereo,aresample=48000", f"aformat=channel_layouts=stereo,{loudnorm}"):
        with measure() as cost:
            run_tool([ffmpeg, *QUIET, "-i", str(source), "-map", "0:a:0", "-af", chain, "-f", "null", "-"])
        costs.append(cost)
    return costs[0], costs[1]


def median_cost(costs: list[Cost]) -> Cost:
    return Cost(median([c.wall for c in costs]), median([c.cpu for c in costs]))


def median_phases(runs: list[dict[str, Cost]]) -> dict[str, Cost]:
    names = list(dict.fromkeys(name for run in runs for name in run))
    return {name: median_cost([run.get(name, Cost()) for run in runs]) for name in names}


def main() -> None:
    seconds = bench_seconds(20)
    repeats = max(1, int(os.environ.get("BENCH_REPEATS", "1")))
    var = setup_django(prefix="lh-bench-ladder-")
    from django.conf import settings

    from media_pipeline.ffmpeg.probe import probe_file
    from media_pipeline.steps import profiles
    from media_pipeline.synthetic.media import make_clip

    four = replace(profiles.HLS_WEB, video_rungs=profiles.HLS_WEB.video_rungs[:4])
    profile_rungs = tuple((r.name, r.width, r.height, r.video_bitrate, r.audio_bitrate) for r in four.video_rungs)
    if profile_rungs != RUNGS or four.audio_rungs[0].audio_bitrate != AUDIO_ONLY[1]:
        raise SystemExit(f"HLS_WEB's rungs changed ({profile_rungs}); update RUNGS so both sides match")
    ffmpeg = settings.FFMPEG_BINARY
    print(machine_line())
    print(f"making the source: {seconds:g} s 1920x1080p25 testsrc2 + 440 Hz tone …", flush=True)
    source = make_clip(var / "source.mp4", size="1920x1080", seconds=seconds)
    duration = probe_file(source).duration

    original = profiles.PROFILES["hls_web"]
    profiles.PROFILES["hls_web"] = four  # this process only: the pipeline encodes the same four rungs
    timer = phase_timer()
    hand, rungs, pipes = [], [], []
    try:
        for index in range(repeats):
            sides = [
                lambda: hand.append(run_hand_written(ffmpeg, source, var / "hand")),
                lambda: rungs.append(run_per_rung(ffmpeg, source, var / "rungs")),
                lambda: pipes.append(run_pipeline(source, timer)),
            ]
            # a b c, then c b a: on a shared machine the load drifts, and the reversed order cancels a steady drift.
            for side in sides if index % 2 == 0 else reversed(sides):
                side()
            print(f"  round {index + 1}/{repeats} done, load average {load()}", flush=True)
    finally:
        timer.restore()
        profiles.PROFILES["hls_web"] = original
    with measure() as decode:
        run_tool([ffmpeg, *QUIET, "-i", str(source), "-map", "0:v:0", "-f", "null", "-"])
    pass2 = loudnorm_pass2_cost(ffmpeg, source, pipes[-1]["loudness"])
    report(
        duration=duration,
        repeats=repeats,
        hand=median_cost(hand),
        rungs=median_cost(rungs),
        upload=median_cost([p["upload"] for p in pipes]),
        analyse=median_cost([p["analyse"] for p in pipes]),
        ladder=median_cost([p["ladder"] for p in pipes]),
        analyse_phases=median_phases([p["analyse_phases"] for p in pipes]),
        ladder_phases=median_phases([p["ladder_phases"] for p in pipes]),
        decode=decode,
        pass2=pass2,
    )


def report(*, duration, repeats, hand, rungs, upload, analyse, ladder, analyse_phases, ladder_phases, decode, pass2):
    whole = upload + analyse + ladder
    n = cores()
    print(
        f"source {duration:.1f} s 1920x1080p25 with AAC (the issue's figures used 60 s: BENCH_SECONDS=60); "
        f"{'median of ' + str(repeats) + ' rounds' if repeats > 1 else 'one round'}"
    )
    print("ladder: 1080p 720p 540p 360p (AAC each) + audio-only 64k; x264 veryfast; HLS fMP4, 6 s segments\n")
    print(f"{'':52s}{'wall':>9s}{'CPU':>14s}")
    _row("(a) hand-written decode-once ffmpeg", hand)
    _row("(b) one ffmpeg per rung, in turn (4 + audio-only)", rungs)
    _row("(c) our pipeline, whole", whole)
    _row("    upload (hash, store the master)", upload)
    _row("    analyse job", analyse)
    for name, cost in analyse_phases.items():
        _row(f"      {name}", cost)
    _row("    ladder job", ladder)
    for name, cost in ladder_phases.items():
        _row(f"      {name}", cost)
    measured = sum((c for k, c in ladder_phases.items() if not k.startswith("  ")), Cost())
    _row(
        "      bookkeeping (claim, leases, states, rows)", Cost(ladder.wall - measured.wall, ladder.cpu - measured.cpu)
    )
    _row("(d) decoding the source alone", decode)
    if pass2:
        plain, normalised = pass2
        _row("    audio chain alone, without loudnorm", plain)
        _row("    audio chain alone, with loudnorm pass 2", normalised)
    encode = ladder_phases.get("ladder encode (incl. loudnorm pass 2)", Cost())
    extra = analyse.wall + ladder.wall - encode.wall + upload.wall
    print(
        f"\nloudness and checks: the analyse job took {analyse.wall:.2f} s ({ratio(analyse.wall, whole.wall):.0%} "
        f"of the pipeline's wall); everything but the ladder encode took {extra:.2f} s "
        f"({ratio(extra, whole.wall):.0%}); the encode itself ran {encode.wall - hand.wall:+.2f} s / "
        f"{encode.cpu - hand.cpu:+.2f} CPU-s against (a)."
    )

    w = ratio(whole.cpu, duration)
    ceiling = ratio(n, w)
    achieved = ratio(ratio(duration, whole.wall), ceiling)
    print("\nfigures")
    wall_ratio = ratio(whole.wall, hand.wall)
    print(f"  pipeline ÷ hand-written wall:       {wall_ratio:.2f}×  ({verdict(wall_ratio, at_most=1.10)})")
    print(f"    ladder job alone ÷ hand-written:  {ratio(ladder.wall, hand.wall):.2f}×")
    cpu_saving = ratio(rungs.cpu, ladder.cpu)
    print(f"  per-rung CPU ÷ pipeline ladder CPU: {cpu_saving:.2f}×  ({verdict(cpu_saving, at_least=1.25)})")
    print(f"    per-rung CPU ÷ whole pipeline:    {ratio(rungs.cpu, whole.cpu):.2f}×")
    print(
        f"    per-rung ÷ hand-written CPU:      {ratio(rungs.cpu, hand.cpu):.2f}×  (extra decodes: "
        f"{rungs.cpu - hand.cpu:.1f} CPU-s measured, 3 × decode = {3 * decode.cpu:.1f} CPU-s)"
    )
    print(f"  W = pipeline CPU-s per source s:    {w:.2f}  (hand-written: {ratio(hand.cpu, duration):.2f})")
    print(f"  cores ÷ W (real-time ceiling):      {ceiling:.2f}× real time on {n} cores")
    print(f"  achieved fraction of cores ÷ W:     {achieved:.0%}  ({verdict(achieved, at_least=0.90)})")
    hand_fraction = ratio(hand.cpu, hand.wall * n)
    print(f"    the hand-written command's:       {hand_fraction:.0%}  (what this machine's load left to one job)")
    print(f"    pipeline's ÷ hand-written's:      {ratio(achieved, hand_fraction):.0%}")
    print(
        "reference (issue, 60 s, ffmpeg 5.1, 2 cores): decode-once ~54 s / ~105 CPU-s; four processes ~70 s / "
        "~134 CPU-s (1.28× the CPU); decoding alone ~12 CPU-s"
    )


def _row(label: str, cost: Cost) -> None:
    print(f"{label:52s}{cost.wall:7.2f} s{cost.cpu:9.2f} CPU-s")


if __name__ == "__main__":
    sys.exit(main())
