"""The library's rules for the pipeline's files: who may stream an asset (MEDIA_PLAYBACK_ACCESS_CHECK) and which
image files are public (MEDIA_IMAGE_PUBLIC_CHECK)."""

from cms.models import LighthouseImage, LighthouseRendition

from .selectors import images_closed_to_public, items_visible_to


def playback_allowed(*, user, asset) -> bool:
    """A member may stream an asset when at least one item they may open uses it."""
    return items_visible_to(user).filter(media_asset=asset).exists()


def image_file_public(*, name: str) -> bool:
    """Whether local disk may serve a Wagtail image file (MEDIA_IMAGE_PUBLIC_CHECK) without a signature: not when
    it shows a page (版面) of an issue that not everyone may open (members-only, one unit's, unpublished, or under a
    closed title), whose pages the reader hands out as signed URLs. Covers and the site's pictures stay public."""
    if name.startswith("original_images/"):
        images = LighthouseImage.objects.filter(file=name).values("pk")
    else:
        images = LighthouseRendition.objects.filter(file=name).values("image_id")
    return not images_closed_to_public(images)
