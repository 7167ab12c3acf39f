"""The `.amxd` container, unfrozen and frozen, in the layout Max writes.

An `.amxd` is a series of little-endian chunks: `ampf` (the device type, `mmmm` for a MIDI effect),
`meta`, `ptch`. Unfrozen, `ptch` holds the patcher JSON, null-terminated. Frozen, `ptch` holds an
`mx@c` archive (big-endian): a 16-byte header (`mx@c`, its own length, the footer's offset), the
files back to back (the device's patcher JSON first), then a `dlst` footer with one `dire` entry per
file: `type`, `fnam`, `sz32`, `of32`, `vers`, `flag`, `mdat`, in that order. Offsets count from the
start of `ptch`'s data; names are null-terminated and padded to 4 bytes; dates are seconds since
1904 (HFS+). The field values follow a device frozen by Max (Ableton's maxdevtools test device).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

DEVICE_TYPE = b"mmmm"  # MIDI effect
META_UNFROZEN = 0
META_FROZEN = 7
HEADER = 16  # mx@c, header length, footer offset (u64)
FLAG_DEVICE = 0x11  # the device's own patcher
FLAG_EXTRACT = 0x08  # a file Max writes to disk before use (Node for Max scripts, audio)
FLAG_PLAIN = 0x00
HFS_EPOCH = 2082844800  # seconds from 1904-01-01 to 1970-01-01
TYPES = {".js": b"TEXT", ".json": b"JSON", ".maxpat": b"JSON", ".amxd": b"JSON"}


@dataclass(frozen=True)
class Embedded:
    """A file embedded in a frozen device: its name, bytes and modification time (Unix seconds)."""

    name: str
    data: bytes
    mtime: float
    extract: bool = False


def patch_json(patch: dict) -> bytes:
    """The patcher as Max stores it in a device: JSON ending in a newline, null-terminated."""
    return json.dumps(patch, indent=1).encode("utf-8") + b"\n\0"


def _chunk(tag: bytes, data: bytes) -> bytes:
    return tag + struct.pack("<I", len(data)) + data


def _container(meta: int, ptch: bytes) -> bytes:
    return _chunk(b"ampf", DEVICE_TYPE) + _chunk(b"meta", struct.pack("<I", meta)) + _chunk(b"ptch", ptch)


def amxd_bytes(patch: dict) -> bytes:
    """An unfrozen device: the patcher JSON alone (its files are loaded from beside it)."""
    return _container(META_UNFROZEN, patch_json(patch))


def _field(tag: bytes, data: bytes) -> bytes:
    return tag + struct.pack(">I", 8 + len(data)) + data


def _name(name: str) -> bytes:
    raw = name.encode("ascii") + b"\0"
    return raw + b"\0" * (-len(raw) % 4)


def file_type(name: str) -> bytes:
    """The four-character type Max records for a file, by its extension."""
    ext = name[name.rfind(".") :] if "." in name else ""
    return TYPES.get(ext, b"TEXT")


def _entry(name: str, size: int, offset: int, flag: int, mtime: float) -> bytes:
    fields = (
        _field(b"type", file_type(name))
        + _field(b"fnam", _name(name))
        + _field(b"sz32", struct.pack(">I", size))
        + _field(b"of32", struct.pack(">I", offset))
        + _field(b"vers", struct.pack(">I", 0))
        + _field(b"flag", struct.pack(">I", flag))
        + _field(b"mdat", struct.pack(">I", int(mtime) + HFS_EPOCH))
    )
    return _field(b"dire", fields)


def frozen_amxd_bytes(device_name: str, patch: dict, files: list[Embedded], device_mtime: float) -> bytes:
    """A frozen device: the patcher and every file it loads in one `mx@c` archive."""
    entries = [(device_name, patch_json(patch), FLAG_DEVICE, device_mtime)]
    entries += [(f.name, f.data, FLAG_EXTRACT if f.extract else FLAG_PLAIN, f.mtime) for f in files]
    body, footer, offset = b"", b"", HEADER
    for name, data, flag, mtime in entries:
        footer += _entry(name, len(data), offset, flag, mtime)
        body += data
        offset += len(data)
    footer = _field(b"dlst", footer)
    ptch = b"mx@c" + struct.pack(">IQ", HEADER, HEADER + len(body)) + body + footer
    return _container(META_FROZEN, ptch)


def read_frozen(data: bytes) -> list[dict]:
    """The `dire` entries of a frozen device, in order, each with its fields and the file's bytes
    (for tests and checks). Raises ValueError when `ptch` is not an `mx@c` archive or its footer is
    not a `dlst` of `dire` entries."""
    chunks, pos = {}, 0
    while pos < len(data):
        tag, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        chunks[tag] = data[pos + 8 : pos + 8 + size]
        pos += 8 + size
    ptch = chunks.get(b"ptch", b"")
    if ptch[:4] != b"mx@c":
        raise ValueError("not a frozen device: ptch does not start with mx@c")
    footer_at = struct.unpack(">Q", ptch[8:16])[0]
    footer = ptch[footer_at:]
    if footer[:4] != b"dlst" or struct.unpack(">I", footer[4:8])[0] != len(footer):
        raise ValueError("the dlst footer is missing or its length is wrong")
    entries, pos = [], 8
    while pos < len(footer):
        if footer[pos : pos + 4] != b"dire":
            raise ValueError(f"expected a dire entry at footer byte {pos}")
        size = struct.unpack(">I", footer[pos + 4 : pos + 8])[0]
        fields, f = [], pos + 8
        while f < pos + size:
            tag, fsize = footer[f : f + 4].decode("ascii"), struct.unpack(">I", footer[f + 4 : f + 8])[0]
            fields.append((tag, footer[f + 8 : f + fsize]))
            f += fsize
        entry = {"fields": [t for t, _ in fields], **{t: v for t, v in fields}}
        start, length = struct.unpack(">I", entry["of32"])[0], struct.unpack(">I", entry["sz32"])[0]
        entry["name"] = entry["fnam"].rstrip(b"\0").decode("ascii")
        entry["flag_value"] = struct.unpack(">I", entry["flag"])[0]
        entry["data"] = ptch[start : start + length]
        entries.append(entry)
        pos += size
    return entries
