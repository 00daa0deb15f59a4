"""The one access-control seam for playback.

media_pipeline knows nothing of library items or members' rights. The library plugs its rule in with the
setting ``MEDIA_PLAYBACK_ACCESS_CHECK = "library.<module>.<function>"``, a function
``(*, user, asset) -> bool``. Unset, nobody may play anything: a deployment that forgot the rule must fail closed,
not serve every unit's video to the world (tests of the pipeline on its own plug in ``allow_all``).
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
