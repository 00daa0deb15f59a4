"""The search page: read the parameters (a bad one is dropped, never a 500), ask the selectors, and give the
template ready-made links that keep the other parameters (facets, sort, pages, corrections)."""

import logging
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from cms.selectors import unit_path
from search.engines.results import SearchError, SearchResults
from search.selectors import MAX_PAGE, MAX_QUERY_CHARS, last_page, popular_queries, search
from search.services import record_search

logger = logging.getLogger(__name__)

PER_PAGE = 20
# owner: exactly this owning unit (what the unit facet counts and links to); unit: this unit and its subtree.
FILTERS = ("kind", "subject", "year", "owner", "unit", "access")
# The facet dimension → the parameter its links set.
FACET_PARAMS = {"kind": "kind", "subject": "subject", "year": "year", "unit": "owner", "access": "access"}
# Links that refine a search already counted (facets, sort, pages) carry this; the search box does not.
REFINE_MARKER = "r"
FACET_TITLES = {"kind": _("类型"), "subject": _("主题"), "year": _("年份"), "unit": _("单位"), "access": _("访问范围")}
SORT_LABELS = {"relevance": _("最相关"), "newest": _("最新")}
PAGER_RADIUS = 2  # page numbers shown either side of the current one
BIGGEST_ID = 2**63 - 1  # ids above this would overflow the database's bigint


class SearchParams(forms.Form):
    """The page's query string. An invalid field is simply left out of `cleaned_data` (ignored), so a
    hand-edited or truncated link still gives a page."""

    q = forms.CharField(required=False)
    kind = forms.CharField(required=False, max_length=32)
    subject = forms.CharField(required=False, max_length=100)
    # Any year the index holds (an old text's 618 included): the facet offers what is indexed.
    year = forms.IntegerField(required=False, min_value=0, max_value=9999)
    owner = forms.IntegerField(required=False, min_value=1, max_value=BIGGEST_ID)
    unit = forms.IntegerField(required=False, min_value=1, max_value=BIGGEST_ID)
    access = forms.ChoiceField(required=False, choices=[("public", ""), ("members", ""), ("unit", "")])
    sort = forms.ChoiceField(required=False, choices=list(SORT_LABELS.items()))
    page = forms.IntegerField(required=False, min_value=1)
    exact = forms.BooleanField(required=False)
    r = forms.BooleanField(required=False)


@dataclass(frozen=True)
class Params:
    """What the member asked for, already validated; `filters` hold values as they appear in links."""

    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    exact: bool = False

    def href(self, *, refine: bool = True, **changes) -> str:
        """A link to this search with `changes` (None drops a parameter); the page resets unless given. It is
        marked as refining the search already counted unless `refine` is False (a new query)."""
        values = {"q": self.q, **self.filters, "sort": None if self.sort == "relevance" else self.sort}
        values["exact"] = "1" if self.exact else None
        values[REFINE_MARKER] = "1" if refine else None
        values.update(changes)
        return "?" + urlencode({name: value for name, value in values.items() if value not in (None, "")})


def _read_params(request) -> tuple[Params, str | None, bool]:
    form = SearchParams(request.GET)
    form.is_valid()  # only the valid fields reach cleaned_data
    data = form.cleaned_data
    # NUL bytes cannot be stored or searched (PostgreSQL refuses them); nobody types them.
    query = " ".join(str(request.GET.get("q", "")).replace("\x00", "").split())
    subtree = unit_path(data.get("unit"))
    filters = {name: str(data[name]) for name in FILTERS if data.get(name) not in (None, "")}
    if subtree is None:
        filters.pop("unit", None)  # an unknown unit is ignored like any other bad parameter
    params = Params(
        q=query,
        filters=filters,
        sort=data.get("sort") or "relevance",
        page=min(data.get("page") or 1, MAX_PAGE),
        exact=bool(data.get("exact")),
    )
    return params, subtree, bool(data.get(REFINE_MARKER))


