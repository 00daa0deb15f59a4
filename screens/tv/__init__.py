"""The TV's 10-foot interface (issue 18): rows of the month's course, library videos, TV channels and search,
driven by a remote, and signing a TV in by scanning a code with a signed-in phone."""
