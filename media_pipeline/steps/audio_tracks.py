"""A master's other audio tracks as alternative HLS renditions (one audio group, a name and language each).

The main track (``ProbeResult.main_audio``: the one flagged default, else a Chinese one, else the first) feeds
every output as before: the ladder's rungs (muxed, or the demuxed audio of a chunked ladder), the TV copy,
the audio edition. Each OTHER track is encoded once, audio only, at the ladder's top audio bitrate and with
its own loudness measured and normalised, into ``<hls dir>/audio_track_<n>/``; the master then lists every
track as ``EXT-X-MEDIA:TYPE=AUDIO`` in one group that the variants name with ``AUDIO=``.

Muxed ladder: the main track's rendition has no URI (RFC 8216 4.3.4.2.1: its audio is in the variant itself),
so nothing already stored moves; a variant's BANDWIDTH grows by the biggest alternative's peak (a player on an
alternative still downloads the muxed audio). Chunked ladder: its groups (one per audio bitrate) each get the
alternatives too (``chunked_ladder.with_audio_groups``), and BANDWIDTH grows by what an alternative's peak is
above the group's own.

The editor is told what was chosen (``notices``) from the stored probe, in the same words the player shows.
"""

import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import m3u8
from django.utils.translation import gettext as _

from ..errors import BadInputError, ProbeError
from ..ffmpeg.commands import PLAYLIST_NAME, hls_ladder_command
from ..ffmpeg.ladder import Variant, audio_renditions, plan_variants
from ..ffmpeg.loudness import loudness_filters, loudness_measure
from ..ffmpeg.probe import ProbeResult, ffprobe_json
from ..ffmpeg.runner import check_run, run_ffmpeg
from .profiles import HlsProfile

GROUP_ID = "audio"  # the muxed ladder's one audio group
FOLDER_PREFIX = "audio_track_"
# Container language codes (ISO 639-1/2/3) → (RFC 5646 tag, the name the player's menu shows).
LANGUAGES = {
    "cmn": ("cmn", "普通话"),
    "zh": ("zh", "中文"),
    "chi": ("zh", "中文"),
    "zho": ("zh", "中文"),
    "yue": ("yue", "粤语"),
    "nan": ("nan", "闽南语"),
    "wuu": ("wuu", "吴语"),
    "hak": ("hak", "客家话"),
    "eng": ("en", "英语"),
    "en": ("en", "英语"),
    "jpn": ("ja", "日语"),
    "ja": ("ja", "日语"),
    "kor": ("ko", "韩语"),
    "ko": ("ko", "韩语"),
    "fre": ("fr", "法语"),
    "fra": ("fr", "法语"),
    "ger": ("de", "德语"),
    "deu": ("de", "德语"),
    "spa": ("es", "西班牙语"),
    "rus": ("ru", "俄语"),
}
# A tag kept as it is when not in the table above (two or three letters, then subtags); "und" means none.
_TAG = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")
_BANDWIDTH = re.compile(r"(?<![-A-Z])BANDWIDTH=(\d+)")


@dataclass(frozen=True)
class AudioTrack:
    """One audio stream of the master as the player's menu shows it."""

    number: int  # position among the master's audio streams, from 0 (ffmpeg's "a:<number>")
    name: str  # e.g. "普通话", "英语", "音轨2" (unique among the tracks)
    language: str  # RFC 5646, "" when the master does not say
    main: bool  # feeds every output; the others are alternatives

    @property
    def folder(self) -> str:
        return f"{FOLDER_PREFIX}{self.number + 1}"

    @property
    def uri(self) -> str:
        return f"{self.folder}/{PLAYLIST_NAME}"


def language_and_name(track: dict, number: int) -> tuple[str, str]:
    """(RFC 5646 tag or "", menu name) of one probed audio track (pure): its title, else its language's
    Chinese name, else "音轨<n>"."""
    code = (track.get("language") or "").strip().lower().replace("_", "-")
    tag, name = LANGUAGES.get(code, (code if _TAG.fullmatch(code) and code != "und" else "", ""))
    title = (track.get("title") or "").strip()
    return tag, title or name or _("音轨%(number)d") % {"number": number + 1}