def _facet_groups(params: Params, results: SearchResults) -> list[dict]:
    groups = []
    for name, title in FACET_TITLES.items():
        parameter = FACET_PARAMS[name]
        chosen = params.filters.get(parameter)
        values = [
            {
                "label": value.label or value.value,
                "count": value.count,
                "active": value.value == chosen,
                # Choosing the chosen value again removes it.
                "href": params.href(**{parameter: None if value.value == chosen else value.value}),
            }
            for value in results.facets.get(name, [])
        ]
        if values:
            groups.append({"name": name, "title": title, "values": values})
    return groups


def _pager(params: Params, results: SearchResults) -> dict | None:
    last = last_page(results)
    if last <= 1 or not results.hits:
        return None
    current = results.page
    numbers = sorted({1, last, *range(max(1, current - PAGER_RADIUS), min(last, current + PAGER_RADIUS) + 1)})
    pages, previous_number = [], 0
    for number in numbers:
        if number > previous_number + 1:
            pages.append({"gap": True})
        pages.append({"number": number, "href": params.href(page=number), "current": number == current})
        previous_number = number
    return {
        "pages": pages,
        "previous": params.href(page=current - 1) if current > 1 else "",
        "next": params.href(page=current + 1) if current < last else "",
    }


def _links(params: Params, results: SearchResults) -> dict:
    last = last_page(results)
    return {
        "facet_groups": _facet_groups(params, results),
        "pager": _pager(params, results),
        "sorts": [
            {
                "label": label,
                "href": params.href(sort=None if key == "relevance" else key),
                "active": key == params.sort,
            }
            for key, label in SORT_LABELS.items()
        ],
        # A new query the member chose: counted like a typed one.
        "did_you_mean_href": params.href(q=results.did_you_mean, exact=None, refine=False)
        if results.did_you_mean
        else "",
        # "Still search" what was typed: exact=1 stops the selectors from replacing it with the correction.
        "exact_href": params.href(q=results.corrected_from, exact="1") if results.corrected_from else "",
        "first_page_href": params.href(),
        "last_page_href": params.href(page=last),
    }


def search_view(request):
    params, subtree, refining = _read_params(request)
    context = {
        "query": params.q[:MAX_QUERY_CHARS],
        "max_query_chars": MAX_QUERY_CHARS,
        "params": params,
        # The search box keeps the chosen filters and sort: a new query searches the same part of the site.
        "hidden_fields": [*params.filters.items(), *([("sort", params.sort)] if params.sort != "relevance" else [])],
        "clear_href": params.href(**dict.fromkeys(FILTERS)) if params.filters else "",
        "results": None,
    }
    if not params.q:
        return render(request, "search/search.html", {**context, "popular": _popular(params)})
    try:
        results = search(**_search_arguments(params, subtree, request.user))
    except SearchError:
        logger.exception("search failed on every engine")
        return render(request, "search/search.html", {**context, "unavailable": True}, status=503)
    found = results.total or results.promoted
    context |= {"results": results, **_links(params, results), "popular": [] if found else _popular(params)}
    response = render(request, "search/search.html", context)
    record_search(response, query=params.q, results=results, page=params.page, refining=refining)
    return response


def _popular(params: Params) -> list[dict]:
    """大家都在搜: other searches to try, each a new query (counted like a typed one), the filters dropped."""
    return [
        {"query": query, "href": Params(q=query).href(refine=False)} for query in popular_queries() if query != params.q
    ]


def _search_arguments(params: Params, subtree: str | None, user) -> dict:
    return {
        "query": params.q,
        "user": user,
        "kind": params.filters.get("kind"),
        "subject": params.filters.get("subject"),
        "year": int(params.filters["year"]) if "year" in params.filters else None,
        "unit_path": subtree,
        "unit_id": int(params.filters["owner"]) if "owner" in params.filters else None,
        "access": params.filters.get("access"),
        "page": params.page,
        "per_page": PER_PAGE,
        "sort": params.sort,
        "facets": True,
        "exact": params.exact,
    }
