"""Messages <-> datagrams and argument lists, read off the tables in :mod:`.spec`.

:func:`encode` writes one OSC datagram (python-osc's type writers; byte-identical to its
OscMessageBuilder, ~8x faster). :func:`pack` lays values out as a layout says and
:func:`pack_reply` builds a reply message from its shape; :func:`unpack` and :func:`unpack_reply`
read them back by field name. Step masks and capability bit sets are converted here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

import numpy as np

from ..grid import STEPS
from .spec import INT32_MAX, INT32_MIN, UINT32_MAX, Field, Shape, layout_types

Message = tuple  # (address: str, args: list, types: str): one OSC type tag per argument

_CAST = {"i": int, "f": float, "s": str}
_BITS = np.arange(STEPS, dtype=np.uint64)


# --------------------------------------------------------------------------------------------
# Argument lists


def pack(fields: Sequence[Field], values: dict) -> list:
    """The flat argument list of ``values`` ({field name: value, a sequence of ``count`` for a run}),
    in the layout's order, each value cast to its field's OSC type."""
    args = []
    for f in fields:
        cast, v = _CAST[f.type], values[f.name]
        if f.count == 1:
            args.append(cast(v))
        elif len(v) != f.count:
            raise ValueError(f"{f.name}: expected {f.count} values, got {len(v)}")
        else:
            args += map(cast, v)
    return args


def unpack(fields: Sequence[Field], args: Sequence, start: int = 0) -> dict:
    """{field name: argument (a list for a run)} of the layout's arguments from ``args[start]`` on."""
    out, i = {}, start
    for f in fields:
        out[f.name] = args[i] if f.count == 1 else list(args[i : i + f.count])
        i += f.count
    return out


def pack_reply(shape: Shape, values: dict, items: Sequence[Sequence] = ()) -> Message:
    """A reply message: its fixed fields from ``values``, then each item's group of arguments, in the
    repeat's order and already of its types (not cast: a /bg/notes chunk holds 240 of them)."""
    args = pack(shape.fields, values)
    group = len(layout_types(shape.repeat))
    if set(map(len, items)) - {group}:
        raise ValueError(f"{shape.address}: each group holds {group} arguments")
    args += [x for item in items for x in item]
    return shape.address, args, shape.types(len(items))


def unpack_reply(shape: Shape, args: Sequence) -> tuple[dict, list[dict]]:
    """A reply's fixed fields and its repeated groups, by name; ValueError when ``args`` does not
    fit the shape."""
    fixed, group = len(shape.types()), len(layout_types(shape.repeat))
    extra = len(args) - fixed
    repeats = extra // group if group else 0
    if extra < 0 or extra != repeats * group or repeats > shape.max_repeats:
        raise ValueError(f"a {shape.address} with {len(args)} arguments does not fit its shape")
    return unpack(shape.fields, args), [unpack(shape.repeat, args, fixed + k * group) for k in range(repeats)]


# --------------------------------------------------------------------------------------------
# Step masks and bit sets


def mask_to_steps(mask: int) -> np.ndarray:
    """(32,) float32 of 0/1: bit s -> step s."""
    return ((np.uint64(mask & UINT32_MAX) >> _BITS) & np.uint64(1)).astype(np.float32)


def steps_to_mask(steps) -> int:
    """A (32,) truthy array -> the step mask as a signed int32 (what OSC 'i' carries)."""
    bits = np.asarray(steps).reshape(STEPS).astype(bool)
    mask = int((bits.astype(np.uint64) << _BITS).sum())
    return mask - 2**32 if mask > INT32_MAX else mask


def lane_masks(hits) -> list[int]:
    """A (32, k) truthy array -> one signed int32 step mask per column."""
    bits = np.asarray(hits).astype(bool).astype(np.uint64)
    return [to_int32(int(m)) for m in (bits << _BITS[:, None]).sum(axis=0)]


def to_int32(mask: int) -> int:
    """An unsigned or signed 32-bit mask as a signed int32."""
    mask &= UINT32_MAX
    return mask - 2**32 if mask > INT32_MAX else mask


def bits(names: Iterable[str], vocabulary: Sequence[str]) -> int:
    """A bit set: bit i for ``vocabulary[i]`` among ``names`` (names outside the vocabulary are left out)."""
    return sum(1 << vocabulary.index(n) for n in set(names) if n in vocabulary)


def bit_names(mask: int, vocabulary: Sequence[str]) -> list[str]:
    return [n for i, n in enumerate(vocabulary) if mask >> i & 1]


# --------------------------------------------------------------------------------------------
# Datagrams


@cache
def _writers() -> dict:
    """python-osc's type writers, imported when the first datagram is written, so the protocol's facts
    (``device_spec``, which builds the device) need numpy alone."""
    from pythonosc.parsing import osc_types as t

    return {
        "i": t.write_int,
        "f": t.write_float,
        "s": t.write_string,
        "h": t.write_int64,
        "d": t.write_double,
        "b": t.write_blob,
    }


def osc_type(v) -> str:
    """The OSC type tag a Python value is sent as (int32 where it fits)."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError("bools are not sent")
    if isinstance(v, (int, np.integer)):
        return "i" if INT32_MIN <= int(v) <= INT32_MAX else "h"
    if isinstance(v, (float, np.floating)):
        return "f"
    if isinstance(v, str):
        return "s"
    if isinstance(v, (bytes, bytearray)):
        return "b"
    raise TypeError(f"cannot send a {type(v).__name__} over OSC")


def encode(address: str, args: Sequence, types: str | None = None) -> bytes:
    """One OSC message datagram. ``types`` (one tag per arg) overrides the guessed types."""
    if types is None:
        types = "".join([osc_type(a) for a in args])
    elif len(types) != len(args):
        raise ValueError("one type tag per argument")
    w = _writers()
    return b"".join([w["s"](address), w["s"]("," + types)] + [w[t](a) for t, a in zip(types, args)])


def encode_all(messages: Iterable[Message]) -> list[bytes]:
    return [encode(*m) for m in messages]
