"""What every engine answers with, so callers never see which one answered."""

import math
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.safestring import SafeString


class SearchError(Exception):
    """The engine failed; callers fall back to the embedded index and never show this to users."""


class SearchUnavailable(SearchError):
    """The engine cannot be reached."""


@dataclass(frozen=True)
class SearchFilters:
    access: tuple[str, ...] = ("public",)
    kind: str | None = None
    unit_ids: tuple[int, ...] = ()


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
    facets: dict = field(default_factory=dict)

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
