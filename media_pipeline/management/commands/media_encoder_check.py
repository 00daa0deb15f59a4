"""Which H.264 encoder this machine uses, and (where NVENC works) the TV profile on both encoders side by side.

What to run on a GPU machine to check the hardware path: ``manage.py media_encoder_check``. It prints the
setting, the capability probe's answer and the encoder in force; when NVENC works it encodes a generated
1080p clip with the TV profile on x264 and on NVENC and prints each one's wall time and what ffprobe sees.
"""

import json
import subprocess
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from media_pipeline.ffmpeg import encoders
from media_pipeline.ffmpeg.probe import ffprobe_json, probe_file
from media_pipeline.ffmpeg.runner import check_run, run_ffmpeg
from media_pipeline.steps.profiles import TV_1080P
from media_pipeline.steps.tv import tv_mp4_command
from media_pipeline.synthetic.media import make_clip

# The stream facts that show both encoders keep the same contract (High, level 40, 4:2:0, 25p, the rate).
SUMMARY_FIELDS = ("codec_name", "profile", "level", "pix_fmt", "width", "height", "avg_frame_rate", "bit_rate")


class Command(BaseCommand):
    help = "显示当前使用的视频编码器（x264 或 NVENC）；NVENC 可用时用电视版配置分别编码一段 1080p 测试片并比较"

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=10.0, help="测试片长度（秒）")

    def handle(self, *args, seconds: float = 10.0, **options):
        encoders.clear_cache()  # a fresh probe, whatever this process cached before
        failure = encoders.nvenc_failure()
        self.stdout.write(f"MEDIA_VIDEO_ENCODER: {encoders.configured_encoder()}")
        self.stdout.write(f"NVENC probe: {'works' if failure is None else f'unavailable ({failure})'}")
        self.stdout.write(f"encoder in force: {encoders.encoder_in_force()}")
        if failure is not None:
            return
        with tempfile.TemporaryDirectory() as folder:
            source = make_clip(Path(folder) / "source.mp4", size="1920x1080", seconds=seconds)
            probe = probe_file(source)
            for encoder in encoders.VIDEO_ENCODERS:
                out = Path(folder) / f"{encoder}.mp4"
                args = tv_mp4_command(
                    profile=TV_1080P, probe=probe, source=source, out_path=out, loudness=None, encoder=encoder
                )
                started = time.monotonic()
                check_run(run_ffmpeg(args, duration=probe.duration))
                self.stdout.write(f"{encoder}: {time.monotonic() - started:.1f} s wall; {_summary(out)}")


def _summary(path: Path) -> str:
    video = next(s for s in ffprobe_json(path)["streams"] if s.get("codec_type") == "video")
    facts = ", ".join(f"{name}={video.get(name)}" for name in SUMMARY_FIELDS)
    return f"{facts}, keyframes at {_keyframe_times(path)}"


def _keyframe_times(path: Path) -> str:
    """Presentation times of the keyframes: one per second (the TV GOP) when forced keyframes are IDR."""
    args = [settings.FFPROBE_BINARY, "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey"]
    args += ["-show_entries", "frame=pts_time", "-of", "json", str(path)]
    frames = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)["frames"]
    return " ".join(f"{float(frame['pts_time']):g}" for frame in frames)
