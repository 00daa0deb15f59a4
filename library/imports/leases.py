"""Which process runs an import batch, and whether it is still alive.

A process that takes a batch writes its id into ``ImportBatch.lease_owner`` and renews ``lease_expires_at`` with
every committed chunk. Another process decides that the owner is gone when the lease has run out, or at once when
the owner ran on the same machine in the same process namespace and that process no longer exists (a worker
killed by the kernel's OOM killer or a deploy is noticed without waiting out the lease). A process whose id is
reused by the system is told apart by its start time, so a stranger never keeps a dead batch alive by accident,
and a process in another container is never taken for dead because this one cannot see it.
"""

import os
import socket
import uuid
from functools import cache
from pathlib import Path

PROC = Path("/proc")


def worker_id() -> str:
    """``host:namespace:pid:start:token`` for one run in this process (namespace and start are empty where /proc
    is missing). The token tells apart two runs in one process (a threaded worker): one taken for dead stops even
    if the other, resuming it, runs beside it."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{_namespace()}:{pid}:{_start_time(pid)}:{uuid.uuid4().hex[:8]}"


def worker_gone(owner: str) -> bool:
    """True only when ``owner`` is certainly dead: it ran here, in this namespace, and its process is gone."""
    try:
        host, namespace, pid, start, _token = owner.rsplit(":", 4)
    except ValueError:
        return False
    if not namespace or not start or host != socket.gethostname() or namespace != _namespace():
        return False
    return _start_time(int(pid)) != start


@cache
def _namespace() -> str:
    """This boot of this kernel and this process's pid namespace: pids mean the same thing only within one."""
    try:
        boot = (PROC / "sys/kernel/random/boot_id").read_text().strip()
        pid_namespace = os.readlink(PROC / "self/ns/pid").removeprefix("pid:[").removesuffix("]")
    except OSError:
        return ""
    return f"{boot}/{pid_namespace}"


def _start_time(pid: int) -> str:
    """When the process started (clock ticks since boot), or "" when it does not exist or is a zombie."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return ""
    return "" if fields[0] == "Z" else fields[19]
