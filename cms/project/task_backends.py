"""Task backend adjustments."""

from django_tasks_rq.backend import RQBackend


class PriorityRQBackend(RQBackend):
    """django-tasks-rq puts a task at the front of its queue when its priority is the maximum (100), but does
    not declare priority support, so django-tasks refuses every task that names a priority. A premiere's
    transcode must jump the queue, so we declare it: priority 100 goes first, any other priority is plain
    first-in first-out on Redis (the database backend orders by every priority)."""

    supports_priority = True
