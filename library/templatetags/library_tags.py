"""The library's template tags: item links, card covers and study durations, for the library's own templates and the
pages that show its cards (the home page, search results)."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from library.selectors import item_url, items_visible_to, library_page
from library.site.cards import COVER_WIDTH_LARGE_PX, COVER_WIDTH_PX, cards_prepare

register = template.Library()

PLACEHOLDER = '<span class="cover cover-{} cover-none cover-{}" aria-hidden="true"></span>'
IMAGE = '<img class="cover cover-{}" src="{}" srcset="{}" sizes="{}" width="{}" height="{}" alt="" {} decoding="async">'


@register.simple_tag(takes_context=True)
def library_item_url(context, item):
    # One page lookup per request, however many items a template links to.
    cache = context.render_context
    if "library_page" not in cache:
        cache["library_page"] = library_page()
    return item_url(item, cache["library_page"])


@register.simple_tag(takes_context=True)
def item_cover(context, item):
    """A card's cover from what ``cards_prepare`` read (never a query or an image made here): an <img> with its
    widths in srcset, sized to the card's cover column, with width and height so nothing moves as it arrives; lazy
    unless the card is in the first row. Without a picture (or before its renditions exist), a light CSS
    placeholder in the kind's shape and colour: no image bytes."""
    cover = getattr(item, "card_cover", None)
    shape = getattr(item, "card_shape", "portrait")
    if cover is None:
        return format_html(PLACEHOLDER, shape, item.kind)
    sizes = f"{COVER_WIDTH_LARGE_PX if context.get('large_type') else COVER_WIDTH_PX}px"
    if getattr(item, "card_eager", False):
        loading = mark_safe('loading="eager" fetchpriority="high"')
    else:
        loading = mark_safe('loading="lazy"')
    return format_html(
        IMAGE,
        cover.shape,
        cover.src,
        cover.srcset,
        sizes,
        cover.width,
        cover.height,
        loading,
    )


HIT_PREFIX = "library.libraryitem:"  # a library item's document id in the search index (library.search_documents)


@register.simple_tag(takes_context=True)
def search_hit_cover(context, hit):
    """The cover of a search result that is a library item, as on the library's cards; "" for other results. The
    first call reads every library hit on the page (``results.hits`` and ``results.promoted``) at once: the items as
    the searcher may open them and their covers' renditions, two queries for the page, none per result."""
    # Kept on the results (each included _hit.html renders with a render context of its own).
    results = context.get("results")
    covers = getattr(results, "_library_hit_covers", None)
    if covers is None:
        covers = _hit_covers(context)
        if results is not None:
            results._library_hit_covers = covers
    item = covers.get(getattr(hit, "doc_id", ""))
    return item_cover(context, item) if item is not None else ""


def _hit_covers(context) -> dict:
    results = context.get("results")
    hits = [*getattr(results, "hits", []), *getattr(results, "promoted", [])]
    ids = {int(hit.doc_id[len(HIT_PREFIX) :]) for hit in hits if hit.doc_id.startswith(HIT_PREFIX)}
    if not ids:
        return {}
    user = context.get("user") or getattr(context.get("request"), "user", None)
    items = list(items_visible_to(user).filter(pk__in=ids).select_related("cover", "parent__cover"))
    cards_prepare(items)
    return {f"{HIT_PREFIX}{item.pk}": item for item in items}


@register.filter
def study_duration(seconds) -> str:
    """Study time as members read it: "不足1分钟" under a minute, else minutes, with hours from an hour on (the same
    words everywhere a time is shown: 我的图书馆's totals, each row, the home page)."""
    seconds = int(seconds or 0)
    if seconds < 60:
        return _("不足1分钟")
    hours, minutes = divmod(seconds // 60, 60)
    if hours:
        return _("%(hours)d小时%(minutes)d分钟") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d分钟") % {"minutes": minutes}
