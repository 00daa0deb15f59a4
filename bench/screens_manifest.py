"""Screens' manifests at scale (issue 18), in one run on the embedded default (SQLite in a temporary var/):

- **304 rate against a static file.** gunicorn (production settings, 2 workers × 4 threads) serves the device
  manifest with ``If-None-Match`` (a 304 from one query, answered by ``screens.delivery.fastpath`` right after
  whitenoise: the credential's row joined to its stored manifest), the
  same manifest without it (a 200 with fresh signed links), and a static file of the manifest's size that
  whitenoise serves from the same server. ``BENCH_CLIENTS`` client processes (default 4) keep connections alive
  for ``BENCH_SECONDS`` (default 5) each. Aim: 304s at ≥ 0.5× the static file's rate.
- **Recomputation after one edit that touches every device.** ``BENCH_SCREENS`` devices (default 10,000) under
  100 counties, landscape and portrait; the province's filler channel reaches them all. One playlist entry is
  added in a transaction; after commit the change is a queued task (the database queue), and a worker in batch mode
  runs it: the time from the edit until every stored manifest carries a new version, and its cost per device.
- **A capacity model** for 100,000 screens polling every 5 minutes, from the measured figures.

``bench/run.py screens_manifest`` runs it alone.
"""

import http.client
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcode_common import ROOT, cores, load, ratio, remove_at_exit, verdict
from page_weight_common import site_environment, start_gunicorn, stop

SCREENS = int(os.environ.get("BENCH_SCREENS", 10_000))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", 4))
SECONDS = float(os.environ.get("BENCH_SECONDS", 5))
COUNTIES = 100
FLEET, POLL_SECONDS = 100_000, 300
MANIFEST = "/api/v1/screens/device/manifest"
STATIC_NAME = "bench/manifest-same-size.json"


