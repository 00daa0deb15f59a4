"""HDR and wide-gamut masters → SDR BT.709, the only colour our 8-bit H.264 outputs carry.

Phones record HDR by default: HLG (iPhone, Pixel) or PQ (HDR10/HDR10+), BT.2020 primaries, 10-bit. Squeezed
into 8-bit H.264 as they are (or merely relabelled BT.709) such pictures look grey and washed out, so every
8-bit output is tone-mapped first. Pure functions: the probe says what the source is, these return the
filters (name, options) that ``commands.py``, ``steps/tv.py``, ``steps/screens.py`` and ``steps/images.py``
put in front of their own chains, and the colour tags every output then states.

The mapping (libzimg's zscale and ffmpeg's tonemap, both in Debian's ffmpeg 5.1) follows ITU-R BT.2408: HDR
reference white (graphics white, a sheet of paper) is 203 cd/m² in both PQ and HLG, so 203 cd/m² becomes
SDR white. Linear light is scaled so that 203 cd/m² is 1.0; ``mobius`` keeps everything up to 0.8 of SDR
white's linear light (about 91 % of the SDR signal: faces, skies, the picture's mean level) exactly as it is
and rolls what is brighter off smoothly up to the source's peak (its MaxCLL or mastering-display peak when it
states one, else 1000 cd/m², what phones master to and HLG's nominal peak). ``desat=0``: the tonemap filter's
highlight desaturation is off, so bright colours keep their hue and chroma (no difference on the test pictures,
which have nothing above reference white). Gamut is mapped BT.2020 → BT.709 in
linear light before the tone curve. Chroma is resampled with spline36 (bilinear lost ~1 % more saturation).

A BT.2020 source with an SDR transfer (rare: some cameras) gets the gamut conversion without a tone curve.
"""

from dataclasses import dataclass

PQ = "smpte2084"
HLG = "arib-std-b67"
HDR_TRANSFERS = frozenset({PQ, HLG})
WIDE_PRIMARIES = frozenset({"bt2020"})
# BT.2408 reference white and the peak assumed when a source states none (cd/m²).
REFERENCE_WHITE_NITS = 203.0
DEFAULT_PEAK_NITS = 1000.0
# mobius leaves linear values up to this (in SDR-white units) untouched and compresses the rest: a choice between
# matching an SDR render of the picture and keeping highlight detail. Measured (greys of 203/400/700/1000 cd/m² →
# 8-bit luma; mean luma of testsrc2 made HDR and mapped back, against its SDR original):
#   0.9: 231/234/235/235, −0.1 %;  0.8: 226/233/235/235, −1.9 %;  0.7: 221/231/234/235, −3.6 %;
#   0.5: 212/226/233/235, −7.3 %.  ffmpeg's default 0.3 gives highlights more room and darkens pictures more.
# What is far above reference white (700 cd/m² and up) ends as white whichever is chosen: SDR has no room left.
ROLL_OFF_FROM = 0.8
RESAMPLER = "spline36"
# What every 8-bit output says about itself (the ffmpeg output options).
SDR_TAGS = {"colorspace": "bt709", "color_primaries": "bt709", "color_trc": "bt709"}
# ffprobe's matrix names that zscale spells otherwise; the rest are the same words.
_ZSCALE_MATRIX = {"bt2020nc": "2020_ncl", "bt2020c": "2020_cl"}


@dataclass(frozen=True)
class SourceColour:
    """The colour facts of a source that the conversion needs (from ``ProbeResult``)."""

    transfer: str = ""  # ffprobe's color_transfer: smpte2084, arib-std-b67, bt709, … ("" unknown)
    primaries: str = ""  # color_primaries: bt2020, bt709, …
    matrix: str = ""  # color_space: bt2020nc, bt709, …
    range: str = ""  # color_range: tv, pc
    peak_nits: float = 0.0  # MaxCLL or the mastering display's peak; 0 unknown

    @property
    def is_hdr(self) -> bool:
        return self.transfer in HDR_TRANSFERS

    @property
    def needs_conversion(self) -> bool:
        """HDR, or SDR in a gamut wider than BT.709: either would come out wrong on an 8-bit BT.709 output."""
        return self.is_hdr or self.primaries in WIDE_PRIMARIES


# One filter: (ffmpeg filter name, its options), as ffmpeg-python's ``.filter(name, **options)`` takes them.
Filter = tuple[str, dict]


def sdr_filters(colour: SourceColour) -> list[Filter]:
    """The filters that turn this source into SDR BT.709 (limited range, 4:2:0 8-bit); [] when it already is."""
    if not colour.needs_conversion:
        return []
    source = _input_options(colour)
    if not colour.is_hdr:
        # Wide gamut, SDR transfer: zscale maps the primaries in linear light by itself.
        to_709 = {"primaries": "bt709", "transfer": "bt709", "matrix": "bt709", "range": "tv"}
        return [("zscale", {**source, **to_709, "filter": RESAMPLER}), ("format", {"pix_fmts": "yuv420p"})]
    return [
        ("zscale", {**source, "transfer": "linear", "npl": f"{REFERENCE_WHITE_NITS:g}", "filter": RESAMPLER}),
        ("format", {"pix_fmts": "gbrpf32le"}),
        ("zscale", {"primaries": "bt709"}),
        ("tonemap", {"tonemap": "mobius", "param": f"{ROLL_OFF_FROM:g}", "desat": "0", "peak": _peak(colour)}),
        ("zscale", {"transfer": "bt709", "matrix": "bt709", "range": "tv", "filter": RESAMPLER}),
        ("format", {"pix_fmts": "yuv420p"}),
    ]


def output_tags(colour: SourceColour) -> dict:
    """Colour tags for an 8-bit output: BT.709 stated outright when the picture was converted to it.

    An SDR source keeps what it had (x264 copies the frames' tags): an untagged SD source's BT.601 must not be
    relabelled BT.709 where nothing converted it (``steps/tv.py`` converts and tags on its own).
    """
    return dict(SDR_TAGS) if colour.needs_conversion else {}


def apply_filters(stream, filters: list[Filter]):
    """Chain ``filters`` onto an ffmpeg-python stream."""
    for name, options in filters:
        stream = stream.filter(name, **options)
    return stream


def _input_options(colour: SourceColour) -> dict:
    # Stated, not left to the frames: a decoder may not carry the container's colour box onto its frames.
    options = {"tin": colour.transfer} if colour.transfer else {}
    if colour.primaries:
        options["pin"] = colour.primaries
    if colour.matrix:
        options["min"] = _ZSCALE_MATRIX.get(colour.matrix, colour.matrix)
    if colour.range in ("tv", "pc"):
        options["rin"] = colour.range
    return options


def _peak(colour: SourceColour) -> str:
    """The source's peak in units of reference white (tonemap's scale once npl is 203)."""
    nits = colour.peak_nits if colour.peak_nits > REFERENCE_WHITE_NITS else DEFAULT_PEAK_NITS
    return f"{nits / REFERENCE_WHITE_NITS:.4g}"
