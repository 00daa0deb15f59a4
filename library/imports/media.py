"""``media_ingest``'s library half: after the catalogue importer has taken a manifest of masters (items created or
updated by (source, external_id), assets by SHA-256), each row's state: rejected (nothing written), or its item's
media asset pending, processing, ready or failed (with the editor's reason); waiting for the transcodes to finish,
within a time limit; and the report, one line per row.

The media pipeline cannot know items (import contracts), so the command that joins both lives here and uses only
the pipeline's front doors (its sources, models and the asset states its workers keep)."""

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from library.models import ImportBatch, LibraryItem
from library.text.cleaning import neutralise_formula
from media_pipeline.models import MediaAsset

from .columns import media_row_defaults
from .readers import ImportReadError, read_rows

LOOKUP_CHUNK = 900  # ids per query: under SQLite's old 999-variable limit
POLL_SECONDS = 5.0
# Every state a row can end a run in; the first four are final.
STATE_LABELS = {
    "ready": gettext_lazy("已完成"),
    "failed": gettext_lazy("转码失败"),
    "rejected": gettext_lazy("被拒绝"),
    "checked": gettext_lazy("检查通过（试运行）"),
    "pending": gettext_lazy("排队中"),
    "processing": gettext_lazy("转码中"),
    "timeout": gettext_lazy("等待超时"),
}
FINAL = {"ready", "failed", "rejected", "checked"}
FAILING = {"failed", "rejected", "timeout"}  # any of these: the command exits non-zero


@dataclass(slots=True)
class RowState:
    """One manifest row as the report shows it."""

    line: int
    file: str
    external_id: str
    title: str
    kind: str = ""
    item_id: int | None = None
    asset_id: int | None = None
    state: str = "pending"
    reason: str = ""

    @property
    def state_display(self) -> str:
        return str(STATE_LABELS[self.state])


def manifest_listing(*, names: list[str]) -> bytes:
    """No manifest: every file of the folder or prefix is one row (its path its external_id, its name its title)."""
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow(["file"])
    writer.writerows([name] for name in names)
    return stream.getvalue().encode("utf-8")


def ingest_states(*, batch: ImportBatch) -> list[RowState]:
    """Each row of a finished media_ingest batch: rejected with its reasons, or its item and asset as they are now
    (a dry run's accepted rows are "checked")."""
    options = batch.run_options or {}
    data = Path(options["path"]).read_bytes()
    try:
        rows, _used = read_rows(data=data, file_format=batch.file_format, encoding=options.get("encoding") or "auto")
    except ImportReadError:
        return []  # the batch failed on the same bytes; the command reports its error
    media_row_defaults(rows)
    rejected = {entry["row"]: entry["errors"] for entry in batch.report if entry.get("errors")}
    states = [_row_state(row, rejected.get(row.line)) for row in rows]
    if batch.dry_run:
        for state in states:
            state.state = "rejected" if state.state == "rejected" else "checked"
        return states
    _link_items(states, source=batch.source)
    ingest_states_refresh(states)
    return states


def _row_state(row, errors: dict | None) -> RowState:
    values = row.values
    state = RowState(
        line=row.line,
        file=values.get("file", "").strip(),
        external_id=values.get("external_id", "").strip(),
        title=values.get("title", "").strip(),
        kind=values.get("kind", "").strip(),
    )
    if errors:
        state.state = "rejected"
        state.reason = "；".join(message for messages in errors.values() for message in messages)
    return state


def _link_items(states: list[RowState], *, source: str) -> None:
    accepted = [state for state in states if state.state != "rejected"]
    found = {}
    for start in range(0, len(accepted), LOOKUP_CHUNK):
        ids = [state.external_id for state in accepted[start : start + LOOKUP_CHUNK]]
        items = LibraryItem.objects.filter(source=source, external_id__in=ids)
        found.update(
            {
                external_id: (pk, asset)
                for external_id, pk, asset in items.values_list("external_id", "pk", "media_asset_id")
            }
        )
    for state in accepted:
        state.item_id, state.asset_id = found.get(state.external_id, (None, None))
        if state.asset_id is None:  # kept by an editor's own file, or written by nobody: never silently "ready"
            state.state, state.reason = "failed", _("条目没有关联这个文件（可能已被编辑改为其他文件）")


def ingest_states_refresh(states: list[RowState]) -> None:
    """Each unfinished row's state from its asset (the state and reason the pipeline's workers record on it)."""
    open_rows = [state for state in states if state.state not in FINAL and state.asset_id is not None]
    known = {}
    for start in range(0, len(open_rows), LOOKUP_CHUNK):
        ids = {state.asset_id for state in open_rows[start : start + LOOKUP_CHUNK]}
        known.update(
            {
                pk: (value, error)
                for pk, value, error in MediaAsset.objects.filter(pk__in=ids).values_list("pk", "state", "state_error")
            }
        )
    for state in open_rows:
        value, error = known.get(state.asset_id, (MediaAsset.State.FAILED, _("文件已被删除")))
        state.state = value
        if value == MediaAsset.State.FAILED:
            state.reason = error or _("转码失败")


def wait_pause(seconds: float) -> None:
    """Between two looks at the rows' states the command sleeps; the pipeline's workers do the transcoding."""
    time.sleep(seconds)


def ingest_wait(
    *,
    states: list[RowState],
    timeout_s: float,
    poll_s: float = POLL_SECONDS,
    on_progress: Callable[[list[RowState]], None] | None = None,
    pause: Callable[[float], None] | None = None,
) -> None:
    """Wait until every row is final (ready, failed or rejected) or ``timeout_s`` has passed; rows still unfinished
    then end as "timeout". ``pause`` (``wait_pause`` unless given) is where the time passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        ingest_states_refresh(states)
        if on_progress is not None:
            on_progress(states)
        if all(state.state in FINAL for state in states) or time.monotonic() >= deadline:
            break
        (pause or wait_pause)(min(poll_s, max(0.0, deadline - time.monotonic())))
    for state in states:
        if state.state not in FINAL:
            label = STATE_LABELS[state.state]
            state.state = "timeout"
            state.reason = _("等待时限内未转码完成（当时%(state)s），稍后可在后台查看") % {"state": label}


def ingest_counts(states: list[RowState]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in states:
        counts[state.state] = counts.get(state.state, 0) + 1
    return counts


def ingest_report_write(*, states: list[RowState], stream) -> None:
    """Every row with its final state, item, asset and reason, for the editor to check and fix. Every text cell
    comes from the manifest or a message, so none may start a spreadsheet formula."""
    writer = csv.writer(stream)
    columns = ["line", "file", "external_id", "title", "kind", "state", "state_display", "item_id", "asset_id"]
    writer.writerow([*columns, "reason"])
    for s in states:
        texts = [s.file, s.external_id, s.title, s.kind]
        writer.writerow(
            [s.line, *map(neutralise_formula, texts), s.state, s.state_display, s.item_id or "", s.asset_id or ""]
            + [neutralise_formula(s.reason)]
        )
