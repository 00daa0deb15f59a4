"""灯塔大课堂: monthly courses of library lessons, a discussion guide and a quiz; members' progress and attempts
(docs/courses.md)."""
