"""Background work for screens: thin tasks that take ids and call a service."""

from django_tasks import task


@task(queue_name="default")
def manifests_recompute_task(scope: str, ids: list[int]) -> int:
    """Recompute the stored manifests of the devices a change touches (``scope``: device, unit, channel, item,
    asset, issue, image, course or all; ``ids`` of that kind)."""
    from .delivery.store import devices_affected, manifests_recompute

    return manifests_recompute(device_ids=devices_affected(scope=scope, ids=ids))


@task(queue_name="default")
def manifests_roll_task() -> int:
    """The six-hour window rolled: recompute every manifest still on the old window."""
    from .delivery.store import manifests_roll

    return manifests_roll()
