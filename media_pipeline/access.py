"""The one access-control seam for playback.

media_pipeline knows nothing of library items or members' rights. The library plugs its rule in with the
setting ``MEDIA_PLAYBACK_ACCESS_CHECK = "library.<module>.<function>"``, a function
``(*, user, asset) -> bool``. Unset, every asset may be played (the embedded default, and tests).
"""

from django.conf import settings
from django.utils.module_loading import import_string

from .models import MediaAsset


def playback_allowed(*, user, asset: MediaAsset) -> bool:
    check_path = getattr(settings, "MEDIA_PLAYBACK_ACCESS_CHECK", "")
    if not check_path:
        return True
    return bool(import_string(check_path)(user=user, asset=asset))
