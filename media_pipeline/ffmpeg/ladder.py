"""Which variants a source gets from an HLS profile (pure: profile + probe in, plan out)."""

from dataclasses import dataclass, replace

from ..steps.profiles import HlsProfile, VideoRung
from .probe import ProbeResult


@dataclass(frozen=True)
class Variant:
    """One HLS variant stream as it will be encoded; width/height are 0 for audio-only variants."""

    name: str
    width: int
    height: int
    video_bitrate: int
    audio_bitrate: int  # 0: no audio track in this variant

    @property
    def has_video(self) -> bool:
        return self.video_bitrate > 0

    @property
    def has_audio(self) -> bool:
        return self.audio_bitrate > 0


def plan_variants(profile: HlsProfile, probe: ProbeResult) -> list[Variant]:
    """Video rungs first (largest to smallest), then audio-only rungs."""
    with_audio = profile.audio and probe.has_audio
    variants = _video_variants(profile, probe, with_audio) if probe.has_video else []
    if with_audio:
        variants += [Variant(rung.name, 0, 0, 0, rung.audio_bitrate) for rung in profile.audio_rungs]
    return variants


def _video_variants(profile: HlsProfile, probe: ProbeResult, with_audio: bool) -> list[Variant]:
    source_short = min(probe.width, probe.height)
    rungs = sorted(profile.video_rungs, key=lambda rung: rung.short_side, reverse=True)
    # Never upscale: a rung taller than the source (by its short side) adds bytes, not detail.
    fitting = [rung for rung in rungs if rung.short_side <= source_short]
    if fitting:
        sized = [(rung, *scaled_size(probe.width, probe.height, rung.short_side)) for rung in fitting]
    else:
        # Smaller than the smallest rung: keep that rung's bitrates, at the source's own (even) size.
        smallest = rungs[-1]
        sized = [(smallest, *scaled_size(probe.width, probe.height, source_short))]
    return [_video_variant(rung, width, height, with_audio) for rung, width, height in sized]


def _video_variant(rung: VideoRung, width: int, height: int, with_audio: bool) -> Variant:
    return Variant(rung.name, width, height, rung.video_bitrate, rung.audio_bitrate if with_audio else 0)


def scaled_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """Scale so the short side is ``short_side``, keeping the shape; H.264 4:2:0 needs even sizes."""
    if width >= height:
        return _even(width * short_side / height), _even(short_side)
    return _even(short_side), _even(height * short_side / width)


def fit_within(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """Largest even size of the same shape inside the box, never larger than the source."""
    scale = min(1.0, max_width / width, max_height / height)
    return _even(width * scale), _even(height * scale)


def _even(value: float) -> int:
    # Round down: an odd source size must not become one pixel larger than the source.
    return max(2, int(value + 1e-6) // 2 * 2)


# --- Demuxed layout (chunked encoding): video rungs without audio, audio renditions on their own ---------


def video_only(variants: list[Variant]) -> list[Variant]:
    """The video variants with their audio taken out (it is encoded once, apart, in ``audio_renditions``)."""
    return [replace(v, audio_bitrate=0) for v in variants if v.has_video]


def audio_renditions(variants: list[Variant]) -> list[Variant]:
    """One audio-only stream per distinct audio bitrate in the plan, highest first.

    A video rung keeps the audio bitrate the profile gave it (a weak-network rung does not pull 128 kbps
    of audio); rungs that share a bitrate share one rendition. An audio-only rung of that bitrate lends
    its name (so the audio-only variant of a muxed ladder keeps its folder); others are named after it.
    """
    named = {v.audio_bitrate: v.name for v in variants if v.has_audio and not v.has_video}
    bitrates = sorted({v.audio_bitrate for v in variants if v.has_audio}, reverse=True)
    return [Variant(named.get(rate, f"audio_{rate // 1000}k"), 0, 0, 0, rate) for rate in bitrates]
