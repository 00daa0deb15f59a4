"""The access-control seams of the pipeline's files: playback, and which image files local disk serves unsigned.

media_pipeline knows nothing of library items or members' rights. The library plugs its rules in with settings:
``MEDIA_PLAYBACK_ACCESS_CHECK = "library.<module>.<function>"``, a function ``(*, user, asset) -> bool``. Unset,
nobody may play anything: a deployment that forgot the rule must fail closed, not serve every unit's video to the
world (tests of the pipeline on its own plug in ``allow_all``).
``MEDIA_IMAGE_PUBLIC_CHECK``, a function ``(*, name) -> bool``: whether a Wagtail image file (an original or a
rendition) may be served without a signature. Unset, every image is public, as Wagtail has it.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from .models import MediaAsset


def playback_allowed(*, user, asset: MediaAsset) -> bool:
    check_path = getattr(settings, "MEDIA_PLAYBACK_ACCESS_CHECK", "")
    if not check_path:
        return False
    return bool(import_string(check_path)(user=user, asset=asset))


def allow_all(*, user, asset: MediaAsset) -> bool:
    """A rule that lets everyone play everything: for a pipeline without a library (its own tests)."""
    return True


def image_file_public(*, name: str) -> bool:
    check_path = getattr(settings, "MEDIA_IMAGE_PUBLIC_CHECK", "")
    return True if not check_path else bool(import_string(check_path)(name=name))
