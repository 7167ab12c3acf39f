"""The server's strict reading of requests, and the protocol's errors.

:func:`read_header` reads any request's id and reply port leniently (None for what cannot be
read); :func:`decode_header` and :func:`decode_generate` read an argument list strictly, field by
field as :data:`~.spec.REQUESTS` lays it out, into values or a :class:`GenerateMessage` holding an
``engine.Request``, or raise a :class:`~beatguide.errors.BeatGuideError` whose ``code`` is the
protocol's error code.

Rules, beyond the protocol text:

- Groove velocities / offsets on steps without a tap (or with the groove flag clear) are not
  range-checked, but must still be finite numbers. Flags above bit 2 are ``bad_value``.
- An int where a float is expected, or a whole float where an int is expected, is accepted; a
  non-whole float for an int, a string, blob, bool or nil where a number is expected is ``bad_args``.
  NaN, infinity or an out-of-range number is ``bad_value``.
- Seeds and request ids must fit an int32 (they are echoed back as int32).
- Error texts are fixed per field and kind (no values in them): Max keeps every symbol it sees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..engine import Request
from ..errors import BeatGuideError, InputError, NoInputError
from ..grid import STEPS
from ..phrases import Phrase
from .codec import mask_to_steps
from .spec import (
    ERROR_CODES,
    FLAG_ACCENTS,
    FLAG_GROOVE,
    FLAG_SCORE,
    GENERATE_ARGC,
    GENERATE_LAYOUT,
    HEADER,
    INT32_MIN,
    MASK,
    OLD_GENERATE_ARGC,
    PING,
    PROTOCOL_VERSION,
    TAPPED,
    UINT32_MAX,
    Field,
)


class BadArgsError(BeatGuideError):
    """Wrong argument count, or an argument whose type cannot be converted."""

    code = "bad_args"


class BusyError(BeatGuideError):
    """The request queue is full."""

    code = "busy"


class UnknownAddressError(BeatGuideError):
    """An OSC address the server does not serve."""

    code = "unknown_address"


class InternalError(BeatGuideError):
    """A bug."""

    code = "internal"


def protocol_code(exc: BaseException) -> str:
    """The protocol's error code for an exception: its ``code`` when the protocol knows it, else internal."""
    code = getattr(exc, "code", None)
    return code if code in ERROR_CODES else "internal"


# --------------------------------------------------------------------------------------------
# Argument conversion


def _number(v, what: str):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise BadArgsError(f"{what}: expected a number")
    return v


def as_int(v, what: str, lo: int, hi: int) -> int:
    """An int argument: an int, or a whole float; NaN, infinite or outside [lo, hi] is bad_value."""
    v = _number(v, what)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not math.isfinite(v):
            raise InputError(f"{what}: NaN or infinite")
        if not v.is_integer():
            raise BadArgsError(f"{what}: expected an int (a float must be a whole number)")
    v = int(v)
    if not lo <= v <= hi:
        raise InputError(f"{what}: must be {lo} to {hi}")
    return v


def as_float(v, what: str, lo: float, hi: float) -> float:
    """A float argument: an int or a float; NaN, infinite or outside [lo, hi] is bad_value."""
    v = _number(v, what)
    try:
        v = float(v)
    except OverflowError:  # an int too large for a double
        raise InputError(f"{what}: must be {lo:g} to {hi:g}") from None
    if not math.isfinite(v):
        raise InputError(f"{what}: NaN or infinite")
    if not lo <= v <= hi:
        raise InputError(f"{what}: must be {lo:g} to {hi:g}")
    return v


def as_mask(v, what: str) -> int:
    """A 32-bit step mask, sent signed (int32) or unsigned: returned unsigned, 0 .. 2**32-1."""
    return as_int(v, what, INT32_MIN, UINT32_MAX) & UINT32_MAX


def read_value(f: Field, v, what: str):
    """One argument of field ``f`` as the table says it: a string, mask, number, choice, or the name
    its index stands for; None for the field's ``unset`` value."""
    if f.type == "s":
        if not isinstance(v, str):
            raise BadArgsError(f"{what}: expected a string")
        return v
    if f.kind == MASK:
        return as_mask(v, what)
    if f.type == "f":
        return as_float(v, what, *f.bounds)
    v = as_int(v, what, *f.bounds)
    if v == f.unset:
        return None
    if f.choices and v not in f.choices:
        raise InputError(f"{what}: must be one of {', '.join(map(str, f.choices))}")
    return f.names[v] if f.names else v


def _read_fields(fields: Sequence[Field], args: Sequence) -> dict:
    """{field name: value (a list, or an array for groove values, for a run)}, checked in layout order,
    so the first bad argument is the one reported."""
    out, i = {}, 0
    for f in fields:
        if f.kind == TAPPED:
            out[f.name] = _tapped(f, args, i, _taps(out))
        else:
            values = [read_value(f, args[i + k], f"arg {i + k} {f.label or f.name}") for k in range(f.count)]
            out[f.name] = values[0] if f.count == 1 else values
        i += f.count
    return out


