"""Study hours (学时) and the annual certificate: one calculation from verified activity (honest study time,
attended branch sessions, passed quizzes) that the member's page, the certificate and reports all call, and the
certificate as a PDF (WeasyPrint, Noto CJK) with a code anyone can check on the site. docs/courses.md, Study hours."""