def plan_tracks(probe: ProbeResult) -> list[AudioTrack]:
    """Every audio track, main one first; empty unless there are several (pure). Names are made unique."""
    if len(probe.audio_tracks) < 2:
        return []
    tracks, taken = [], set()
    order = [probe.main_audio, *(n for n in range(len(probe.audio_tracks)) if n != probe.main_audio)]
    for number in order:
        tag, name = language_and_name(probe.audio_tracks[number], number)
        if name in taken:  # two English tracks: "英语（音轨3）"
            name = f"{name}（{_('音轨%(number)d') % {'number': number + 1}}）"
        taken.add(name)
        tracks.append(AudioTrack(number, name, tag, main=number == probe.main_audio))
    return tracks


def alternatives(probe: ProbeResult) -> list[AudioTrack]:
    return [track for track in plan_tracks(probe) if not track.main]


def track_probe(probe: ProbeResult, number: int) -> ProbeResult:
    """The probe as if track ``number`` were the main one (which stream to map, how many channels it has)."""
    channels = int(probe.audio_tracks[number].get("channels") or probe.audio_channels)
    return replace(probe, main_audio=number, audio_channels=channels)


def alternative_variant(profile: HlsProfile, probe: ProbeResult, track: AudioTrack) -> Variant:
    """Audio only, at the ladder's top audio bitrate: one rate per alternative is enough."""
    top = audio_renditions(plan_variants(profile, probe))[0].audio_bitrate
    return Variant(track.folder, 0, 0, 0, top)


def alternative_command(
    *,
    profile: HlsProfile,
    probe: ProbeResult,
    track: AudioTrack,
    source: Path,
    out_dir: Path,
    audio_filters=(),
    chunked: bool = False,
    shift: float = 0.0,
) -> list[str]:
    """One alternative track into ``out_dir/<track.folder>/``, timed as the main track's audio is.

    Chunked ladder: on the source's timeline, like its audio (``commands._timeline_options``). Muxed ladder:
    its rungs start ``shift`` seconds late (x264's B-frame delay, moved into the edit lists: 0.08 s at 25 fps,
    measured by ``video_shift``); ``-output_ts_offset`` gives the alternative the same first decode time (0)
    and the same edit list as the muxed audio (measured on ffmpeg 5.1: first sample presented at 0.06 s in
    both, the AAC priming before it), so a player that honours edit lists and one that does not (hls.js) each
    play it exactly where they play the main track.
    """
    args = hls_ladder_command(
        profile=profile,
        probe=track_probe(probe, track.number),
        source=source,
        out_dir=out_dir,
        variants=[alternative_variant(profile, probe, track)],
        source_timeline=chunked,
        audio_filters=audio_filters,
    )
    if chunked or not shift:
        return args
    at = args.index(str(out_dir / "%v" / PLAYLIST_NAME))
    return [*args[:at], "-output_ts_offset", f"{shift:.3f}", *args[at:]]


def video_shift(variant_dir: Path) -> float:
    """When the first frame of a muxed rung is presented (its init + first segment probed), seconds."""
    playlist = m3u8.load(str(variant_dir / PLAYLIST_NAME))
    if not playlist.segments:
        return 0.0
    first = playlist.segments[0]
    init = first.init_section.uri if first.init_section else None
    with tempfile.TemporaryDirectory() as scratch:
        joined = Path(scratch) / "first.mp4"
        parts = [*([init] if init else []), first.uri]
        joined.write_bytes(b"".join((variant_dir / part).read_bytes() for part in parts))
        try:
            streams = ffprobe_json(joined).get("streams", [])
        except ProbeError:
            return 0.0
    video = next((s for s in streams if s.get("codec_type") == "video"), {})
    try:
        return max(0.0, float(video.get("start_time") or 0))
    except ValueError:
        return 0.0


def alternative_filters(*, profile: HlsProfile, probe: ProbeResult, track: AudioTrack, measured) -> list:
    """Loudness as for the main track (from the alternative's own measurement), then padded with silence or cut
    to the main track's span: a dub that ends early must not fail the span check of the whole ladder (pure)."""
    alone = track_probe(probe, track.number)
    span = f"{probe.audio_span:.3f}"
    return [
        *loudness_filters(
            target=profile.loudness,
            measured=measured,
            source_channels=alone.audio_channels,
            output_channels=profile.audio_channels,
        ),
        ("apad", {"whole_dur": span}),
        ("atrim", {"duration": span}),
    ]


