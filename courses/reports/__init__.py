"""Reports up the organisation tree: aggregate rows per course and unit kept current by the writes that change
them (stats.py), read per unit and its children (reads.py), shown with a chart and exported identically
(site/reports.py). docs/courses.md, Reports."""
