"""The access-control seams of the pipeline's files: playback, and which image files local disk serves unsigned.

media_pipeline knows nothing of library items or members' rights. The library plugs its rules in with settings:
``MEDIA_PLAYBACK_ACCESS_CHECK = "library.<module>.<function>"``, a function ``(*, user, asset) -> bool``, and
``MEDIA_IMAGE_PUBLIC_CHECK``, a function ``(*, name) -> bool``: whether a Wagtail image file (an original or a
rendition) may be served without a signature. Both fail closed: a deployment that forgot a rule must refuse, not
serve every unit's video or every issue's page images to the world. Unset, nobody may play anything and every image
file needs a signed URL (tests of the pipeline on its own plug in ``allow_all``).
"""

from django.conf import settings
from django.utils.module_loading import import_string

from ..models import MediaAsset


def playback_allowed(*, user, asset: MediaAsset) -> bool:
    check = _configured_check("MEDIA_PLAYBACK_ACCESS_CHECK")
    return check is not None and bool(check(user=user, asset=asset))


def allow_all(*, user, asset: MediaAsset) -> bool:
    """A rule that lets everyone play everything: for a pipeline without a library (its own tests)."""
    return True


def image_file_public(*, name: str) -> bool:
    check = _configured_check("MEDIA_IMAGE_PUBLIC_CHECK")
    return check is not None and bool(check(name=name))


def _configured_check(setting: str):
    """The function a seam's setting names, or None when the setting is missing or empty (the caller refuses)."""
    check_path = getattr(settings, setting, "")
    return import_string(check_path) if check_path else None
