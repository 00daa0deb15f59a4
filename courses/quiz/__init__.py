"""The quiz's own rules, private to courses: drawing a set from the bank, sealing the ids a client sees, reading
what a client sends, grading."""