def setup(var: Path) -> dict[str, str]:
    env = site_environment(var=var)
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def world():
    """A province with 10 cities × 10 counties, a video with a stored screen rendition, the province's filler
    channel, and the devices spread over the counties."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from cms.models import OrgUnit
    from cms.services import org_unit_create
    from library.models import LibraryItem
    from media_pipeline.models import MediaAsset, Rendition, TranscodeJob
    from screens.devices.credentials import credential_text, new_credential
    from screens.models import Channel, Device, PlaylistEntry, Priority, ScheduleRule

    province = org_unit_create(parent=None, name="山东省", code="sd", level=OrgUnit.Level.PROVINCE)
    counties = []
    for c in range(COUNTIES // 10):
        city = org_unit_create(parent=province, name=f"市{c}", code=f"c{c}", level=OrgUnit.Level.CITY)
        for k in range(10):
            counties.append(
                org_unit_create(parent=city, name=f"县{c}-{k}", code=f"c{c}k{k}", level=OrgUnit.Level.COUNTY)
            )
    asset = MediaAsset.objects.create(kind="video", file="uploads/bench.mp4", state="ready", duration=60)
    job = TranscodeJob.objects.create(asset=asset, group="screens", state="done")
    for profile in ("screen_landscape", "screen_portrait"):
        path = default_storage.save(f"renditions/{asset.pk}/{profile}.mp4", ContentFile(b"\x00" * 64))
        Rendition.objects.create(asset=asset, job=job, profile=profile, kind="mp4", path=path, size=64, duration=60)
    item = LibraryItem.objects.create(kind="video", title="宣传片", owning_unit=province, media_asset=asset)
    channels = []
    for screen_type in ("landscape", "portrait"):
        made = Channel.objects.create(name=f"全省{screen_type}", owning_unit=province, screen_type=screen_type)
        PlaylistEntry.objects.create(channel=made, kind="video", item=item, sort_order=0)
        for n in range(8):
            PlaylistEntry.objects.create(channel=made, kind="notice", text=f"通知{n}", duration=15, sort_order=n + 1)
        ScheduleRule.objects.create(unit=province, channel=made, priority=Priority.FILLER)
        channels.append(made)
    rows, credential = [], None
    for n in range(SCREENS):
        credential_id, secret, digest = new_credential()
        credential = credential or credential_text(credential_id, secret)
        rows.append(
            Device(
                name=f"屏{n}",
                unit=counties[n % COUNTIES],
                screen_type=("landscape", "portrait")[n % 2],
                credential_id=credential_id,
                secret_hash=digest,
            )
        )
    Device.objects.bulk_create(rows, batch_size=1000)
    return channels, credential


def recompute_after_edit(channels) -> dict:
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from screens.delivery.store import manifests_recompute
    from screens.models import Device, PlaylistEntry, StoredManifest

    DBTaskResult.objects.all().delete()  # the world's own edits queued recomputations: measure the one edit alone
    started = time.perf_counter()
    manifests_recompute(device_ids=Device.objects.values_list("pk", flat=True))
    initial = time.perf_counter() - started
    before = dict(StoredManifest.objects.values_list("device_id", "version"))
    edited_at = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        for made in channels:  # one edit: the same notice on both screen types' channels
            PlaylistEntry.objects.create(channel=made, kind="notice", text="临时通知", duration=10, sort_order=99)
    queued = time.perf_counter() - started
    call_command("db_worker", "--batch", "--queue-name", "default", "--no-startup-delay", verbosity=0)
    elapsed = time.perf_counter() - started
    after = dict(StoredManifest.objects.filter(computed_at__gte=edited_at).values_list("device_id", "version"))
    changed = sum(1 for device_id, version in after.items() if before.get(device_id) != version)
    return {"initial": initial, "after_edit": elapsed, "queued": queued, "changed": changed, "devices": len(before)}


def _client(args) -> tuple[int, int, int]:
    """One client process: (requests answered with the expected status, bytes received, other statuses)."""
    port, path, headers, expected, seconds = args
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    done = size = wrong = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection.request("GET", path, headers={"Host": "localhost", **headers})
        response = connection.getresponse()
        body = response.read()
        if response.status == expected:
            done += 1
            size += len(body)
        else:
            wrong += 1
    return done, size, wrong


def rate(port: int, path: str, headers: dict, expected: int) -> tuple[float, float, int]:
    """(requests/s, body bytes per request, wrong answers) with CLIENTS processes for SECONDS."""
    with multiprocessing.get_context("spawn").Pool(CLIENTS) as pool:
        results = pool.map(_client, [(port, path, headers, expected, SECONDS)] * CLIENTS)
    done = sum(r[0] for r in results)
    return done / SECONDS, ratio(sum(r[1] for r in results), done), sum(r[2] for r in results)


def main() -> None:
    var = remove_at_exit(Path(tempfile.mkdtemp(prefix="bench-screens-")))
    env = setup(var)
    print(f"cores {cores()}, load {load()}, devices {SCREENS:,}, clients {CLIENTS} × {SECONDS:.0f} s")
    channels, credential = world()
    figures = recompute_after_edit(channels)
    per_device_ms = 1000 * figures["after_edit"] / max(figures["devices"], 1)
    print(f"initial compute of {figures['devices']:,} manifests: {figures['initial']:.1f} s")
    print(
        f"edit touching {figures['devices']:,} devices → all current after {figures['after_edit']:.1f} s "
        f"({figures['changed']:,} new versions; {per_device_ms:.2f} ms per device, queue + worker included; "
        f"the edit and its enqueueing {figures['queued'] * 1000:.0f} ms)"
    )
    if figures["changed"] != figures["devices"]:
        sys.exit("not every manifest was recomputed")

    from django.conf import settings
    from django.test import Client

    auth = {"Authorization": f"Bearer {credential}"}
    first = Client().get(MANIFEST, HTTP_AUTHORIZATION=auth["Authorization"])
    static = Path(settings.STATIC_ROOT) / STATIC_NAME
    static.parent.mkdir(parents=True, exist_ok=True)
    static.write_bytes(b" " * len(first.content))  # the manifest's size, for whitenoise to find at start-up
    server, base = start_gunicorn(env, var / "gunicorn.log")
    port = int(base.rsplit(":", 1)[1])
    try:
        static_rate, static_bytes, _wrong = rate(port, f"/static/{STATIC_NAME}", {}, 200)
        full_rate, full_bytes, full_wrong = rate(port, MANIFEST, auth, 200)
        hit_rate, _b, hit_wrong = rate(port, MANIFEST, {**auth, "If-None-Match": first["ETag"]}, 304)
        head_bytes = header_bytes(port, {**auth, "If-None-Match": first["ETag"]})
    finally:
        stop(server)
    print(f"static file ({static_bytes:,.0f} B, whitenoise): {static_rate:,.0f} req/s")
    print(f"manifest 200 ({full_bytes:,.0f} B, fresh signed links): {full_rate:,.0f} req/s ({full_wrong} other)")
    print(f"manifest 304 (If-None-Match, the default: connections kept): {hit_rate:,.0f} req/s ({hit_wrong} other)")
    print(f"304 / static: {ratio(hit_rate, static_rate):.2f} — {verdict(ratio(hit_rate, static_rate), at_least=0.5)}")
    # The reference: a new database connection per request (the embedded default's setting before it kept them;
    # on SQLite opening the connection and running its PRAGMAs is most of a 304's cost).
    fresh = {**env, "DJANGO_SETTINGS_MODULE": "bench.per_request_db_settings"}
    server, base = start_gunicorn(fresh, var / "gunicorn-per-request.log")
    port = int(base.rsplit(":", 1)[1])
    try:
        static_fresh, _b, _w = rate(port, f"/static/{STATIC_NAME}", {}, 200)
        hit_fresh, _b, fresh_wrong = rate(port, MANIFEST, {**auth, "If-None-Match": first["ETag"]}, 304)
    finally:
        stop(server)
    print(
        f"reference, a new connection per request (CONN_MAX_AGE 0): static {static_fresh:,.0f} req/s, "
        f"304 {hit_fresh:,.0f} req/s ({fresh_wrong} other); 304 / static: {ratio(hit_fresh, static_fresh):.2f}"
    )
    print(f"304, connections kept / a new one per request: {ratio(hit_rate, hit_fresh):.2f}×")
    capacity(hit_rate, full_rate, full_bytes, head_bytes, per_device_ms)


def header_bytes(port: int, headers: dict) -> int:
    """The bytes of one 304 on the wire: its status line and headers (there is no body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", MANIFEST, headers={"Host": "localhost", **headers})
    response = connection.getresponse()
    response.read()
    return len("HTTP/1.1 304 Not Modified\r\n\r\n") + sum(len(k) + len(v) + 4 for k, v in response.getheaders())


def capacity(hit_rate: float, full_rate: float, full_bytes: float, head_bytes: int, per_device_ms: float) -> None:
    """100,000 screens polling every 5 minutes: steady 304s, and the burst after an edit that touches all."""
    polls = FLEET / POLL_SECONDS
    print(f"capacity, {FLEET:,} screens every {POLL_SECONDS} s (jittered evenly): {polls:,.0f} polls/s")
    print(
        f"  steady: 304s of {head_bytes} B → {polls * head_bytes / 1024:,.0f} KiB/s out; "
        f"{ratio(polls, hit_rate):.2f}× this machine's measured 304 rate (heartbeats at the same pace: ×2)"
    )
    print(
        f"  after an edit touching all: {polls:,.0f} 200s/s for one interval, {polls * full_bytes / 2**20:,.1f} MiB/s"
        f" out, {ratio(polls, full_rate):.2f}× this machine's measured 200 rate"
    )
    print(f"  recomputing all {FLEET:,}: {FLEET * per_device_ms / 1000:,.0f} s of one worker at the measured cost")


if __name__ == "__main__":
    main()
