"""What search engines and share cards read from every page's <head>: a meta description, Open Graph tags (title,
description, an absolute image: what WeChat-style share cards show) and a canonical link.

A view that shows something other than a Wagtail page's own data (a library item, its sign-in prompt) puts a
``share`` dict in the context (title, description, image, url, any of them); otherwise the page's own fields are
read: its SEO title or title, its search description or the text of its summary, intro or body, its cover or
image. Only what the page itself shows goes in: a page a visitor may not open is a 404 before this is rendered,
and the library's sign-in prompt passes the title alone.
"""

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import strip_tags
from django.utils.text import Truncator

register = template.Library()

DESCRIPTION_CHARS = 120  # what search results and share cards show of it
TEXT_FIELDS = ("summary", "intro", "body", "discussion_guide")
IMAGE_FIELDS = ("cover", "image")
DEFAULT_IMAGE = "apple-touch-icon.png"


def plain_text(value, limit: int = DESCRIPTION_CHARS) -> str:
    """Rich text or plain text as one line of at most ``limit`` characters."""
    text = " ".join(strip_tags(str(value or "")).split())
    return Truncator(text).chars(limit)


def page_share(page) -> dict:
    """The share data of a Wagtail page from its own fields (unsaved or non-page objects give nothing)."""
    if page is None or not hasattr(page, "seo_title"):
        return {}
    page = getattr(page, "specific", page)
    texts = [page.search_description] + [getattr(page, name, "") for name in TEXT_FIELDS]
    image = next((getattr(page, name) for name in IMAGE_FIELDS if getattr(page, name, None) is not None), None)
    return {
        "title": page.seo_title or page.title,
        "description": next((plain_text(text) for text in texts if plain_text(text)), ""),
        "image": existing_rendition_url(image),
    }


def existing_rendition_url(image) -> str:
    """The largest rendition already made of ``image`` (renditions are never made in a request), else ""."""
    if image is None:
        return ""
    rendition = image.renditions.order_by("-width").first()
    return rendition.url if rendition is not None else ""


@register.inclusion_tag("cms/includes/share_tags.html", takes_context=True)
def share_tags(context) -> dict:
    request = context.get("request")
    if request is None:
        return {}
    share = page_share(context.get("page")) | {key: value for key, value in (context.get("share") or {}).items()}
    title = share.get("title") or settings.WAGTAIL_SITE_NAME
    return {
        "title": title,
        "description": plain_text(share.get("description")) or title,
        "image": request.build_absolute_uri(share.get("image") or static(DEFAULT_IMAGE)),
        "url": request.build_absolute_uri(share.get("url") or request.path),
        "site_name": settings.WAGTAIL_SITE_NAME,
    }
