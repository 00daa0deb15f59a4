"""System checks of the media pipeline: tell an operator plainly when ffmpeg or ffprobe is missing or too old."""

import re
import shutil
import subprocess

from django.conf import settings
from django.core.checks import Error, register

MIN_FFMPEG = (5, 1)
# Filters the pipeline cannot do without: HDR masters (phones record them by default) are tone-mapped to SDR with
# zscale (libzimg) and tonemap (``ffmpeg/colour.py``); an ffmpeg built without them fails every HDR upload.
REQUIRED_FILTERS = ("zscale", "tonemap")


def _missing_filters(binary: str) -> list[str]:
    out = subprocess.run([binary, "-hide_banner", "-filters"], capture_output=True, text=True, timeout=10).stdout
    present = {fields[1] for fields in (line.split() for line in out.splitlines()) if len(fields) > 1}
    return [name for name in REQUIRED_FILTERS if name not in present]


def _tool_version(binary: str) -> tuple[int, int] | None:
    out = subprocess.run([binary, "-version"], capture_output=True, text=True, timeout=10).stdout
    match = re.search(r"version n?(\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else None


@register("lighthouse")
def check_media_tools(app_configs, **kwargs):
    problems = []
    for setting in ("FFMPEG_BINARY", "FFPROBE_BINARY"):
        binary = getattr(settings, setting)
        if not shutil.which(binary):
            problems.append(
                Error(
                    f"找不到 {binary}（{setting}），无法转码音视频。",
                    hint="在 Debian 上运行 `apt-get install ffmpeg`，或用 "
                    f"{setting} 指向 ffmpeg {MIN_FFMPEG[0]}.{MIN_FFMPEG[1]} 及以上版本。",
                    id="lighthouse.E001",
                )
            )
            continue
        version = _tool_version(binary)
        if version is not None and version < MIN_FFMPEG:
            problems.append(
                Error(
                    f"{binary} 版本 {version[0]}.{version[1]} 过旧，需要 {MIN_FFMPEG[0]}.{MIN_FFMPEG[1]} 及以上。",
                    id="lighthouse.E002",
                )
            )
        if setting == "FFMPEG_BINARY" and (missing := _missing_filters(binary)):
            problems.append(
                Error(
                    f"{binary} 缺少滤镜 {'、'.join(missing)}，HDR 视频（手机默认拍摄的格式）无法转成标准动态范围。",
                    hint="使用带 libzimg 的 ffmpeg（Debian 的 ffmpeg 软件包自带）。",
                    id="lighthouse.E003",
                )
            )
    return problems
