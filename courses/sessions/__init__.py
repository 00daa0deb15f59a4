"""Branch sessions (支部集中学习): opening a session, the check-in code on the TV, check-in by code or by the
secretary, minutes and reflections. The writes are re-exported by ``courses.services``, the reads by
``courses.selectors``; docs/courses.md, Sessions."""
