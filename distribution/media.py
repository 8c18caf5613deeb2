"""Read what a distributor needs from uploaded artwork and audio, without trusting the upload.

Pure functions over binary file objects: no ORM, no storage. Every way an upload can be broken
(wrong type, truncated, corrupt, decompression bomb) ends in `UnreadableMedia` with a message a
label can act on. Audio is read from its headers only (plus, for FLAC, the tail of the file), so
a WAV master of hundreds of MB costs a few kilobytes of reads. No GPL code and no ffmpeg.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import asdict, dataclass
from typing import Any, BinaryIO

import filetype
from PIL import Image, UnidentifiedImageError


class UnreadableMedia(Exception):
    """The file is not a readable asset of its kind; `message` says what is wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


ARTWORK_TYPES: frozenset[str] = frozenset({"image/jpeg", "image/png"})
AUDIO_TYPES: frozenset[str] = frozenset({"audio/wav", "audio/flac"})
SUPPORTED_TYPES: frozenset[str] = ARTWORK_TYPES | AUDIO_TYPES

# filetype inspects up to 8192 bytes: an animated PNG is told from a still one by its acTL chunk.
SNIFF_BYTES = 8192
_MIME_ALIASES = {"audio/x-wav": "audio/wav", "audio/x-flac": "audio/flac"}


def sniff_content_type(head: bytes) -> str | None:
    """The type the bytes really are (never the client's claim), or None if not accepted."""
    if not head:
        return None
    kind = filetype.guess(bytes(head[:SNIFF_BYTES]))
    if kind is None:
        return None
    mime = _MIME_ALIASES.get(kind.mime, kind.mime)
    return mime if mime in SUPPORTED_TYPES else None


@dataclass(frozen=True)
class ArtworkAnalysis:
    format: str  # "JPEG" | "PNG"
    width: int
    height: int
    color_mode: str  # Pillow mode: "RGB", "RGBA", "CMYK", "L", "P", ...
    dpi: tuple[float, float] | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["dpi"] = list(self.dpi) if self.dpi else None
        return data


@dataclass(frozen=True)
class AudioAnalysis:
    container: str  # "WAV" | "FLAC"
    codec: str  # "PCM" | "IEEE_FLOAT" (WAV) | "FLAC"
    sample_rate: int
    bit_depth: int
    channels: int
    duration_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_PIL_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG"}  # MPO: camera multi-picture JPEG
# What Pillow raises on bad data while decoding; anything else escaping is a bug, not bad input.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, IndexError, struct.error, zlib.error, EOFError)


def analyse_artwork(fileobj: BinaryIO, *, max_pixels: int) -> ArtworkAnalysis:
    """Format, size, mode and DPI of a JPEG or PNG, after proving every pixel decodes.

    Only the JPEG and PNG plugins may open the file (no other parser sees untrusted bytes). The
    pixel limit is checked on the header before anything is decoded. Pillow's own bomb guard
    (global `Image.MAX_IMAGE_PIXELS`, left untouched here) still fires first for images over
    twice its limit; its error, and its warning where warnings are escalated, become
    `UnreadableMedia` too.
    """
    kind = "image"
    fileobj.seek(0)
    try:
        with Image.open(fileobj, formats=("JPEG", "PNG")) as img:
            kind = _PIL_FORMATS.get(img.format or "", "")
            if not kind:
                raise UnreadableMedia(f"Unsupported image format {img.format}")
            width, height = img.size
            if width * height > max_pixels:
                raise UnreadableMedia(
                    f"Image of {width * height} pixels exceeds the {max_pixels}-pixel limit "
                    "(decompression bomb)"
                )
            img.load()  # decode everything: a truncated or corrupt file fails here
            return ArtworkAnalysis(kind, width, height, img.mode, _dpi(img.info.get("dpi")))
    except UnidentifiedImageError:
        fileobj.seek(0)
        head = fileobj.read(SNIFF_BYTES)
        sniffed = sniff_content_type(head)
        if sniffed in ARTWORK_TYPES:  # right signature, but Pillow cannot even read the header
            kind = "JPEG" if sniffed == "image/jpeg" else "PNG"
            raise UnreadableMedia(f"Truncated or corrupt {kind} header") from None
        raise UnreadableMedia("Not a JPEG or PNG image" if head else "Empty file") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnreadableMedia(f"Image exceeds the decompression-bomb limit: {exc}") from None
    except _DECODE_ERRORS as exc:
        label = "Truncated" if "truncated" in str(exc).lower() else "Corrupt"
        raise UnreadableMedia(f"{label} {kind}: {exc}") from None


