"""What an uploaded master is, measured once: kind, probe, loudness; and which job groups it gets."""

from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..ffmpeg.probe import ProbeResult, probe_upload
from ..models import MediaAsset
from ..steps.contract import LoudnessMeasurement, ProgressCallback
from ..steps.profiles import JOB_GROUPS, LOUDNESS_MOBILE

# Groups that read the asset's captions: attaching a caption file runs them again.
CAPTION_GROUPS = {"ladder", "screens"}
# Groups that read the asset's options (portrait fill, focal point): changing them runs these again.
OPTION_GROUPS = {"screens"}
_PROBE_FIELDS = {f.name for f in fields(ProbeResult)}


@dataclass(frozen=True)
class Analysis:
    kind: str  # MediaAsset.Kind value
    duration: float | None
    width: int | None
    height: int | None
    probe: dict  # ProbeResult fields, plus "loudness" (pass one of loudnorm) or "document_format"


def analyse(*, source: Path, on_progress: ProgressCallback) -> Analysis:
    document_format = _document_format(source)
    if document_format:
        return Analysis(MediaAsset.Kind.DOCUMENT, None, None, None, {"document_format": document_format})
    probe = probe_upload(source)
    data = probe.to_dict()
    if probe.has_audio and not probe.is_still:
        from ..ffmpeg.loudness import loudness_measure

        measured = loudness_measure(source=source, probe=probe, target=LOUDNESS_MOBILE, on_progress=on_progress)
        data["loudness"] = asdict(measured) if measured is not None else None
    kind = MediaAsset.Kind.IMAGE if probe.is_still else probe.kind
    size = (probe.width, probe.height) if probe.has_video else (None, None)
    return Analysis(kind, probe.duration or None, *size, data)


def _document_format(source: Path) -> str:
    """PDF and EPUB are told apart from media by their first bytes, before ffprobe is asked."""
    with source.open("rb") as handle:
        head = handle.read(1024)
    if not (b"%PDF-" in head or head.startswith(b"PK\x03\x04")):
        return ""
    from ..errors import BadInputError
    from ..steps.documents.step import document_kind

    try:
        return document_kind(source)
    except BadInputError:
        return ""  # a zip that is not an EPUB: let ffprobe refuse it with its own words


def stored_probe(*, asset: MediaAsset) -> ProbeResult | None:
    if asset.kind == MediaAsset.Kind.DOCUMENT or not asset.probe:
        return None
    return ProbeResult(**{key: value for key, value in asset.probe.items() if key in _PROBE_FIELDS})


def stored_loudness(*, asset: MediaAsset) -> LoudnessMeasurement | None:
    data = (asset.probe or {}).get("loudness")
    return LoudnessMeasurement(**data) if data else None


def groups_for(*, asset: MediaAsset) -> list[str]:
    """Default groups for the asset's kind, plus those asked for in ``options["groups"]`` (public screens);
    ``options["only_groups"]`` narrows the set (an audio programme that needs no TV copy, a quick test)."""
    wanted, only = set(asset.options.get("groups", [])), asset.options.get("only_groups")
    probe = stored_probe(asset=asset)
    names = []
    for group in JOB_GROUPS:
        if asset.kind not in group.asset_kinds or not (group.default or group.name in wanted):
            continue
        if only is not None and group.name not in only:
            continue
        if group.name == "audio_edition" and not (probe and probe.has_audio):
            continue
        # Audio gets pictures only from its cover art (an attached picture); without one there is nothing to show.
        if group.name == "images" and asset.kind == MediaAsset.Kind.AUDIO and not (probe and probe.has_cover_art):
            continue
        names.append(group.name)
    return names
