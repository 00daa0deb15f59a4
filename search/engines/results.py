"""What a search asks and what every engine answers with, so callers never see which engine answered."""

import math
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.safestring import SafeString


class SearchError(Exception):
    """The engine failed; callers fall back to the embedded index and never show this to users."""


class SearchUnavailable(SearchError):
    """The engine cannot be reached."""


@dataclass(frozen=True)
class Audience:
    """Who is searching, as access levels: every engine filters by it, facet counts included.

    A document is visible when its access is in `levels`, or when its access is "unit" and its
    `access_unit_id` is in `unit_ids` (the member's unit and the units above it), or `all_units` is set
    (superusers).
    """

    levels: tuple[str, ...] = ("public",)
    unit_ids: tuple[int, ...] = ()
    all_units: bool = False

    def allows(self, access: str, access_unit_id: int | None) -> bool:
        if access in self.levels:
            return True
        return access == "unit" and (self.all_units or access_unit_id in self.unit_ids)


SORTS = ("relevance", "newest")
FACET_DIMENSIONS = ("kind", "subject", "year", "unit", "access")
# How many values each facet shows, the same on every engine (the unit list is long and only its top matters).
FACET_SIZES = {"kind": 20, "subject": 20, "year": 20, "unit": 10, "access": 20}
# The engines refuse to page deeper than this; every engine gives a page hits only when
# page × per_page <= RESULT_WINDOW (the total is still true beyond it).
RESULT_WINDOW = 10_000


@dataclass(frozen=True)
class SearchRequest:
    """One page of a search: the audience always applies; the other filters are what the member chose."""

    audience: Audience = Audience()
    kind: str | None = None
    subject: str | None = None
    year: int | None = None
    unit_path: str | None = None  # the owning unit and everything below it (OrgUnit.path prefix)
    unit_id: int | None = None  # exactly this owning unit (what a "unit" facet value counts)
    access: str | None = None
    page: int = 1
    per_page: int = 20
    sort: str = "relevance"
    facets: bool = False  # also count FACET_DIMENSIONS over every match (not just this page)


@dataclass
class Hit:
    doc_id: str
    kind: str
    title: str
    url: str
    snippet: SafeString
    score: float
    date: datetime | None = None
    title_html: SafeString | None = None
    kind_label: str = ""
    promoted: bool = False


@dataclass
class FacetValue:
    value: str
    count: int
    label: str = ""


@dataclass
class Suggestion:
    text: str
    url: str = ""


@dataclass
class SearchResults:
    hits: list[Hit]
    total: int
    page: int
    per_page: int
    query: str = ""
    backend: str = ""
    # True when the configured engine failed and the embedded index answered instead.
    degraded: bool = False
    # dimension → values with counts, most first (only when the request asked for facets).
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    # "Did you mean": a better query to offer as a link (e.g. 灯塔 for `dengta`).
    did_you_mean: str = ""
    # When the query found nothing and a correction did, these results are the correction's and this holds
    # what the member typed (the page says "showing results for … instead of …").
    corrected_from: str = ""
    # Editor-promoted hits, shown above the ranked ones on the first page (already filtered by access).
    promoted: list[Hit] = field(default_factory=list)
    # Why nothing was searched, for the page to explain: "", "empty" (nothing searchable in the query).
    notice: str = ""

    @property
    def first_number(self) -> int:
        """The position of the first hit on this page (for <ol start>)."""
        return (self.page - 1) * self.per_page + 1

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def previous_page(self) -> int:
        return min(self.page - 1, self.num_pages)

    @property
    def next_page(self) -> int:
        return self.page + 1
