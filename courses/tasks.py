"""Background work for the courses: thin tasks that call a service."""

from django_tasks import task


@task(queue_name="default")
def quiz_attempts_expire_task() -> int:
    """Close the attempts whose deadline has passed (scheduled for each minute in which deadlines fall)."""
    from .services import quiz_attempts_expire_due

    return quiz_attempts_expire_due()


@task(queue_name="default")
def course_completions_backfill_task(course_id: int) -> int:
    """Record completions for study already done in a course's window (after it is published or its lessons
    change)."""
    from .services import course_completions_backfill

    return course_completions_backfill(course_id=course_id)


@task(queue_name="default")
def course_notices_task(course_id: int, kind: str) -> int:
    """Send one kind of a course's notices (scheduled when the course is published)."""
    from .services import course_notices_send

    return course_notices_send(course_id=course_id, kind=kind)
