"""Rendition profiles, kept as data.

An administrator should be able to read this file at a glance and know what every screen gets. Nothing
here runs ffmpeg: the command modules (``ffmpeg/commands.py`` and, beside this file, ``tv.py``, ``screens.py``,
``audio_edition.py``, ``images.py``, ``captions.py``, ``documents/``) turn a profile plus a probe result into
argument lists.

At the bottom, ``JOB_GROUPS`` says which profiles run together in one job, on which queue, for which kind
of asset; ``PROFILES`` is the registry the job service looks profiles up in.
"""

from dataclasses import dataclass

# --- Shared pieces ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoudnessTarget:
    """EBU R128 / ITU-R BS.1770 loudness: applied by two-pass ``loudnorm`` (measure, then apply linearly)."""

    integrated: float  # LUFS (= LKFS) for stereo and surround sources
    true_peak: float  # dBTP ceiling
    loudness_range: float = 11.0  # LU; loudnorm's LRA target, only used if it must fall back to dynamic mode
    mono_integrated: float | None = None  # LUFS for mono sources, where a standard asks for less

    def integrated_for(self, channels: int) -> float:
        return self.mono_integrated if channels == 1 and self.mono_integrated is not None else self.integrated


# Tolerance the output check allows between the target and what ebur128 measures on the result.
LOUDNESS_TOLERANCE_LU = 1.0

# Phones and the web: mobile listening, as Apple and AES TD1004 recommend for streaming.
LOUDNESS_MOBILE = LoudnessTarget(integrated=-16.0, true_peak=-1.0)
# TV: ITU-R BS.1864 (adapted by China's GY/T 282): −24 LKFS, true peak ≤ −2 dBTP.
LOUDNESS_TV = LoudnessTarget(integrated=-24.0, true_peak=-2.0)
# Audio edition: −16 LUFS stereo, −19 LUFS mono (AES TD1004), true peak ≤ −1 dBTP.
LOUDNESS_AUDIO = LoudnessTarget(integrated=-16.0, true_peak=-1.0, mono_integrated=-19.0)


# --- Phones and web: adaptive HLS ------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoRung:
    """One video step of an adaptive ladder, named by its height for a 16:9 landscape source.

    For sources of another shape the *short side* of the output equals ``short_side`` and the long side
    follows the source's aspect ratio, so portrait video stays portrait.
    """

    name: str
    width: int
    height: int
    video_bitrate: int  # bits per second, the average the encoder aims at
    audio_bitrate: int  # bits per second of the AAC track muxed with this rung

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)


@dataclass(frozen=True)
class AudioRung:
    """An audio-only variant (for weak rural networks, and the whole ladder of an audio source)."""

    name: str
    audio_bitrate: int


@dataclass(frozen=True)
class HlsProfile:
    """Adaptive HLS for phones and the web, after Apple's HLS authoring specification."""

    name: str
    kind: str  # the Rendition.kind it produces
    container: str  # segment container: "fmp4" (CMAF)
    video_codec: (
        str  # the software encoder; MEDIA_VIDEO_ENCODER=h264_nvenc swaps in NVENC where present (ffmpeg/encoders.py)
    )
    video_profile: str  # H.264 profile
    pixel_format: str
    audio_codec: str
    audio_sample_rate: int
    audio_channels: int
    gop_seconds: float  # closed GOP, keyframes at the same instants on every rung
    segment_seconds: float  # a multiple of gop_seconds, so every segment starts on a keyframe
    maxrate_factor: float  # peak cap relative to the average bitrate (Apple: measured within 10%)
    bufsize_factor: float
    preset: str  # x264 speed/quality trade-off
    video_rungs: tuple[VideoRung, ...]
    audio_rungs: tuple[AudioRung, ...]
    audio: bool = True  # False: never add audio, even when the source has it
    loudness: LoudnessTarget | None = None
    max_frame_rate: float = 60.0
    # Apple's HLS authoring spec: high-frame-rate (50/60) sources keep their rate only on rungs of this short side
    # and up; smaller rungs get half the rate (25/30), where the extra frames cost bits a phone screen cannot show.
    high_frame_rate_min_short_side: int = 720
    deinterlace: bool = True  # interlaced sources go through bwdif (one frame per frame)
    iframe_playlists: bool = True  # EXT-X-I-FRAME-STREAM-INF for trick play (scrubbing on TV remotes)
    captions: bool = True  # WebVTT subtitle renditions in the master when the asset has captions


