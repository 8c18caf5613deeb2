"""Real media files for tests and benchmarks, generated on the fly (nothing binary is committed).

Plain functions returning bytes, so any test can build exactly the file it needs. Images are a
small random tile scaled up (a 3000x3000 PNG or JPEG builds in about 0.1 s, yet is not one flat
colour); audio is a sine whose period is a whole number of frames, so one period is rendered
once and repeated.
"""

from __future__ import annotations

import io
import math
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from PIL import Image

_TILE = 64


def _picture(width: int, height: int, mode: str) -> Image.Image:
    """Random 64x64 colour blocks scaled up: real entropy, yet fast to build and to encode."""
    channels = [Image.effect_noise((_TILE, _TILE), sigma) for sigma in (40, 60, 80)]
    tile = Image.merge("RGB", channels)
    if mode == "RGBA":
        tile.putalpha(channels[0])
    elif mode == "P":
        tile = tile.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    elif mode != "RGB":
        tile = tile.convert(mode)
    return tile.resize((width, height), Image.Resampling.NEAREST)


def make_jpeg(
    width: int = 3000,
    height: int = 3000,
    mode: str = "RGB",
    dpi: tuple[int, int] | None = None,
    quality: int = 85,
) -> bytes:
    """A JPEG in `mode` ("RGB", "L" or "CMYK"), with a JFIF density only when `dpi` is given."""
    out = io.BytesIO()
    options: dict[str, object] = {"quality": quality}
    if dpi is not None:
        options["dpi"] = dpi
    _picture(width, height, mode).save(out, "JPEG", **options)
    return out.getvalue()


def make_png(
    width: int = 3000, height: int = 3000, mode: str = "RGB", dpi: tuple[int, int] | None = None
) -> bytes:
    """A PNG in `mode` ("RGB", "RGBA", "L", "P"), with a pHYs chunk only when `dpi` is given."""
    out = io.BytesIO()
    options: dict[str, object] = {"compress_level": 1}
    if dpi is not None:
        options["dpi"] = dpi
    _picture(width, height, mode).save(out, "PNG", **options)
    return out.getvalue()


def _sine_period(bit_depth: int, channels: int) -> tuple[bytes, int]:
    """One 100-frame period of a sine (441 Hz at 44.1 kHz, 480 Hz at 48 kHz) as frame bytes."""
    frames, width = 100, bit_depth // 8
    peak = (1 << (bit_depth - 1)) // 4  # -12 dBFS
    out = bytearray()
    for n in range(frames):
        sample = round(peak * math.sin(2 * math.pi * n / frames))
        out += sample.to_bytes(width, "little", signed=True) * channels
    return bytes(out), frames


def _frames(total: int, bit_depth: int, channels: int, chunk_frames: int) -> Iterator[bytes]:
    """`total` frames of the sine, in chunks of about `chunk_frames`."""
    period, period_frames = _sine_period(bit_depth, channels)
    frame_bytes = len(period) // period_frames
    block = period * max(1, chunk_frames // period_frames)
    block_frames = len(block) // frame_bytes
    written = 0
    while written < total:
        count = min(block_frames, total - written)
        yield block[: count * frame_bytes]
        written += count


def _write_wav(
    target: BinaryIO, seconds: float, sample_rate: int, bit_depth: int, channels: int
) -> None:
    if bit_depth not in (16, 24, 32):  # 8-bit WAV is unsigned: not generated here
        raise ValueError(f"unsupported bit depth {bit_depth}")
    total = round(seconds * sample_rate)
    with wave.open(target, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(bit_depth // 8)
        out.setframerate(sample_rate)
        out.setnframes(total)  # header right first time: no seek back for a size fix-up
        for chunk in _frames(total, bit_depth, channels, 1 << 16):
            out.writeframesraw(chunk)


def make_wav(
    seconds: float = 1.0, sample_rate: int = 44100, bit_depth: int = 16, channels: int = 2
) -> bytes:
    """An integer-PCM WAV (stdlib `wave`) of round(seconds * sample_rate) frames."""
    out = io.BytesIO()
    _write_wav(out, seconds, sample_rate, bit_depth, channels)
    return out.getvalue()


def make_wav_file(
    path: str | Path,
    *,
    seconds: float,
    sample_rate: int = 44100,
    bit_depth: int = 24,
    channels: int = 2,
) -> Path:
    """Stream a WAV to disk in 64k-frame chunks (a 200 MB master never sits in memory)."""
    path = Path(path)
    with path.open("wb") as handle:
        _write_wav(handle, seconds, sample_rate, bit_depth, channels)
    return path


def make_flac(
    seconds: float = 1.0, sample_rate: int = 44100, bit_depth: int = 16, channels: int = 2
) -> bytes:
    """A FLAC encoded by libsndfile/libFLAC through soundfile (a dev-only dependency)."""
    import soundfile  # dev only: keep this module importable without it

    subtype = {16: "PCM_16", 24: "PCM_24"}[bit_depth]
    total = round(seconds * sample_rate)
    out = io.BytesIO()
    with soundfile.SoundFile(
        out, "w", samplerate=sample_rate, channels=channels, format="FLAC", subtype=subtype
    ) as sound:
        # Render 32-bit samples; libsndfile scales them down to the target depth.
        for chunk in _frames(total, 32, channels, 1 << 14):
            sound.buffer_write(chunk, dtype="int32")
    return out.getvalue()


def truncate(data: bytes, keep: float = 0.5) -> bytes:
    """The first `keep` fraction of `data`: an upload cut off mid-transfer."""
    return data[: int(len(data) * keep)]
