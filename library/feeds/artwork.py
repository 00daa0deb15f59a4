"""The site's podcast artwork: what a feed names as ``itunes:image`` when its series has no cover (Apple rejects a
feed without one). A 3000×3000 RGB PNG, the largest square Apple takes, drawn once with Pillow from the site's
lighthouse mark (static/favicon.svg, in the brand red and gold) and its name, then kept in the default storage and
served from a stable public URL (``/podcasts/artwork.png``): apps cache artwork by URL for months, so it must not be
a signed link that expires.
"""

import io
import logging

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

logger = logging.getLogger(__name__)

SIZE = 3000
# A new drawing gets a new name (the version), so a stored old one is never served for the new.
STORAGE_NAME = "site/podcast-artwork-v1.png"
CHECKED_KEY = f"feeds:artwork-stored:{STORAGE_NAME}"
RED, GOLD, WHITE = (183, 28, 28), (255, 213, 79), (255, 255, 255)
FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
# static/favicon.svg on its 64-unit grid: (colour, polygon) in drawing order; the gold beams at 80% over the red.
MARK = (
    ("beam", [(32, 15), (6, 8), (6, 22)]),
    ("beam", [(32, 15), (58, 8), (58, 22)]),
    (WHITE, [(24, 11), (32, 5), (40, 11)]),
    (GOLD, [(27, 11), (37, 11), (37, 19), (27, 19)]),
    (WHITE, [(26, 20), (38, 20), (42, 54), (22, 54)]),
    (RED, [(24.8, 30), (39.2, 30), (39.9, 36), (24.1, 36)]),
    (RED, [(23.2, 44), (40.8, 44), (41.5, 50), (22.5, 50)]),
    (WHITE, [(17, 54), (47, 54), (47, 58), (17, 58)]),
)


def draw_artwork() -> bytes:
    """The artwork as PNG bytes: the mark in the upper part of a red square, the name below it (pure)."""
    image = Image.new("RGB", (SIZE, SIZE), RED)
    draw = ImageDraw.Draw(image)
    scale, left, top = 30.0, SIZE / 2 - 32 * 30.0, 350  # the 64-unit mark as 1920 px, centred
    beam = tuple(round(0.8 * g + 0.2 * r) for g, r in zip(GOLD, RED, strict=True))
    for colour, points in MARK:
        fill = beam if colour == "beam" else colour
        draw.polygon([(left + x * scale, top + y * scale) for x, y in points], fill=fill)
    font = _font(300)
    if font is not None:
        draw.text((SIZE / 2, 2600), _("灯塔有声"), font=font, fill=WHITE, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _font(size: int):
    for path in FONTS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    logger.warning("podcast artwork: no CJK font found, drawn without the name")
    return None


def artwork_ensure() -> str:
    """The storage name of the artwork, drawn and stored the first time (per storage, remembered in the cache so
    feeds and the artwork URL do not ask the storage each time)."""
    if cache.get(CHECKED_KEY):
        return STORAGE_NAME
    if not default_storage.exists(STORAGE_NAME):
        # Two servers drawing at once store the same bytes; whichever save wins, the name is the same one.
        saved = default_storage.save(STORAGE_NAME, ContentFile(draw_artwork()))
        if saved != STORAGE_NAME:  # the other one's copy was there first: keep one
            default_storage.delete(saved)
    cache.set(CHECKED_KEY, True, 24 * 3600)
    return STORAGE_NAME


def artwork_bytes() -> bytes:
    with default_storage.open(artwork_ensure(), "rb") as handle:
        return handle.read()
