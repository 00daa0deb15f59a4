"""Fixtures and reporting for the security tests (issue 11): how many matrix cells and fuzzed requests ran."""

from .matrix import COUNTS


def pytest_terminal_summary(terminalreporter):
    """The closing note of issue 11 quotes these numbers: cells checked, requests fuzzed, leaks found."""
    if COUNTS:
        terminalreporter.section("security proof")
        for name, count in sorted(COUNTS.items()):
            terminalreporter.write_line(f"{name}: {count}")
