"""Why the courses app refused something, in words a member can read, with the HTTP status that fits.

Services raise these; the API answers each with its status and a Chinese ``detail``, the member pages show the
message. A refusal never leaves a partial write behind (services check before they write, inside a transaction).
"""

from django.http import Http404


class CourseError(Exception):
    """A refusal with a message for the member and the status an API answers it with."""

    status = 409

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class QuizConflict(CourseError):
    """The request is fine but the state does not allow it: not open yet, closed, attempts used up, submitted."""

    status = 409


class QuizTimeUp(QuizConflict):
    """The server's deadline has passed: nothing was saved, and the attempt is closed with what it had."""


class QuizForbidden(CourseError):
    """This member is outside the course's audience."""

    status = 403


class QuizInvalid(CourseError):
    """Bad input: a ref or option id the server did not issue, a wrong number of options, too long a blank."""

    status = 422


class CourseNotFound(Http404):
    """No such course or attempt, or another member's: callers answer 404 and never say which."""