def _measured(source: Path, alone: ProbeResult, profile: HlsProfile):
    # An alternative that cannot be measured is offered as it is rather than failing the whole ladder.
    if not profile.loudness:
        return None
    try:
        return loudness_measure(source=source, probe=alone, target=profile.loudness)
    except BadInputError:
        return None


def encode_alternatives(
    *, source: Path, probe: ProbeResult, profile: HlsProfile, out_dir: Path, chunked: bool, on_progress
) -> list:
    """Measure and encode every alternative track (after the ladder, whose timing they copy); returns
    [(track, normalised)] for the master and the checks."""
    done, tracks = [], alternatives(probe)
    top = next((v for v in plan_variants(profile, probe) if v.has_video), None)
    shift = video_shift(out_dir / top.name) if top and not chunked else 0.0
    for index, track in enumerate(tracks):
        alone = track_probe(probe, track.number)
        measured = _measured(source, alone, profile)
        filters = alternative_filters(profile=profile, probe=probe, track=track, measured=measured)
        args = alternative_command(
            profile=profile,
            probe=probe,
            track=track,
            source=source,
            out_dir=out_dir,
            audio_filters=filters,
            chunked=chunked,
            shift=shift,
        )

        def report(fraction: float, index=index) -> bool:
            return on_progress((index + fraction) / len(tracks))

        check_run(run_ffmpeg(args, duration=probe.duration, on_progress=report))
        done.append((track, measured is not None))
    return done


# --- The master playlist (text in, text out) --------------------------------------------------------------


def media_line(track: AudioTrack, *, group: str, channels: int, uri: str | None) -> str:
    """One EXT-X-MEDIA line; the main track is the group's default (the player starts on it)."""
    attributes = [f'TYPE=AUDIO,GROUP-ID="{group}",NAME="{_quoted(track.name)}"']
    if track.language:
        attributes.append(f'LANGUAGE="{track.language}"')
    attributes.append(f'DEFAULT={"YES" if track.main else "NO"},AUTOSELECT=YES,CHANNELS="{channels}"')
    if uri:
        attributes.append(f'URI="{uri}"')
    return "#EXT-X-MEDIA:" + ",".join(attributes)


def with_muxed_alternatives(master: str, *, tracks: list[AudioTrack], alt_peak: int, channels: int) -> str:
    """A muxed ladder's master with the audio group: the main track without URI, each alternative with its
    own; every variant carrying audio names the group and counts the biggest alternative in its BANDWIDTH."""
    lines = master.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:") and "mp4a." in line:
            line = _BANDWIDTH.sub(lambda m: f"BANDWIDTH={int(m.group(1)) + alt_peak}", line, count=1)
            lines[index] = f'{line},AUDIO="{GROUP_ID}"'
    media = [media_line(t, group=GROUP_ID, channels=channels, uri=None if t.main else t.uri) for t in tracks]
    first = next((i for i, line in enumerate(lines) if line.startswith(("#EXT-X-MEDIA:", "#EXT-X-STREAM-INF:"))), None)
    at = len(lines) if first is None else first
    lines[at:at] = media
    return "\n".join(lines) + "\n"


def _quoted(value: str) -> str:
    # An HLS quoted-string may hold neither a double quote nor a line break (RFC 8216 4.2).
    return value.replace('"', "'").replace("\r", " ").replace("\n", " ")


# --- What the editor reads ---------------------------------------------------------------------------------


def notices(probe_data: dict | None) -> list[str]:
    """One sentence for the editor when the master has several audio tracks (from the stored probe)."""
    data = probe_data or {}
    tracks = data.get("audio_tracks") or ()
    if len(tracks) < 2:
        return []
    main = int(data.get("main_audio") or 0)
    probe = replace(_EMPTY, audio_tracks=tuple(tracks), main_audio=main)
    planned = plan_tracks(probe)
    others = "、".join(track.name for track in planned if not track.main)
    return [
        _("文件有 %(count)d 条音轨：各版本都用“%(main)s”；“%(others)s”作为可切换的音轨提供给播放器")
        % {"count": len(tracks), "main": planned[0].name, "others": others}
    ]


_EMPTY = ProbeResult(
    duration=0.0,
    width=0,
    height=0,
    fps=0.0,
    has_video=False,
    has_audio=True,
    video_codec="",
    audio_codec="",
    rotation=0,
    audio_channels=0,
    audio_sample_rate=0,
    format_name="",
)
