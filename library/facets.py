"""Browse counts: how many listed items each filter value has, kept in FacetCount so pages never count the table.

OWNER: browse helper — facet_counts_refresh (one GROUP BY per dimension, in the background) and
facet_counts_refresh_soon (debounced enqueue) are filled in by the browse work.
"""


def facet_counts_refresh_soon() -> None:
    """Queue a refresh unless one is already queued (placeholder until the browse work lands)."""
