"""Which module makes each profile's outputs, how a group's steps share its progress, and which check
each output must pass before it is published."""

from dataclasses import replace

from django.utils.module_loading import import_string

from ..steps.contract import Output, StepContext
from ..steps.profiles import (
    PROFILES,
    AudioEditionProfile,
    CardProfile,
    DocumentProfile,
    HlsProfile,
    JobGroup,
    PosterProfile,
    ScreenProfile,
    SpriteProfile,
    TvProfile,
)

# Profile class → its step. The step is named by its dotted path, so a module (and the native libraries it
# loads, such as PDFium) is imported only by the workers that run it.
PRODUCERS: dict[type, str] = {
    HlsProfile: "media_pipeline.steps.web_hls.produce",
    TvProfile: "media_pipeline.steps.tv.produce",
    ScreenProfile: "media_pipeline.steps.screens.produce",
    AudioEditionProfile: "media_pipeline.steps.audio_edition.produce",
    PosterProfile: "media_pipeline.steps.images.produce",
    CardProfile: "media_pipeline.steps.images.produce",
    SpriteProfile: "media_pipeline.steps.images.produce",
    DocumentProfile: "media_pipeline.steps.documents.step.produce",
}


def run_group(*, group: JobGroup, ctx: StepContext, reporter) -> list[Output]:
    """Run each profile of the group in turn; ``reporter(start, share)`` gives a step its progress callback."""
    profiles = [PROFILES[name] for name in group.profiles]
    outputs: list[Output] = []
    for index, profile in enumerate(profiles):
        produce = import_string(PRODUCERS[type(profile)])
        step_ctx = replace(ctx, on_progress=reporter(index / len(profiles), 1 / len(profiles)))
        outputs += produce(step_ctx, profile)
    return outputs


def verify_outputs(*, outputs: list[Output], ctx: StepContext, keep_alive=None) -> None:
    """Every output is checked on local disk before anything is stored (see ``verify.py``); ``keep_alive`` is
    called as the checks go (loudness is measured over the whole programme)."""
    from .verify import verify_output

    for output in outputs:
        verify_output(output=output, ctx=replace(ctx, on_progress=keep_alive or ctx.on_progress))
