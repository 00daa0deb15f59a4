"""The search page."""

from django.shortcuts import render

from search.selectors import search_items

PER_PAGE = 20


def _page_number(raw: str | None) -> int:
    try:
        return min(max(1, int(raw or 1)), 10_000)
    except ValueError:
        return 1


def search_view(request):
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "").strip()[:32] or None
    results = None
    if query:
        results = search_items(
            query=query, user=request.user, kind=kind, page=_page_number(request.GET.get("page")), per_page=PER_PAGE
        )
    return render(request, "search/search.html", {"query": query, "kind": kind or "", "results": results})
