"""Which module makes each profile's outputs, how a group's steps share its progress, and which check
each output must pass before it is published."""

from dataclasses import replace

from django.utils.module_loading import import_string

from .profiles import PROFILES, JobGroup
from .steps import Output, StepContext

# Profile type → its step. Strings, so a module is imported only by the workers that run it.
PRODUCERS = {
    "HlsProfile": "media_pipeline.web_hls.produce",
    "TvProfile": "media_pipeline.tv.produce",
    "ScreenProfile": "media_pipeline.screens.produce",
    "AudioEditionProfile": "media_pipeline.audio_edition.produce",
    "PosterProfile": "media_pipeline.images.produce",
    "CardProfile": "media_pipeline.images.produce",
    "SpriteProfile": "media_pipeline.images.produce",
    "DocumentProfile": "media_pipeline.documents.produce",
}


def run_group(*, group: JobGroup, ctx: StepContext, reporter) -> list[Output]:
    """Run each profile of the group in turn; ``reporter(start, share)`` gives a step its progress callback."""
    profiles = [PROFILES[name] for name in group.profiles]
    outputs: list[Output] = []
    for index, profile in enumerate(profiles):
        produce = import_string(PRODUCERS[type(profile).__name__])
        step_ctx = replace(ctx, on_progress=reporter(index / len(profiles), 1 / len(profiles)))
        outputs += produce(step_ctx, profile)
    return outputs


def verify_outputs(*, outputs: list[Output], ctx: StepContext, keep_alive=None) -> None:
    """Every output is checked on local disk before anything is stored (see verify.py); ``keep_alive`` is
    called as the checks go (loudness is measured over the whole programme)."""
    from .verification import verify_output

    for output in outputs:
        verify_output(output=output, ctx=replace(ctx, on_progress=keep_alive or ctx.on_progress))
