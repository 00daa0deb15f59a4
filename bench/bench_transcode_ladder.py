"""Whole transcode job through our pipeline vs raw ffmpeg running the very same ladder command.

The ratio is the pipeline's overhead (probe, lease bookkeeping, master playlist, poster, storing every file).
Runs on the embedded default in a temporary var/ so it touches nothing of yours.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SECONDS = int(os.environ.get("BENCH_SECONDS", "30"))


def main() -> None:
    var = Path(tempfile.mkdtemp(prefix="lh-bench-"))
    for key in ("DATABASE_URL", "REDIS_URL", "S3_BUCKET", "SEARCH_URL"):
        os.environ.pop(key, None)
    os.environ.update(LIGHTHOUSE_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="cms.settings.dev")
    import django

    django.setup()
    from django.conf import settings
    from django.core.files import File
    from django.core.management import call_command

    from media_pipeline.commands import hls_ladder_command
    from media_pipeline.probe import probe_file
    from media_pipeline.profiles import PROFILES
    from media_pipeline.selectors import transcode_job_latest
    from media_pipeline.services import media_asset_create, transcode_job_run
    from media_pipeline.synthetic import make_clip

    call_command("migrate", verbosity=0)
    source = make_clip(var / "source.mp4", size="1280x720", seconds=SECONDS)

    out = var / "raw"
    out.mkdir()
    command = hls_ladder_command(profile=PROFILES["hls_web"], probe=probe_file(source), source=source, out_dir=out)
    started = time.perf_counter()
    subprocess.run([settings.FFMPEG_BINARY, *command], check=True, capture_output=True)
    raw = time.perf_counter() - started

    with source.open("rb") as handle:
        asset = media_asset_create(file=File(handle, name="bench.mp4"))
    started = time.perf_counter()
    job = transcode_job_run(job_id=transcode_job_latest(asset=asset).pk, worker_id="bench")
    ours = time.perf_counter() - started
    assert job.state == "done", job.error

    print(f"source {SECONDS} s 1280x720p25; ladder {len(list(out.glob('*/')))} outputs")
    print(f"raw ffmpeg ladder command: {raw:.2f} s   our whole job: {ours:.2f} s   ratio {ours / raw:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
