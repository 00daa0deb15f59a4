"""Stored screen, TV and audio renditions carry the SHA-256 of their bytes (a player verifies its cached copy)."""

import hashlib

from django.core.files.storage import default_storage

from media_pipeline.jobs.publishing import store_outputs
from media_pipeline.steps.contract import Output


def test_single_file_screen_renditions_carry_the_sha256_of_what_was_stored(tmp_path, local_media):
    """screen_*, tv_1080p and audio_* single files get ``meta["sha256"]`` equal to the stored bytes' digest; an HLS
    ladder (many files) and other profiles get none (nobody caches them whole)."""
    files = {"screen_portrait.mp4": b"portrait bytes", "tv_1080p.mp4": b"tv", "audio_m4a.m4a": b"sound"}
    for name, content in {**files, "hls/master.m3u8": b"#EXTM3U", "hls/a.ts": b"ts", "poster.jpg": b"jpg"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    outputs = [
        Output(profile="screen_portrait", kind="mp4", path="screen_portrait.mp4"),
        Output(profile="tv_1080p", kind="mp4", path="tv_1080p.mp4"),
        Output(profile="audio_m4a", kind="audio", path="audio_m4a.m4a"),
        Output(profile="tv_1080p_hls", kind="hls", path="hls/master.m3u8", files=("hls/master.m3u8", "hls/a.ts")),
        Output(profile="poster", kind="poster", path="poster.jpg"),
    ]
    store_outputs(outputs=outputs, out_dir=tmp_path, prefix="renditions/1/2", keep_lease=lambda: None)
    for output in outputs[:3]:
        with default_storage.open(f"renditions/1/2/{output.path}") as stored:
            assert output.meta["sha256"] == hashlib.sha256(stored.read()).hexdigest()
    assert "sha256" not in outputs[3].meta and "sha256" not in outputs[4].meta
