"""Figures a test run proves, printed at its end (tests/conftest.py): security matrix cells, fuzzed requests, leaks.

Kept free of Django imports: pytest-xdist's controller, which never imports the tests, adds up its workers' counts
here before printing them."""

from collections import Counter

COUNTS: Counter = Counter()