def _dpi(value: Any) -> tuple[float, float] | None:
    """Pillow's dpi, rounded to 0.01: PNG stores pixels per metre, so 300 dpi reads 299.9994."""
    if not isinstance(value, tuple) or len(value) != 2:
        return None
    x, y = (round(float(v), 2) for v in value)  # int, float or IFDRational (EXIF)
    return (x, y) if x > 0 and y > 0 else None


def analyse_audio(fileobj: BinaryIO, *, content_type: str) -> AudioAnalysis:
    """Container, codec, rate, depth, channels and exact duration of a WAV or FLAC file.

    `content_type` is the sniffed type (`sniff_content_type`); any other value is a caller bug
    (`ValueError`). Reads headers only, plus at most one frame's worth of tail for FLAC.
    """
    parser = {"audio/wav": _analyse_wav, "audio/flac": _analyse_flac}.get(content_type)
    if parser is None:
        raise ValueError(f"analyse_audio cannot read {content_type!r}")
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(0)
    if size == 0:
        raise UnreadableMedia("Empty file")
    try:
        return parser(fileobj, size)
    except (struct.error, IndexError) as exc:  # a header field pointing outside what was read
        raise UnreadableMedia(f"Corrupt {content_type} header: {exc}") from None


_WAV_CODECS = {0x0001: "PCM", 0x0003: "IEEE_FLOAT"}
_WAV_REFUSED = {0x0002: "MS ADPCM", 0x0006: "A-law", 0x0007: "mu-law", 0x0011: "IMA ADPCM"}


