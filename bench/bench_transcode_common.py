"""Shared by the transcode benchmarks (not a benchmark itself: ``run.py`` skips ``*_common``).

Each benchmark runs on the embedded defaults (SQLite, local files, database task queue) in a temporary var/
so it touches nothing of yours, and measures wall time and CPU time (this process plus every child it has
waited for: ffmpeg, ffprobe, worker processes) of each thing it compares.
"""

import atexit
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Services a developer may have configured (the benchmarks must never write to them), and settings that would
# change what is measured (the GPU encoder, chunking a short source): every run measures the defaults.
SERVICE_VARIABLES = (
    *("DATABASE_URL", "REDIS_URL", "S3_BUCKET", "SEARCH_URL", "SQLITE_PATH", "MEDIA_ROOT", "MEDIA_WORK_DIR"),
    *("MEDIA_VIDEO_ENCODER", "MEDIA_CHUNK_MIN_SECONDS", "MEDIA_CHUNK_SECONDS"),
)
SETTINGS = "cms.settings.dev"


def bench_seconds(default: float = 20) -> float:
    """Source length in seconds (``BENCH_SECONDS``); short by default so ``make bench`` stays quick."""
    return float(os.environ.get("BENCH_SECONDS", default))


def cores() -> int:
    """Cores this process may run on (a container's limit, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def isolated_env(var: Path) -> dict[str, str]:
    """The environment for this process and any ``manage.py`` child: a private var/, no external services."""
    env = {key: value for key, value in os.environ.items() if key not in SERVICE_VARIABLES}
    env.update(LIGHTHOUSE_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE=SETTINGS)
    return env


def setup_django(*, prefix: str, migrate: bool = True) -> Path:
    """Point Django at a fresh temporary var/ (migrated unless asked not to) and return that folder."""
    var = remove_at_exit(Path(tempfile.mkdtemp(prefix=prefix)))
    for key in SERVICE_VARIABLES:
        os.environ.pop(key, None)
    os.environ.update(isolated_env(var))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    return var


def remove_at_exit(path: Path) -> Path:
    """Sources and renditions take hundreds of megabytes: gone when the benchmark ends, unless BENCH_KEEP=1."""
    if os.environ.get("BENCH_KEEP"):
        print(f"(keeping {path})")
    else:
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@dataclass
class Cost:
    """Wall seconds and CPU seconds (user + system, this process and its reaped children) of one measurement."""

    wall: float = 0.0
    cpu: float = 0.0

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.wall + other.wall, self.cpu + other.cpu)

    def __str__(self) -> str:
        return f"{self.wall:7.2f} s wall {self.cpu:7.2f} CPU-s"


def _cpu_now() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@contextmanager
def measure() -> Iterator[Cost]:
    """``with measure() as cost: ...``; ``cost`` is filled in when the block ends."""
    cost = Cost()
    wall, cpu = time.perf_counter(), _cpu_now()
    try:
        yield cost
    finally:
        cost.wall, cost.cpu = time.perf_counter() - wall, _cpu_now() - cpu


@dataclass
class PhaseTimer:
    """Adds up the cost of every call to the functions it wraps, per phase name (for breakdowns)."""

    phases: dict[str, Cost] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # phase names in the order they were wrapped
    _undo: list = field(default_factory=list)

    def wrap(self, module, name: str, phase: str) -> None:
        original = getattr(module, name)

        def timed(*args, **kwargs):
            with measure() as cost:
                result = original(*args, **kwargs)
            self.phases[phase] = self.phases.get(phase, Cost()) + cost
            return result

        setattr(module, name, timed)
        self.order.append(phase)
        self._undo.append((module, name, original))

    def restore(self) -> None:
        for module, name, original in reversed(self._undo):
            setattr(module, name, original)
        self._undo.clear()

    def take(self) -> dict[str, Cost]:
        """The phases measured so far, in wrapping order; the timer starts again from zero."""
        phases, self.phases = self.phases, {}
        return {name: phases[name] for name in self.order if name in phases}


def run_tool(args: list[str]) -> None:
    """Run a command to completion (stdin closed); on failure show the end of its log."""
    done = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr[-2000:]}")


def machine_line() -> str:
    """What the figures were measured on: cores, ffmpeg version, load (the machine may be shared)."""
    from django.conf import settings

    version = subprocess.run([settings.FFMPEG_BINARY, "-version"], capture_output=True, text=True).stdout
    first = version.splitlines()[0] if version else "ffmpeg ?"
    return f"machine: {cores()} cores, {' '.join(first.split()[:3])}, load average {load()}"


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("nan")


def verdict(value: float, *, at_most: float | None = None, at_least: float | None = None) -> str:
    if at_most is not None:
        return f"aim ≤ {at_most:.2f}: {'met' if value <= at_most else 'NOT met'}"
    return f"aim ≥ {at_least:.2f}: {'met' if value >= at_least else 'NOT met'}"