def _taps(read: dict) -> np.ndarray:
    """(32,) 0/1: the steps of the groove mask when the groove flag is set (what groove values are checked on)."""
    return mask_to_steps(read["groove_mask"]) if read["flags"] & FLAG_GROOVE else np.zeros(STEPS, np.float32)


def _tapped(f: Field, args: Sequence, first: int, taps: np.ndarray) -> np.ndarray:
    """A run of groove values: finite numbers, in the field's range on steps with a tap, zeroed elsewhere."""
    out = np.zeros(f.count, np.float32)
    for s in range(f.count):
        lo, hi = f.bounds if taps[s] else (-math.inf, math.inf)
        v = as_float(args[first + s], f"arg {first + s} {f.label or f.name}", lo, hi)
        out[s] = v if taps[s] else 0.0
    return out


# --------------------------------------------------------------------------------------------
# Requests


@dataclass
class GenerateMessage:
    """A decoded /bg/generate: who to answer and what to generate."""

    request_id: int
    reply_port: int
    request: Request
    flags: int = 0
    phrase: Phrase = field(default_factory=Phrase)


def read_header(args: Sequence) -> tuple[int | None, int | None]:
    """Request id and reply port of any request, leniently: None for what cannot be read. Never raises."""
    out = [None, None]
    for i, f in enumerate(HEADER):
        try:
            out[i] = read_value(f, args[i], f.name)
        except Exception:
            pass
    return out[0], out[1]


def reply_port_problem(args: Sequence) -> str:
    """Why :func:`read_header` found no reply port in ``args``, for the log."""
    port = HEADER[1]
    if len(args) < 2:
        return "no reply port (fewer than 2 arguments)"
    try:
        read_value(port, args[1], port.name)
    except InputError:
        return f"reply port {repr(args[1])[:40]} is outside {port.lo}-{port.hi}"
    except BeatGuideError:
        return f"2nd argument {repr(args[1])[:40]} is not a reply port (an int)"
    return "reply port readable"


def decode_header(args: Sequence, address: str = PING) -> tuple[int, int]:
    """The two arguments of /bg/ping and /bg/status, strictly."""
    if len(args) != len(HEADER):
        raise BadArgsError(f"{address} takes {len(HEADER)} arguments ({', '.join(f.name for f in HEADER)})")
    rid, port = (read_value(f, v, f.name) for f, v in zip(HEADER, args))
    return rid, port


def decode_generate(args: Sequence) -> GenerateMessage:
    """A /bg/generate argument list -> GenerateMessage; raises a BeatGuideError with a protocol code.

    Lane modes apply to every model. With flags bit 0 clear no score is sent: lanes marked given
    or exact are then left to the model (decide), empty lanes stay empty. Bit 0 set with no hit in
    any lane is ``no_input``: a score must hold a hit.
    """
    if len(args) in OLD_GENERATE_ARGC:
        raise BadArgsError(
            f"/bg/generate takes {GENERATE_ARGC} arguments in protocol {PROTOCOL_VERSION}; this request has "
            f"protocol {OLD_GENERATE_ARGC[len(args)]}'s layout: update the client (rebuild the device)"
        )
    if len(args) != GENERATE_ARGC:
        raise BadArgsError(f"/bg/generate takes {GENERATE_ARGC} arguments")
    v = _read_fields(GENERATE_LAYOUT, args)
    flags, modes = v["flags"], v["lane_modes"]
    score = None
    if flags & FLAG_SCORE:
        if not any(v["lane_masks"]):
            raise NoInputError("the score flag is set but no lane holds a hit")
        score = np.stack([mask_to_steps(m) for m in v["lane_masks"]], axis=1)  # (32, 9)
    else:
        modes = ["decide" if m in ("given", "exact") else m for m in modes]
    groove = None
    if flags & FLAG_GROOVE:
        groove = np.stack([_taps(v), v["groove_velocities"], v["groove_offsets"]], axis=1)
    req = Request(
        model=v["model"],
        variations=v["variations"],
        temperature=v["temperature"],
        seed=v["seed"],
        score_seed=v["score_seed"],
        groove_seed=v["groove_seed"],
        score=score,
        lane_modes=tuple(modes),
        groove=groove,
        accents=mask_to_steps(v["accent_mask"]) if flags & FLAG_ACCENTS else None,
        latent_source=v["latent_source"],
    )
    return GenerateMessage(
        v["request_id"], v["reply_port"], req, flags, Phrase(v["bars"], v["fill"], v["timing"], v["velocity"])
    )