HLS_WEB = HlsProfile(
    name="hls_web",
    kind="hls",
    container="fmp4",
    video_codec="libx264",
    video_profile="high",
    pixel_format="yuv420p",
    audio_codec="aac",
    audio_sample_rate=48_000,
    audio_channels=2,
    gop_seconds=2.0,
    segment_seconds=6.0,
    maxrate_factor=1.1,
    bufsize_factor=2.0,
    preset="veryfast",
    video_rungs=(
        VideoRung("1080p", 1920, 1080, 6_000_000, 128_000),
        VideoRung("720p", 1280, 720, 3_000_000, 128_000),
        VideoRung("540p", 960, 540, 2_000_000, 128_000),
        VideoRung("360p", 640, 360, 730_000, 96_000),
        VideoRung("234p", 416, 234, 145_000, 64_000),
    ),
    audio_rungs=(AudioRung("audio", 64_000),),
    loudness=LOUDNESS_MOBILE,
)


# --- TV set-top boxes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TvProfile:
    """One 1080p progressive rung for TV boxes: as a faststart MP4 file and as single-rung HLS.

    The picture is fitted into the frame (pillar- or letterboxed, never stretched); interlaced sources are
    deinterlaced. The HLS copy is packaged from the MP4 without encoding again. Frame rate: the source's own
    where the box plays it (up to ``max_frame_rate``), halved until it does above that; never a repeated
    frame (``tv.tv_frame_rate``). ``frame_rate`` is only for a source that states none.
    """

    name: str
    kind: str  # Rendition.kind of the MP4 file; the HLS copy is kind "hls" under profile f"{name}_hls"
    width: int
    height: int
    frame_rate: int  # constant output rate
    video_codec: str
    video_profile: str
    video_level: str
    pixel_format: str
    video_bitrate: int
    maxrate: int  # the video's cap (VBV), chosen so the whole stream's measured peak stays under peak_bitrate
    bufsize: int
    gop_seconds: float
    preset: str
    audio_codec: str
    audio_bitrate: int
    audio_sample_rate: int
    audio_channels: int
    loudness: LoudnessTarget
    hls_segment_seconds: float
    deinterlace: bool = True
    faststart: bool = True  # moov at the front, so a box can start playing before the download ends
    peak_bitrate: int = 0  # bits/s the whole stream's measured peak must stay under (0: no ceiling)
    max_frame_rate: float = 30.0  # H.264 level 4.0 carries 1080p up to 30 fps
    iframe_playlists: bool = True  # the HLS copy's I-frame playlist: trick play (scrubbing) on TV remotes


# fMP4 boxes, moof/mdat headers and the audio's framing, as a share of the payload: a margin, not a measurement.
CONTAINER_OVERHEAD = 0.03


def tv_peak_bound(profile: "TvProfile") -> float:
    """The highest bitrate one whole HLS segment of this profile can measure (VBV bound, audio, container)."""
    seconds = profile.hls_segment_seconds
    video = (profile.maxrate * seconds + profile.bufsize) / seconds
    return (video + profile.audio_bitrate) * (1 + CONTAINER_OVERHEAD)


TV_1080P = TvProfile(
    name="tv_1080p",
    kind="mp4",
    width=1920,
    height=1080,
    frame_rate=25,
    video_codec="libx264",
    video_profile="high",
    video_level="4.0",
    pixel_format="yuv420p",
    # The box's ceiling is 8 Mb/s for the whole stream (peak_bitrate), measured per 6 s HLS segment. Any window
    # of T seconds carries at most maxrate × T + bufsize of video (the VBV bound), plus audio and ~3 % container:
    # (6.9 × 6 + 3.45) / 6 + 0.192 = 7.67 Mb/s, × 1.03 = 7.90 (tv_peak_bound). 8 / 16 Mb/s measured up to 9.4.
    video_bitrate=6_900_000,
    maxrate=6_900_000,
    bufsize=3_450_000,
    peak_bitrate=8_000_000,
    gop_seconds=1.0,
    preset="veryfast",
    audio_codec="aac",
    audio_bitrate=192_000,
    audio_sample_rate=48_000,
    audio_channels=2,
    loudness=LOUDNESS_TV,
    hls_segment_seconds=6.0,
)


# --- Public screens (subway, bus, lobby): muted, looping -------------------------------------------------


