"""The library's rule for who may stream an asset, plugged into media_pipeline (MEDIA_PLAYBACK_ACCESS_CHECK)."""

from .selectors import items_visible_to


def playback_allowed(*, user, asset) -> bool:
    """A member may stream an asset when at least one item they may open uses it."""
    return items_visible_to(user).filter(media_asset=asset).exists()