def _analyse_wav(f: BinaryIO, size: int) -> AudioAnalysis:
    """Walk the RIFF chunks by hand: the stdlib `wave` module rejects float and extensible WAV.

    Float WAV is reported (codec "IEEE_FLOAT") so validation can refuse it with a fix hint;
    compressed codecs are refused here since their duration is not derivable from the headers.
    """
    riff = f.read(12)
    if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:] != b"WAVE":
        raise UnreadableMedia("Not a WAV file (no RIFF/WAVE header)")
    fmt, data_size, pos = b"", -1, 12
    while not fmt or data_size < 0:
        header = f.read(8)
        if len(header) < 8:
            raise UnreadableMedia(f"Truncated or corrupt WAV: no {'data' if fmt else 'fmt'} chunk")
        chunk_id, (chunk_size,) = header[:4], struct.unpack("<I", header[4:])
        pos += 8
        if chunk_id == b"fmt ":
            if not 16 <= chunk_size <= 256:
                raise UnreadableMedia(f"Corrupt WAV: fmt chunk of {chunk_size} bytes")
            if len(fmt := f.read(chunk_size)) < chunk_size:
                raise UnreadableMedia("Truncated WAV: the file ends inside its fmt chunk")
        elif chunk_id == b"data":
            if pos + chunk_size > size:
                raise UnreadableMedia(
                    f"Truncated WAV: the data chunk declares {chunk_size} bytes "
                    f"but only {size - pos} are present"
                )
            data_size = chunk_size
        pos += chunk_size + (chunk_size & 1)  # RIFF chunks are padded to an even size
        f.seek(pos)
    tag, channels, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    depth = bits
    if tag == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: the real codec is in the sub-format GUID
        depth = struct.unpack_from("<H", fmt, 18)[0] or bits  # valid bits per sample
        tag = struct.unpack_from("<H", fmt, 24)[0]
    if (codec := _WAV_CODECS.get(tag)) is None:
        name = f"{_WAV_REFUSED.get(tag, 'unknown')} (format 0x{tag:04X})"
        raise UnreadableMedia(f"Unsupported WAV codec {name}: only PCM or float WAV")
    if not (channels and rate and bits) or block_align != channels * ((bits + 7) // 8):
        raise UnreadableMedia(
            f"Corrupt WAV fmt chunk: {channels} channels of {bits} bits "
            f"in blocks of {block_align} bytes at {rate} Hz"
        )
    if (frames := data_size // block_align) == 0:
        raise UnreadableMedia("WAV contains no audio samples")
    return AudioAnalysis("WAV", codec, rate, depth, channels, frames / rate)


def _analyse_flac(f: BinaryIO, size: int) -> AudioAnalysis:
    """Parse STREAMINFO, then prove the stream is whole by finding its final frame.

    STREAMINFO states the total sample count; a truncated file still carries it. So the last
    frame is located from the end of the file (frame sync code, CRC-8 over its header, CRC-16
    over the whole frame up to EOF) and must end exactly at that sample count.
    """
    if f.read(4) != b"fLaC":
        raise UnreadableMedia("Not a FLAC file (no fLaC marker)")
    header, info = f.read(4), f.read(34)
    packed = int.from_bytes(info[10:18], "big")  # rate:20 channels-1:3 bits-1:5 samples:36
    rate, channels = packed >> 44, (packed >> 41 & 0x7) + 1
    bits, total = (packed >> 36 & 0x1F) + 1, packed & (1 << 36) - 1
    if len(info) < 34 or header[0] & 0x7F or header[1:] != b"\0\0\x22" or not rate:
        raise UnreadableMedia("Corrupt FLAC: no valid STREAMINFO as the first metadata block")
    max_block, max_frame = int.from_bytes(info[2:4], "big"), int.from_bytes(info[7:10], "big")
    pos, last = 42, header[0] & 0x80
    while not last:  # skip the other metadata blocks (tags, pictures, padding)
        f.seek(pos)
        block = f.read(4)
        if len(block) < 4:
            raise UnreadableMedia("Truncated FLAC: the file ends inside its metadata")
        last, pos = block[0] & 0x80, pos + 4 + int.from_bytes(block[1:], "big")
    f.seek(pos)
    if f.read(2) not in (b"\xff\xf8", b"\xff\xf9"):
        raise UnreadableMedia("FLAC contains no audio frames after its metadata")
    end = _flac_stream_end(f, pos, size, max_frame, max_block)
    if total and end != total:
        raise UnreadableMedia(f"Truncated FLAC: audio ends at sample {end} of {total}")
    return AudioAnalysis("FLAC", "FLAC", rate, bits, channels, (total or end) / rate)


def _flac_stream_end(f: BinaryIO, start: int, size: int, max_frame: int, max_block: int) -> int:
    """The sample number just after the final frame; UnreadableMedia if that frame is cut."""
    # The last frame is at most max_frame bytes (0 = unknown: allow 4 MiB), plus an ID3v1 tag.
    window = min(size - start, (max_frame or 1 << 22) + 256)
    f.seek(size - window)
    tail = f.read(window)
    if len(tail) >= 128 and tail[-128:-125] == b"TAG":
        tail = tail[:-128]  # an ID3v1 tag some taggers append after the last frame
    stop = len(tail)
    while (i := max(tail.rfind(b"\xff\xf8", 0, stop), tail.rfind(b"\xff\xf9", 0, stop))) >= 0:
        frame = _flac_frame_header(tail[i : i + 16], max_block)
        if frame and _crc(tail[i:-2], _CRC16, 16) == int.from_bytes(tail[-2:], "big"):
            return frame[0] + frame[1]
        stop = i + 1
    raise UnreadableMedia("Truncated or corrupt FLAC: the last audio frame is incomplete")


def _flac_frame_header(h: bytes, max_block: int) -> tuple[int, int] | None:
    """(first sample, block size) from a frame header whose CRC-8 checks, else None."""
    if len(h) < 6 or h[3] & 1:
        return None
    size_code, rate_code, lead = h[2] >> 4, h[2] & 0xF, h[4]
    width = 0 if lead < 0x80 else 8 - (lead ^ 0xFF).bit_length()  # UTF-8-like coded number
    if size_code == 0 or rate_code == 15 or width in (1, 8):
        return None
    number, p = lead & (0x7F >> width), 5
    for byte in h[5 : 4 + width]:
        if byte & 0xC0 != 0x80:
            return None
        number, p = number << 6 | byte & 0x3F, p + 1
    if size_code in (6, 7):  # block size - 1 stored after the number, in 8 or 16 bits
        block, p = int.from_bytes(h[p : p + size_code - 5], "big") + 1, p + size_code - 5
    elif size_code == 1:
        block = 192
    else:  # 2-5: 576 * 2^(n-2), 8-15: 256 * 2^(n-8)
        block = 576 << size_code - 2 if size_code < 6 else 256 << size_code - 8
    p += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if p >= len(h) or _crc(h[:p], _CRC8, 8) != h[p]:
        return None
    variable = h[1] & 1  # variable block size: the number is a sample number, else a frame number
    return (number if variable else number * max_block), block


def _crc_table(poly: int, width: int) -> tuple[int, ...]:
    """Byte-wise lookup table for an MSB-first CRC with initial value 0 (FLAC's CRC-8/16)."""

    def entry(crc: int) -> int:
        for _ in range(8):  # bits above `width` never feed back into bit width-1
            crc = (crc << 1) ^ (poly if crc >> width - 1 & 1 else 0)
        return crc & (1 << width) - 1

    return tuple(entry(byte << width - 8) for byte in range(256))


_CRC8, _CRC16 = _crc_table(0x07, 8), _crc_table(0x8005, 16)  # FLAC frame header / frame


def _crc(data: bytes, table: tuple[int, ...], width: int) -> int:
    crc, shift, mask = 0, width - 8, (1 << width) - 1
    for byte in data:
        crc = ((crc << 8) & mask) ^ table[(crc >> shift) ^ byte]
    return crc