@dataclass(frozen=True)
class ScreenProfile:
    """A looping MP4 for a public screen. ``layout`` says how the picture sits in the frame:

    - "landscape": the source fitted into a landscape frame;
    - "portrait": a native portrait frame; a landscape source is cropped at the item's focal point or set on
      a blurred, enlarged copy of itself ("crop" / "blur", chosen per item, ``portrait_fill`` is the default);
    - "portrait_rotated": the portrait picture turned 90° clockwise inside a landscape frame, for players
      that only output landscape to a screen mounted on its side.
    """

    name: str
    kind: str
    layout: str
    width: int  # the frame as encoded
    height: int
    frame_rate: int  # constant
    video_codec: str
    video_profile: str
    video_level: str
    pixel_format: str
    video_bitrate: int
    maxrate: int
    bufsize: int
    gop_seconds: float
    preset: str
    audio: bool = False  # screens are muted: no audio track at all
    burn_captions: bool = True  # a muted screen needs its words in the picture
    portrait_fill: str = "blur"  # default for landscape sources in a portrait frame: "blur" or "crop"
    loop_fade_seconds: float = 0.5  # the last moments fade towards the first frame, so the loop has no jump


def _screen(name: str, layout: str, width: int, height: int) -> ScreenProfile:
    return ScreenProfile(
        name=name,
        kind="mp4",
        layout=layout,
        width=width,
        height=height,
        frame_rate=25,
        video_codec="libx264",
        video_profile="high",
        video_level="4.0",
        pixel_format="yuv420p",
        video_bitrate=6_000_000,
        maxrate=8_000_000,
        bufsize=12_000_000,
        gop_seconds=2.0,
        preset="veryfast",
    )


SCREEN_LANDSCAPE = _screen("screen_landscape", "landscape", 1920, 1080)
SCREEN_PORTRAIT = _screen("screen_portrait", "portrait", 1080, 1920)
SCREEN_PORTRAIT_ROTATED = _screen("screen_portrait_rotated", "portrait_rotated", 1920, 1080)


# --- Audio edition ("灯塔有声") -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioEditionProfile:
    """A plain audio file of the programme: M4A for today's phones, MP3 for older devices."""

    name: str
    kind: str
    container: str  # file extension and muxer: "m4a" (ipod muxer, faststart) or "mp3"
    audio_codec: str
    audio_bitrate: int
    audio_sample_rate: int
    loudness: LoudnessTarget


AUDIO_M4A = AudioEditionProfile(
    name="audio_m4a",
    kind="audio",
    container="m4a",
    audio_codec="aac",
    audio_bitrate=128_000,
    audio_sample_rate=48_000,
    loudness=LOUDNESS_AUDIO,
)
AUDIO_MP3 = AudioEditionProfile(
    name="audio_mp3",
    kind="audio",
    container="mp3",
    audio_codec="libmp3lame",
    audio_bitrate=128_000,
    audio_sample_rate=44_100,  # what old MP3 players expect
    loudness=LOUDNESS_AUDIO,
)


# --- Images ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PosterProfile:
    """A still picture for players and cards, chosen to avoid black or blank frames."""

    name: str
    kind: str
    container: str  # "jpeg"
    max_width: int
    max_height: int
    quality: int  # ffmpeg -q:v for mjpeg: 2 (best) … 31
    scan_seconds: float  # how far into the source to look for a representative frame
    scan_frames: int  # frames the `thumbnail` filter compares (it skips black and blank ones)


@dataclass(frozen=True)
class CardSize:
    name: str  # "phone", "tv"
    width: int
    height: int


@dataclass(frozen=True)
class CardProfile:
    """Fixed-size 16:9 cards cut from the poster (centre crop), for lists on phones and TV menus."""

    name: str
    kind: str
    quality: int
    sizes: tuple[CardSize, ...]


@dataclass(frozen=True)
class SpriteProfile:
    """A thumbnail sprite sheet plus a WebVTT track (``#xywh=`` fragments) for previews while seeking."""

    name: str
    kind: str
    tile_width: int  # height follows the source's shape
    columns: int
    max_tiles: int  # long sources take thumbnails further apart rather than growing the sheet
    min_interval_seconds: float
    quality: int


