"""Artwork and audio rules: presence, readability, format and technical specs of the files."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from distribution.choices import AssetKind, AssetStatus
from distribution.validation.rules import Finding, Rule, Severity, ValidationContext, rule
from distribution.validation.snapshot import AssetSnapshot, ReleaseSnapshot

# A problem with an analysed asset: the message, or (message, hint) to override the rule's hint.
AssetCheck = Callable[[AssetSnapshot, ValidationContext], "str | tuple[str, str] | None"]


def asset_rule(
    rule_id: str, *, kind: str, attribute: str, message: str, hint: str, ready_only: bool = True
) -> Callable[[AssetCheck], AssetCheck]:
    """Register a check run on the current artwork, or on each track's current audio.

    With `ready_only` the check only sees analysed assets: one still analysing or unreadable is
    reported once, by `<kind>.readable`, rather than by every rule that needs its analysis.
    """
    base = "artwork" if kind == AssetKind.ARTWORK else "tracks[].audio"
    path = f"{base}.{attribute}" if attribute else base

    def register(check: AssetCheck) -> AssetCheck:
        def run(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
            if kind == AssetKind.ARTWORK:
                assets = [("artwork", s.artwork)]
            else:
                assets = [(f"tracks[{i}].audio", t.audio) for i, t in enumerate(ctx.tracks)]
            for asset_path, asset in assets:
                if asset is None or (ready_only and asset.status != AssetStatus.READY):
                    continue
                problem = check(asset, ctx)
                if problem is None:
                    continue
                text, fix = problem if isinstance(problem, tuple) else (problem, None)
                yield rule.finding(
                    field=f"{asset_path}.{attribute}" if attribute else asset_path,
                    message=text,
                    hint=fix,
                    subject_type="asset",
                    subject_id=asset.id,
                )

        rule(rule_id, severity=Severity.ERROR, field=path, message=message, hint=hint)(run)
        return check

    return register


def _readable(asset: AssetSnapshot, _: ValidationContext) -> str | tuple[str, str] | None:
    what = "artwork" if asset.kind == AssetKind.ARTWORK else "audio"
    if asset.status == AssetStatus.UNREADABLE:
        reason = asset.error.strip().rstrip(".") or "no details recorded"
        return f"The {what} file could not be read: {reason}."
    if asset.status != AssetStatus.READY:
        return (
            f"The {what} file has not been analysed yet (status {asset.status}): "
            "analysis pending, retry shortly.",
            "Wait for the analysis to finish (usually under a minute) and validate again.",
        )
    return None


def _too_big(asset: AssetSnapshot, limit: int) -> str | None:
    if asset.size_bytes <= limit:
        return None
    mib = 1024 * 1024
    return (
        f"The {asset.kind} file is {asset.size_bytes:,} bytes ({asset.size_bytes / mib:,.1f} MiB), "
        f"over the limit of {limit:,} bytes ({limit / mib:,.1f} MiB)."
    )


# --- Artwork ------------------------------------------------------------------------------


@rule(
    "artwork.present",
    severity=Severity.ERROR,
    field="artwork",
    message="The release has no cover artwork.",
    hint="Upload a square RGB JPEG or PNG cover, at least 3000 pixels a side.",
)
def _artwork_present(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    if s.artwork is None:
        side = ctx.artwork_min_side
        fix = f"Upload a square RGB JPEG or PNG cover, at least {side}x{side} pixels."
        yield rule.finding(
            field="artwork", message=rule.message, hint=fix, subject_type="release", subject_id=s.id
        )


asset_rule(
    "artwork.readable",
    kind=AssetKind.ARTWORK,
    attribute="",
    message="The artwork file could not be analysed.",
    hint="Re-export the image as a standard JPEG or PNG and upload it again.",
    ready_only=False,
)(_readable)


@asset_rule(
    "artwork.format",
    kind=AssetKind.ARTWORK,
    attribute="format",
    message="The artwork is not a JPEG or PNG.",
    hint="Export the cover as JPEG or PNG and upload it again.",
)
def _artwork_format(a: AssetSnapshot, ctx: ValidationContext) -> str | None:
    fmt = a.analysis.get("format")
    return (
        None
        if fmt in ("JPEG", "PNG")
        else f"The artwork is {fmt or 'of unknown format'}; stores take JPEG or PNG."
    )


@asset_rule(
    "artwork.square",
    kind=AssetKind.ARTWORK,
    attribute="dimensions",
    message="The artwork is not square.",
    hint="Crop or extend the cover to a 1:1 aspect ratio and upload it again.",
)
def _artwork_square(a: AssetSnapshot, ctx: ValidationContext) -> str | None:
    width, height = a.analysis.get("width"), a.analysis.get("height")
    return None if width and width == height else f"The artwork is {width}x{height}, not square."


@asset_rule(
    "artwork.min_size",
    kind=AssetKind.ARTWORK,
    attribute="dimensions",
    message="The artwork is smaller than the minimum size.",
    hint="Export the cover at 3000x3000 pixels or more from the original design.",
)
def _artwork_min_size(a: AssetSnapshot, ctx: ValidationContext) -> tuple[str, str] | None:
    width, height, side = a.analysis.get("width"), a.analysis.get("height"), ctx.artwork_min_side
    if isinstance(width, int) and isinstance(height, int) and min(width, height) >= side:
        return None
    return (
        f"The artwork is {width}x{height} pixels; both sides must be at least {side}.",
        f"Export the cover at {side}x{side} pixels or more from the original design "
        "(an upscaled small image is rejected by stores' QC).",
    )


_COLOR_FIXES = {
    "CMYK": "Convert it from CMYK to RGB with an sRGB profile (Photoshop: Image > Mode > RGB "
    "Color; ImageMagick: `magick cover.jpg -colorspace sRGB cover-rgb.jpg`).",
    "RGBA": "Flatten the transparency onto a solid background and save without an alpha channel "
    "(`magick cover.png -background white -flatten -alpha off cover-rgb.png`).",
}


@asset_rule(
    "artwork.color_mode",
    kind=AssetKind.ARTWORK,
    attribute="color_mode",
    message="The artwork is not in RGB colour.",
    hint="Convert the image to RGB (sRGB profile) and save it without an alpha channel.",
)
def _artwork_color_mode(a: AssetSnapshot, ctx: ValidationContext) -> tuple[str, str] | None:
    mode = a.analysis.get("color_mode")
    if mode == "RGB":
        return None
    fix = _COLOR_FIXES.get(
        str(mode),
        "Convert it to RGB with an sRGB profile (Photoshop: Image > Mode > RGB Color; "
        "ImageMagick: `magick cover.png -colorspace sRGB -type TrueColor cover-rgb.png`).",
    )
    return f"The artwork colour mode is {mode}; stores require RGB.", fix


@asset_rule(
    "artwork.file_size",
    kind=AssetKind.ARTWORK,
    attribute="size_bytes",
    message="The artwork file is too large.",
    hint="Re-export the cover with more JPEG compression, or as an optimised PNG, and upload it.",
    ready_only=False,
)
def _artwork_file_size(a: AssetSnapshot, ctx: ValidationContext) -> str | None:
    return _too_big(a, ctx.artwork_max_bytes)


# --- Audio --------------------------------------------------------------------------------


@rule(
    "audio.present",
    severity=Severity.ERROR,
    field="tracks[].audio",
    message="A track has no audio master.",
    hint="Upload the track's master as a 16- or 24-bit stereo WAV or FLAC, 44.1 kHz or more.",
)
def _audio_present(rule: Rule, s: ReleaseSnapshot, ctx: ValidationContext) -> Iterator[Finding]:
    for index, track in enumerate(ctx.tracks):
        if track.audio is None:
            yield rule.finding(
                field=f"tracks[{index}].audio",
                message=f"{track.label} has no audio master.",
                subject_type="track",
                subject_id=track.id,
            )


asset_rule(
    "audio.readable",
    kind=AssetKind.AUDIO,
    attribute="",
    message="An audio file could not be analysed.",
    hint="Re-export the master as an uncompressed WAV or a FLAC file and upload it again.",
    ready_only=False,
)(_readable)


@asset_rule(
    "audio.format",
    kind=AssetKind.AUDIO,
    attribute="format",
    message="The audio is not PCM WAV or FLAC.",
    hint="Export the master as PCM WAV or FLAC (not MP3, AAC or other lossy formats).",
)
def _audio_format(a: AssetSnapshot, ctx: ValidationContext) -> str | None:
    container, codec = a.analysis.get("container"), a.analysis.get("codec")
    if (container, codec) in (("WAV", "PCM"), ("FLAC", "FLAC")):
        return None
    return f"The audio is {container} ({codec}); stores take PCM WAV or FLAC."


@asset_rule(
    "audio.bit_depth",
    kind=AssetKind.AUDIO,
    attribute="bit_depth",
    message="The audio bit depth is not 16 or 24.",
    hint="Export the master at 24 bits (or 16), with dither when reducing the bit depth.",
)
def _audio_bit_depth(a: AssetSnapshot, ctx: ValidationContext) -> str | None:
    depth = a.analysis.get("bit_depth")
    return None if depth in (16, 24) else f"The audio is {depth}-bit; stores take 16 or 24 bits."


@asset_rule(
    "audio.sample_rate",
    kind=AssetKind.AUDIO,
    attribute="sample_rate",
    message="The audio sample rate is below 44.1 kHz.",
    hint="Export the master at 44100 Hz or more from the original session (do not upsample).",
)
def _audio_sample_rate(a: AssetSnapshot, ctx: ValidationContext) -> str | None:
    rate = a.analysis.get("sample_rate")
    if isinstance(rate, int) and rate >= 44100:
        return None
    return f"The audio sample rate is {rate} Hz; stores need at least 44100 Hz."


@asset_rule(
    "audio.channels",
    kind=AssetKind.AUDIO,
    attribute="channels",
    message="The audio is not stereo.",
    hint="Export the master as a 2-channel stereo file (a mono mix goes out as dual mono).",
)
def _audio_channels(a: AssetSnapshot, ctx: ValidationContext) -> str | None:
    channels = a.analysis.get("channels")
    return None if channels == 2 else f"The audio has {channels} channel(s); stores need 2."


@asset_rule(
    "audio.file_size",
    kind=AssetKind.AUDIO,
    attribute="size_bytes",
    message="The audio file is too large.",
    hint="Export the master as FLAC (lossless, about half the size of WAV) and upload it again.",
    ready_only=False,
)
def _audio_file_size(a: AssetSnapshot, ctx: ValidationContext) -> str | None:
    return _too_big(a, ctx.audio_max_bytes)
