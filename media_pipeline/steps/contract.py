"""The contract between the job engine and the modules that make outputs.

A *step* is ``produce(ctx, profile) -> list[Output]``: it runs its commands (built by pure functions and
executed with ``ffmpeg.runner.run_ffmpeg``) into ``ctx.out_dir`` and describes what it wrote. It never touches the
database or storage: the job engine (``services.py``) claims jobs, renews leases from ``ctx.on_progress``,
verifies the outputs, stores every file, and only then creates Rendition rows from the Outputs.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..ffmpeg.probe import ProbeResult

# Called with this step's progress 0..1; returns False when the job was cancelled or taken over, and the
# step must stop (``runner.check_run`` turns the runner's ``cancelled`` flag into ``errors.Cancelled``).
ProgressCallback = Callable[[float], bool]


@dataclass(frozen=True)
class CaptionTrack:
    """A caption file the editor attached to the asset, downloaded to a local path for the job."""

    language: str  # BCP 47, e.g. "zh-Hans"
    label: str  # shown in the player's menu, e.g. "中文"
    path: Path  # SRT or WebVTT
    default: bool = False


@dataclass(frozen=True)
class LoudnessMeasurement:
    """What pass one of ``loudnorm`` measured on the source (its ``print_format=json`` output)."""

    input_i: float  # integrated loudness, LUFS
    input_tp: float  # true peak, dBTP
    input_lra: float  # loudness range, LU
    input_thresh: float  # gating threshold, LUFS
    target_offset: float = 0.0
    # A gain applied before loudnorm, in pass 1 and pass 2 alike; not 0 only for a master too hot for loudnorm
    # to measure as it is (``loudness.measuring_pre_gain_db``). The values above describe the audio after it.
    pre_gain_db: float = 0.0


@dataclass(frozen=True)
class StepContext:
    source: Path  # the master, on local disk
    probe: ProbeResult | None  # None for documents (PDF, EPUB), which ffprobe does not describe
    out_dir: Path  # write outputs here (a step uses its own sub-folder, named after its profile)
    work_dir: Path  # scratch space, removed after the job
    on_progress: ProgressCallback = lambda fraction: True
    loudness: LoudnessMeasurement | None = None  # measured once per job when the source has audio
    captions: tuple[CaptionTrack, ...] = ()
    options: dict = field(default_factory=dict)  # per-item choices, e.g. {"portrait_fill": "crop", "focal_x": 0.3}
    # For the ladder of a long source: spreads chunks over other workers (jobs.chunks.ChunkCoordinator). None: the
    # step encodes every chunk on this machine.
    chunks: object | None = None


@dataclass(frozen=True)
class Output:
    """One rendition as written under ``out_dir``; every file under ``files`` is stored with it."""

    profile: str  # profile name (a profile may give several outputs, e.g. "tv_1080p" and "tv_1080p_hls")
    kind: str  # Rendition.Kind value: hls, mp4, audio, poster, image, sprite, captions, pages, text
    path: str  # main file, relative to out_dir (POSIX): the master playlist, or the file itself
    files: tuple[str, ...] = ()  # every file of the rendition, relative to out_dir; empty = just ``path``
    width: int | None = None
    height: int | None = None
    bandwidth: int | None = None  # peak bits per second, where it means something
    duration: float | None = None
    meta: dict = field(default_factory=dict)  # anything else a player or check needs (JSON-serialisable)

    def all_files(self) -> tuple[str, ...]:
        return self.files or (self.path,)
