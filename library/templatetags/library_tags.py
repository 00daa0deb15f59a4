from django import template

from library.selectors import item_url, items_visible_to, library_page

register = template.Library()


@register.simple_tag
def latest_library_items(user, count=8):
    return list(items_visible_to(user).select_related("owning_unit")[:count])


@register.simple_tag(takes_context=True)
def library_item_url(context, item):
    # One page lookup per request, however many items a template links to.
    cache = context.render_context
    if "library_page" not in cache:
        cache["library_page"] = library_page()
    return item_url(item, cache["library_page"])
