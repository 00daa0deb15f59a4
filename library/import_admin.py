"""The admin import screen (OWNER: import helper): upload a CSV/JSON/MARC file, dry-run, see the row report."""
