"""Member pages of the courses: the course page, the quiz, results and practice."""