POSTER = PosterProfile(
    name="poster",
    kind="poster",
    container="jpeg",
    max_width=1280,
    max_height=720,
    quality=3,
    scan_seconds=10.0,
    scan_frames=50,
)
CARDS = CardProfile(
    name="cards",
    kind="image",
    quality=4,
    sizes=(CardSize("phone", 480, 270), CardSize("tv", 960, 540)),
)
SPRITE = SpriteProfile(
    name="sprite",
    kind="sprite",
    tile_width=160,
    columns=10,
    max_tiles=100,
    min_interval_seconds=2.0,
    quality=5,
)


# --- Captions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptionProfile:
    """SRT or WebVTT in; a clean WebVTT file plus a segmented HLS subtitle playlist out."""

    name: str
    kind: str
    segment_seconds: float  # the same as the video's, so players fetch cues with the segments
    default_language: str  # BCP 47


CAPTIONS = CaptionProfile(name="captions", kind="captions", segment_seconds=6.0, default_language="zh-Hans")


# --- Documents (e-books, periodical issues) --------------------------------------------------------------


@dataclass(frozen=True)
class DocumentProfile:
    """PDF pages to images at two widths plus per-page text; covers and metadata for PDF and EPUB."""

    name: str
    kind: str
    page_widths: tuple[int, ...]  # large for reading, small for the page strip
    page_quality: int  # JPEG quality 1..100
    cover_width: int
    max_pages: int  # refuse (not truncate) larger documents: an editor should split them
    max_epub_bytes: int  # total uncompressed size an EPUB may unpack to (zip-bomb guard)
    max_epub_ratio: int  # largest compression ratio a single EPUB member may have


DOCUMENT = DocumentProfile(
    name="document",
    kind="pages",
    page_widths=(1600, 400),
    page_quality=82,
    cover_width=600,
    max_pages=3000,
    max_epub_bytes=500 * 1024 * 1024,
    max_epub_ratio=200,
)


# --- Long sources: chunked parallel encoding -------------------------------------------------------------


@dataclass(frozen=True)
class ChunkPolicy:
    """Sources longer than ``min_source_seconds`` are encoded in chunks by several workers at once.

    Chunk boundaries fall on segment boundaries (a multiple of the profile's segment length), so every chunk
    starts on a keyframe the ladder would have put there anyway and the chunks join without re-encoding.
    """

    min_source_seconds: float
    chunk_seconds: float


CHUNKING = ChunkPolicy(min_source_seconds=20 * 60, chunk_seconds=300.0)


# --- Jobs: which profiles run together, where, for what ----------------------------------------------------


@dataclass(frozen=True)
class JobGroup:
    """Profiles one transcode job produces. Heavy video work and light image/document work use separate
    task queues, so a thumbnail never waits behind an hour of x264."""

    name: str
    queue: str  # django-tasks queue name
    profiles: tuple[str, ...]
    asset_kinds: tuple[str, ...]  # MediaAsset.Kind values it applies to
    default: bool = True  # False: only when asked for (public screens are chosen per item)


QUEUE_HEAVY = "media"
QUEUE_LIGHT = "media_light"

JOB_GROUPS = (
    JobGroup("ladder", QUEUE_HEAVY, ("hls_web",), ("video", "audio")),
    JobGroup("tv", QUEUE_HEAVY, ("tv_1080p",), ("video",)),
    JobGroup("audio_edition", QUEUE_HEAVY, ("audio_m4a", "audio_mp3"), ("video", "audio")),
    JobGroup(
        "screens",
        QUEUE_HEAVY,
        ("screen_landscape", "screen_portrait", "screen_portrait_rotated"),
        ("video",),
        default=False,
    ),
    # Audio: only with cover art (jobs/analysis.groups_for checks), which becomes its poster and cards.
    JobGroup("images", QUEUE_LIGHT, ("poster", "cards", "sprite"), ("video", "image", "audio")),
    JobGroup("document", QUEUE_LIGHT, ("document",), ("document",)),
)

PROFILES = {
    profile.name: profile
    for profile in (
        HLS_WEB,
        TV_1080P,
        SCREEN_LANDSCAPE,
        SCREEN_PORTRAIT,
        SCREEN_PORTRAIT_ROTATED,
        AUDIO_M4A,
        AUDIO_MP3,
        POSTER,
        CARDS,
        SPRITE,
        CAPTIONS,
        DOCUMENT,
    )
}
GROUPS = {group.name: group for group in JOB_GROUPS}
